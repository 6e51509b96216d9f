package main

// Integration tests: the real trustwatch binary against the protocol-level
// simulator (internal/sim), the way users and the acceptance suite run it.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trustwatch/trustwatch/internal/sim"
	"github.com/trustwatch/trustwatch/internal/simtest"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "trustwatch-cli")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "trustwatch")
	if other := os.Getenv("TRUSTWATCH_TEST_BINARY"); other != "" {
		// Measure another build (say, main before a change) with the same tests.
		binary = other
	} else {
		build := exec.Command("go", "build", "-o", binary, ".")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "building trustwatch:", err)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
	took           time.Duration
}

// tw runs the binary with USBMUXD_SOCKET_ADDRESS pointing at addr.
func tw(t *testing.T, addr string, args ...string) result {
	t.Helper()
	return twWith(t, binaryCmd, addr, args...)
}

// cmdFunc makes the command that runs trustwatch with args: the Linux
// binary here, the Windows exe under Wine in wine_test.go.
type cmdFunc func(ctx context.Context, args ...string) *exec.Cmd

func binaryCmd(ctx context.Context, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, binary, args...)
}

func twWith(t *testing.T, command cmdFunc, addr string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := command(ctx, args...)
	cmd.Env = append(os.Environ(), "USBMUXD_SOCKET_ADDRESS="+addr)
	if addr == "" {
		cmd.Env = os.Environ() // the OS default
	}
	// Files, not pipes: a helper the program starts (Wine's services and
	// explorer) may inherit its output handles and outlive it; Wait must
	// end with the program itself.
	outf, errf := tempOutput(t), tempOutput(t)
	cmd.Stdout, cmd.Stderr = outf, errf
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: readOutput(t, outf), stderr: readOutput(t, errf), took: time.Since(start)}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running trustwatch %v: %v", args, err)
	}
	if strings.Contains(r.stderr, "panic") || strings.Contains(r.stderr, "goroutine ") {
		t.Fatalf("trustwatch %v panicked:\n%s", args, r.stderr)
	}
	return r
}

func tempOutput(t *testing.T) *os.File {
	t.Helper()
	f, err := os.CreateTemp("", "trustwatch-out-")
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(f.Name()) // unlinked: gone when closed
	return f
}

func readOutput(t *testing.T, f *os.File) string {
	t.Helper()
	defer f.Close()
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

type statusJSON struct {
	Usbmux struct {
		Address   string `json:"address"`
		Reachable bool   `json:"reachable"`
		Error     string `json:"error"`
	} `json:"usbmux"`
	Devices []map[string]any `json:"devices"`
}

func statusOf(t *testing.T, addr string, args ...string) (statusJSON, result) {
	t.Helper()
	return statusWith(t, binaryCmd, addr, args...)
}

func statusWith(t *testing.T, command cmdFunc, addr string, args ...string) (statusJSON, result) {
	t.Helper()
	r := twWith(t, command, addr, append([]string{"status", "--json"}, args...)...)
	var s statusJSON
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
		t.Fatalf("status --json printed no JSON (exit %d): %v\nstdout: %s\nstderr: %s", r.code, err, r.stdout, r.stderr)
	}
	return s, r
}

func startSim(t *testing.T) *sim.Server {
	t.Helper()
	return simtest.Start(t, sim.Options{Logf: t.Logf})
}

var contractFields = []string{"udid", "name", "product_type", "ios_version", "connection", "state", "summary", "guide", "detail"}

// lockdownStates are the contract states a phone on usbmuxd can be in,
// with the simulated phone that shows each.
var lockdownStates = []struct {
	want  string
	cfg   sim.DeviceConfig
	args  []string
	pairs int // Pair requests the phone may see
}{
	{"ready", sim.DeviceConfig{Trusted: true}, nil, 0},
	{"locked", sim.DeviceConfig{Trusted: true, Locked: true}, nil, 0},
	{"locked-since-restart", sim.DeviceConfig{Trusted: true, BFU: true}, nil, 0},
	{"untrusted", sim.DeviceConfig{}, []string{"--no-pair"}, 0},
	{"untrusted-locked", sim.DeviceConfig{Locked: true}, nil, 1},
	{"trust-pending", sim.DeviceConfig{}, nil, 1},
	{"trust-denied", sim.DeviceConfig{Denied: true}, nil, 1},
	{"trust-revoked", sim.DeviceConfig{Revoked: true}, nil, 0},
	{"trust-revoked", sim.DeviceConfig{BadRecord: true}, nil, 0},
}

func TestStatusEveryLockdownState(t *testing.T) {
	for _, c := range lockdownStates {
		t.Run(c.want+strings.Join(c.args, ""), func(t *testing.T) {
			s := startSim(t)
			checkStatusState(t, s, binaryCmd, s.Address(), c.want, c.cfg, c.args, c.pairs)
		})
	}
}

// checkStatusState adds one phone and checks what `status --json` says.
func checkStatusState(t *testing.T, s *sim.Server, command cmdFunc, addr, want string, cfg sim.DeviceConfig, args []string, pairs int) {
	t.Helper()
	cfg.Name = "Anna's iPhone"
	d := s.AddDevice(cfg)
	before, _ := s.PairRecord(d.UDID())
	st, r := statusWith(t, command, addr, args...)
	if r.code != 0 || !st.Usbmux.Reachable || len(st.Devices) != 1 {
		t.Fatalf("exit %d, %+v\nstderr: %s", r.code, st, r.stderr)
	}
	dev := st.Devices[0]
	for _, f := range contractFields {
		if _, ok := dev[f].(string); !ok {
			t.Errorf("field %q missing or not a string: %v", f, dev)
		}
	}
	if dev["state"] != want || dev["udid"] != d.UDID() || dev["name"] != "Anna's iPhone" || dev["connection"] != "usb" {
		t.Fatalf("got %v", dev)
	}
	if got := d.Stats().PairRequests; got > pairs {
		t.Errorf("%d Pair requests, at most %d allowed", got, pairs)
	}
	after, _ := s.PairRecord(d.UDID())
	if string(before) != string(after) {
		t.Error("status changed the host's pair record; it must never write one")
	}
	t.Logf("%s in %v", want, r.took)
}

func TestStatusTextAndNoDevices(t *testing.T) {
	s := startSim(t)
	st, r := statusOf(t, s.Address())
	if r.code != 0 || st.Devices == nil || len(st.Devices) != 0 || !strings.Contains(r.stdout, `"devices":[]`) {
		t.Fatalf("no devices: exit %d %s", r.code, r.stdout)
	}
	s.AddDevice(sim.DeviceConfig{Name: "Anna's iPhone"})
	r = tw(t, s.Address(), "status")
	if r.code != 0 || !strings.Contains(r.stdout, "Anna's iPhone  trust-pending  Tap Trust on your iPhone") {
		t.Fatalf("text: %q", r.stdout)
	}
}

func TestStatusIgnoresWiFiEntries(t *testing.T) {
	s := startSim(t)
	s.AddDevice(sim.DeviceConfig{Trusted: true, Network: true})
	st, _ := statusOf(t, s.Address())
	if len(st.Devices) != 1 {
		t.Fatalf("want the USB entry only, got %d devices", len(st.Devices))
	}
}

func TestStatusUsbmuxdAbsent(t *testing.T) {
	for _, addr := range []string{"UNIX://" + filepath.Join(t.TempDir(), "none.sock"), "127.0.0.1:1"} {
		st, r := statusOf(t, addr)
		if r.code != 3 || st.Usbmux.Reachable || st.Usbmux.Error == "" || len(st.Devices) != 0 {
			t.Fatalf("%s: exit %d %+v", addr, r.code, st)
		}
		if r.took > 5*time.Second {
			t.Errorf("absent usbmuxd took %v", r.took)
		}
	}
}

func TestStatusAddressForms(t *testing.T) {
	s := startSim(t)
	s.AddDevice(sim.DeviceConfig{Trusted: true})
	p := s.SocketPath()
	for _, addr := range []string{"UNIX://" + p, "UNIX:" + p, "unix://" + p, p} {
		st, r := statusOf(t, addr)
		if r.code != 0 || len(st.Devices) != 1 || st.Devices[0]["state"] != "ready" {
			t.Errorf("%s: exit %d %+v %s", addr, r.code, st, r.stderr)
		}
	}
	r := tw(t, "ftp://nowhere", "status")
	if r.code != 2 || !strings.Contains(r.stderr, "USBMUXD_SOCKET_ADDRESS") && !strings.Contains(r.stderr, "address") {
		t.Errorf("bad address: exit %d %q", r.code, r.stderr)
	}
}

func TestStatusHangingLockdownIsBounded(t *testing.T) {
	for _, f := range []sim.Fault{sim.FaultLockdownSilent, sim.FaultLockdownGarbage, sim.FaultLockdownReset, sim.FaultTLSStall} {
		t.Run(f.String(), func(t *testing.T) {
			s := startSim(t)
			s.AddDevice(sim.DeviceConfig{Trusted: true, Fault: f})
			st, r := statusOf(t, s.Address(), "--timeout", "8s")
			if r.code != 0 || len(st.Devices) != 1 {
				t.Fatalf("exit %d %+v", r.code, st)
			}
			if st.Devices[0]["state"] != "error" || st.Devices[0]["detail"] == "" {
				t.Fatalf("want error with detail, got %v", st.Devices[0])
			}
			if r.took > 7*time.Second {
				t.Errorf("took %v; the probe budget is 5 s", r.took)
			}
		})
	}
}

func TestStatusGarbageFromUsbmuxd(t *testing.T) {
	for _, f := range []sim.MuxFault{sim.MuxFaultShortHeader, sim.MuxFaultTruncated, sim.MuxFaultHugeLength, sim.MuxFaultJunk, sim.MuxFaultBadPlist, sim.MuxFaultSilent, sim.MuxFaultClose} {
		t.Run(f.String(), func(t *testing.T) {
			s := startSim(t)
			s.SetMuxFault(f)
			st, r := statusOf(t, s.Address(), "--timeout", "5s")
			if r.code != 3 || st.Usbmux.Reachable || st.Usbmux.Error == "" {
				t.Fatalf("exit %d %+v", r.code, st)
			}
		})
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"bogus"}, {"status", "--bogus"}, {"watch", "extra"}, {"status", "--timeout", "x"}} {
		r := tw(t, "/nonexistent", args...)
		if r.code != 2 || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 || r.stderr == "" {
			t.Errorf("%v: exit %d, stderr %q", args, r.code, r.stderr)
		}
	}
	for _, args := range [][]string{{"--help"}, {"status", "--help"}, {"watch", "--help"}, {"version"}} {
		if r := tw(t, "/nonexistent", args...); r.code != 0 || r.stdout == "" {
			t.Errorf("%v: exit %d", args, r.code)
		}
	}
}

// watcher runs `trustwatch watch --json` and collects its lines.
type watchProc struct {
	t     *testing.T
	cmd   *exec.Cmd
	mu    sync.Mutex
	lines []map[string]any
	raw   []string
	cond  chan struct{}
}

func startWatch(t *testing.T, addr string, args ...string) *watchProc {
	t.Helper()
	return startWatchWith(t, binaryCmd, true, addr, args...)
}

// startWatchWith runs `watch --json`; interruptible says whether SIGINT
// must stop it (not under Wine, which turns no signal into Ctrl+C for a
// process without a console: that one is killed).
func startWatchWith(t *testing.T, command cmdFunc, interruptible bool, addr string, args ...string) *watchProc {
	t.Helper()
	cmd := command(context.Background(), append([]string{"watch", "--json"}, args...)...)
	cmd.WaitDelay = 2 * time.Second
	base := cmd.Env // what command set, else this process's
	if base == nil {
		base = os.Environ()
	}
	cmd.Env = append(base, "USBMUXD_SOCKET_ADDRESS="+addr)
	if addr == "" {
		cmd.Env = base // the OS default
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errb strings.Builder
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w := &watchProc{t: t, cmd: cmd, cond: make(chan struct{}, 1)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Errorf("watch printed a non-JSON line: %q", sc.Text())
				continue
			}
			w.mu.Lock()
			w.lines = append(w.lines, m)
			w.raw = append(w.raw, sc.Text())
			w.mu.Unlock()
			select {
			case w.cond <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() {
		if !interruptible {
			cmd.Process.Kill()
		}
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			t.Error("watch did not exit on SIGINT")
		}
		cmd.Wait()
		if strings.Contains(errb.String(), "panic") {
			t.Errorf("watch panicked:\n%s", errb.String())
		}
	})
	return w
}

// waitFor waits until a line satisfies ok, returning it.
func (w *watchProc) waitFor(what string, within time.Duration, ok func(map[string]any) bool) map[string]any {
	w.t.Helper()
	deadline := time.After(within)
	seen := 0
	for {
		w.mu.Lock()
		for ; seen < len(w.lines); seen++ {
			if ok(w.lines[seen]) {
				l := w.lines[seen]
				seen++
				w.mu.Unlock()
				return l
			}
		}
		w.mu.Unlock()
		select {
		case <-w.cond:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			w.mu.Lock()
			defer w.mu.Unlock()
			w.t.Fatalf("no line for %s within %v; lines:\n%s", what, within, strings.Join(w.raw, "\n"))
		}
	}
}

func (w *watchProc) count(ok func(map[string]any) bool) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, l := range w.lines {
		if ok(l) {
			n++
		}
	}
	return n
}

func stateIs(udid, state string) func(map[string]any) bool {
	return func(m map[string]any) bool { return m["udid"] == udid && m["state"] == state }
}

func muxReachable(v bool) func(map[string]any) bool {
	return func(m map[string]any) bool {
		u, ok := m["usbmux"].(map[string]any)
		return ok && u["reachable"] == v
	}
}

// The story of the tray: locked and untrusted → unlocked → Trust prompt →
// Trust tapped → ready, one Pair reaching the dialog, and a saved record
// that libimobiledevice accepts.
func TestWatchUnlockAndTrustStory(t *testing.T) {
	s := startSim(t)
	w := startWatch(t, s.Address())
	w.waitFor("usbmuxd reachable", 5*time.Second, muxReachable(true))
	d := s.AddDevice(sim.DeviceConfig{Name: "Anna's iPhone", Locked: true})
	l := w.waitFor("untrusted-locked", 5*time.Second, stateIs(d.UDID(), "untrusted-locked"))
	if l["guide"] != "step-1" || l["name"] != "Anna's iPhone" {
		t.Errorf("line %v", l)
	}
	d.Unlock()
	w.waitFor("trust-pending", 5*time.Second, stateIs(d.UDID(), "trust-pending"))
	// Nobody taps within 200 ms of the prompt appearing; the pause also lets
	// the simulator's proxy goroutine register the subscription that
	// trustwatch wrote before its Pair.
	time.Sleep(200 * time.Millisecond)
	tapped := time.Now()
	d.TapTrust()
	w.waitFor("ready", 5*time.Second, stateIs(d.UDID(), "ready"))
	t.Logf("Trust tap → ready: %v", time.Since(tapped))
	st := d.Stats()
	if st.DialogShows != 1 || st.DialogFlashes != 0 {
		t.Errorf("dialog shown %d times, flashed %d times", st.DialogShows, st.DialogFlashes)
	}
	if _, ok := s.PairRecord(d.UDID()); !ok {
		t.Fatal("the approved pairing was not saved through usbmuxd")
	}
	// The saved record works for other software.
	if path, err := exec.LookPath("idevicepair"); err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, path, "-u", d.UDID(), "validate")
		cmd.Env = append(os.Environ(), "USBMUXD_SOCKET_ADDRESS="+s.Address())
		out, _ := cmd.CombinedOutput()
		if !strings.Contains(string(out), "SUCCESS") {
			t.Errorf("idevicepair validate: %s", out)
		}
	} else if os.Getenv("CI") == "true" {
		t.Fatal("idevicepair missing in CI")
	} else {
		t.Log("SKIPPING idevicepair cross-check: libimobiledevice-utils not installed")
	}
}

func TestWatchAttachDetachAndUsbmuxdRestart(t *testing.T) {
	s := startSim(t)
	w := startWatch(t, s.Address())
	w.waitFor("usbmuxd reachable", 5*time.Second, muxReachable(true))
	d := s.AddDevice(sim.DeviceConfig{Trusted: true})
	w.waitFor("ready", 5*time.Second, stateIs(d.UDID(), "ready"))
	s.Stop()
	w.waitFor("usbmuxd unreachable", 5*time.Second, muxReachable(false))
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	back := time.Now()
	w.waitFor("usbmuxd back", 5*time.Second, muxReachable(true))
	if took := time.Since(back); took > 2*time.Second {
		t.Errorf("reconnected %v after usbmuxd returned; want ≤ 2 s", took)
	}
	time.Sleep(500 * time.Millisecond)
	if n := w.count(stateIs(d.UDID(), "ready")); n != 1 {
		t.Errorf("ready reported %d times across a usbmuxd restart; want 1", n)
	}
	d.Detach()
	w.waitFor("detached", 5*time.Second, func(m map[string]any) bool { return m["udid"] == d.UDID() && m["detached"] == true })
	d.Attach()
	deadline := time.Now().Add(5 * time.Second)
	for w.count(stateIs(d.UDID(), "ready")) < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := w.count(stateIs(d.UDID(), "ready")); n != 2 {
		w.mu.Lock()
		t.Errorf("ready lines %d after a replug, want 2:\n%s", n, strings.Join(w.raw, "\n"))
		w.mu.Unlock()
	}
}

func TestWatchPrintsValidLinesForEveryChange(t *testing.T) {
	s := startSim(t)
	w := startWatch(t, s.Address())
	d := s.AddDevice(sim.DeviceConfig{Trusted: true, Locked: true})
	w.waitFor("locked", 5*time.Second, stateIs(d.UDID(), "locked"))
	d.Unlock()
	l := w.waitFor("ready after unlock", 6*time.Second, stateIs(d.UDID(), "ready"))
	if l["previous"] != "locked" || l["guide"] != "verify" {
		t.Errorf("line %v", l)
	}
	if _, err := time.Parse(time.RFC3339Nano, l["time"].(string)); err != nil {
		t.Errorf("time %v", l["time"])
	}
	_ = io.Discard
}
