//go:build linux

package main

// The real binary against hostile usbmuxd servers and phones: every run is
// bounded in time and memory, says what went wrong, and never panics. Each
// test logs its figures (wall time, peak RSS, CPU) so a run against an
// older build (TRUSTWATCH_TEST_BINARY) gives the "before".

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/trustwatch/trustwatch/internal/hostile"
	"github.com/trustwatch/trustwatch/internal/sim"
	"github.com/trustwatch/trustwatch/watcher"
	"github.com/trustwatch/trustwatch/watcher/lockdown"
)

type measured struct {
	result
	rssMB float64 // peak resident set
	cpu   time.Duration
}

// twMeasured runs the binary with env added, killing it after limit.
func twMeasured(t *testing.T, env []string, limit time.Duration, args ...string) measured {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(append(os.Environ(), "XDG_RUNTIME_DIR="+shortTempDir(t)), env...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	peak := watchPeakRSS(cmd.Process.Pid)
	err := cmd.Wait()
	m := measured{result: result{stdout: out.String(), stderr: errb.String(), took: time.Since(start)}}
	if ee, ok := err.(*exec.ExitError); ok {
		m.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running trustwatch %v: %v", args, err)
	}
	m.rssMB = peak()
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		m.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if ctx.Err() != nil {
		t.Errorf("trustwatch %v still ran after %v (killed; peak RSS %.0f MB)", args, limit, m.rssMB)
	}
	if strings.Contains(m.stderr, "panic") || strings.Contains(m.stderr, "goroutine ") {
		t.Fatalf("trustwatch %v panicked:\n%s", args, m.stderr)
	}
	t.Logf("figures: %v took %v, peak RSS %.1f MB, CPU %v, exit %d", args, m.took.Round(time.Millisecond), m.rssMB, m.cpu.Round(time.Millisecond), m.code)
	return m
}

// watchPeakRSS samples /proc/PID/status's VmHWM (the peak resident set)
// until the process ends; the returned func gives the last value in MB.
// (wait4's ru_maxrss would count the test process's own memory at fork.)
func watchPeakRSS(pid int) func() float64 {
	var mu sync.Mutex
	var peak float64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
				for _, l := range strings.Split(string(b), "\n") {
					if strings.HasPrefix(l, "VmHWM:") {
						var kb float64
						fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(l, "VmHWM:")), "%f", &kb)
						mu.Lock()
						peak = max(peak, kb/1024)
						mu.Unlock()
					}
				}
			}
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	return func() float64 {
		close(stop)
		<-done
		mu.Lock()
		defer mu.Unlock()
		return peak
	}
}

// shortTempDir is a temp dir with a short path (unix socket paths are
// limited to about 100 bytes).
func shortTempDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "tw")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(d, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

func startHostile(t *testing.T, opts hostile.Options) *hostile.Server {
	t.Helper()
	s, err := hostile.Start(shortTempDir(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func statusJSONOf(t *testing.T, m measured) statusJSON {
	t.Helper()
	var s statusJSON
	if err := json.Unmarshal([]byte(m.stdout), &s); err != nil {
		t.Fatalf("status --json printed no JSON (exit %d): %v\nstdout: %.300s\nstderr: %.300s", m.code, err, m.stdout, m.stderr)
	}
	return s
}

// A Listen reply nested 450,000 deep (binary, 3.6 MB) or 250,000 deep
// (XML, 3.75 MB), or a few hundred bytes that fan out into 2^64 values: a
// clear error within --timeout, in little memory.
func TestStatusHostilePlistsAreBounded(t *testing.T) {
	cases := []struct {
		name string
		body []byte
		want string // in usbmux.error
	}{
		// The sizes are over the frame cap: refused unread.
		{"binary-450000-deep", hostile.DeepBinary(450_000), "exceeds"},
		{"xml-250000-deep", hostile.DeepXML(250_000), "exceeds"},
		// Under the cap, the decoder's limits refuse them.
		{"binary-250000-deep", hostile.DeepBinary(250_000), "nested too deeply"},
		{"xml-130000-deep", hostile.DeepXML(130_000), "nested too deeply"},
		{"binary-fan-out-2^64", hostile.FanOutBinary(64), "nested too deeply"},
		{"binary-fan-out-2^20", hostile.FanOutBinary(20), "too many values"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := startHostile(t, hostile.Options{ListenReply: c.body, ListDevicesReply: c.body})
			m := twMeasured(t, []string{"USBMUXD_SOCKET_ADDRESS=" + s.Address()}, 20*time.Second, "status", "--json", "--timeout", "2s")
			st := statusJSONOf(t, m)
			if m.code != 3 || st.Usbmux.Reachable || !strings.Contains(st.Usbmux.Error, c.want) {
				t.Fatalf("exit %d, usbmux %+v", m.code, st.Usbmux)
			}
			if m.took > 2500*time.Millisecond {
				t.Errorf("took %v with --timeout 2s", m.took)
			}
			if m.rssMB > 80 {
				t.Errorf("peak RSS %.0f MB", m.rssMB)
			}
		})
	}
}

// A device list far beyond any real host: 3,000 phones in Linux usbmuxd's
// own format (1.57 MB, under the frame cap). The first probes start at
// once, the list costs little, 512 devices are followed and one line says
// so. A 10,000-entry list (5.2 MB) is refused as over the frame cap.
func TestStatusHugeDeviceList(t *testing.T) {
	t.Parallel()
	const n = 3000
	s := startHostile(t, hostile.Options{ListDevicesReply: hostile.DeviceListXML(n), AfterListen: hostile.AttachedList(n)})
	start := time.Now()
	m := twMeasured(t, []string{"USBMUXD_SOCKET_ADDRESS=" + s.Address()}, 30*time.Second, "status", "--json", "--no-pair", "--timeout", "10s")
	st := statusJSONOf(t, m)
	if m.code != 0 || len(st.Devices) != watcher.MaxTrackedDevices {
		t.Fatalf("exit %d, %d devices, stderr %.300s", m.code, len(st.Devices), m.stderr)
	}
	if first := s.FirstConnect.Load(); first == 0 || time.Unix(0, first).Sub(start) > 2*time.Second {
		t.Errorf("first probe %v after start", time.Unix(0, first).Sub(start))
	} else {
		t.Logf("figures: first probe (Connect) %v after start; %d Connects", time.Unix(0, first).Sub(start).Round(time.Millisecond), s.Connects.Load())
	}
	if got := strings.Count(m.stderr, "follows the first 512"); got != 1 {
		t.Errorf("%d cap lines on stderr, want 1:\n%.500s", got, m.stderr)
	}
	if m.took > 5*time.Second {
		t.Errorf("took %v", m.took)
	}

	big := startHostile(t, hostile.Options{ListDevicesReply: hostile.DeviceListXML(10_000)})
	m = twMeasured(t, []string{"USBMUXD_SOCKET_ADDRESS=" + big.Address()}, 30*time.Second, "status", "--json", "--timeout", "10s")
	st = statusJSONOf(t, m)
	if m.code != 3 || !strings.Contains(st.Usbmux.Error, "exceeds") || m.took > 3*time.Second {
		t.Errorf("10,000 entries: exit %d in %v, %+v", m.code, m.took, st.Usbmux)
	}
}

// A flood of Attached events with ever new devices: memory stays bounded
// by the device cap, one line says so, and the flood does not take a core.
func TestWatchAttachedFlood(t *testing.T) {
	t.Parallel()
	s := startHostile(t, hostile.Options{AfterListen: hostile.AttachedFlood})
	env := []string{"USBMUXD_SOCKET_ADDRESS=" + s.Address()}
	cmd := exec.Command(binary, "watch", "--json", "--no-pair")
	cmd.Env = append(append(os.Environ(), "XDG_RUNTIME_DIR="+shortTempDir(t)), env...)
	var errb strings.Builder
	cmd.Stderr = &errb
	cmd.Stdout = nil
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	peak := watchPeakRSS(cmd.Process.Pid)
	const run = 8 * time.Second
	time.Sleep(run)
	_ = cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Error("watch did not stop on SIGINT")
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	rss, cpu := peak(), time.Duration(ru.Utime.Nano()+ru.Stime.Nano())
	t.Logf("figures: Attached flood for %v: peak RSS %.1f MB, CPU %v (%.0f%%)", run, rss, cpu.Round(time.Millisecond), 100*cpu.Seconds()/run.Seconds())
	if n := strings.Count(errb.String(), "follows the first 512"); n != 1 {
		t.Errorf("%d cap lines, want 1:\n%.500s", n, errb.String())
	}
	if rss > 80 {
		t.Errorf("peak RSS %.0f MB", rss)
	}
	if cpu > run/2 {
		t.Errorf("CPU %v in %v", cpu, run)
	}
}

// A phone whose every lockdown answer is a 3 MB Error string: the status
// line stays a line.
func TestStatusHugeErrorString(t *testing.T) {
	t.Parallel()
	code := strings.Repeat("E", 3<<20)
	s := startHostile(t, hostile.Options{
		ListDevicesReply: hostile.DeviceListXML(1),
		AfterListen:      hostile.AttachedList(1),
		Lockdown:         hostile.LockdownError(code),
	})
	m := twMeasured(t, []string{"USBMUXD_SOCKET_ADDRESS=" + s.Address()}, 30*time.Second, "status", "--timeout", "5s")
	lines := strings.Split(strings.TrimSpace(m.stdout), "\n")
	t.Logf("figures: status line %d bytes", len(m.stdout))
	if m.code != 0 || len(lines) != 1 || len(lines[0]) > 600 || !strings.Contains(lines[0], "error") {
		t.Fatalf("exit %d, %d lines, first %d bytes: %.200s", m.code, len(lines), len(lines[0]), lines[0])
	}
}

// Ctrl-C and SIGTERM end status with "interrupted" and the shell's codes,
// and no verdict about the phone.
func TestStatusInterrupted(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		sig  os.Signal
		code int
	}{{os.Interrupt, 130}, {syscall.SIGTERM, 143}} {
		srv := startSim(t)
		srv.AddDevice(sim.DeviceConfig{Trusted: true, Fault: sim.FaultLockdownSilent})
		cmd := exec.Command(binary, "status", "--json")
		cmd.Env = append(os.Environ(), "USBMUXD_SOCKET_ADDRESS="+srv.Address(), "XDG_RUNTIME_DIR="+shortTempDir(t))
		var out, errb strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		sent := time.Now()
		_ = cmd.Process.Signal(c.sig)
		err := cmd.Wait()
		code := -1
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err == nil {
			code = 0
		}
		t.Logf("figures: %v → exit %d in %v, stderr %q", c.sig, code, time.Since(sent).Round(time.Millisecond), errb.String())
		if code != c.code || out.Len() != 0 || !strings.Contains(errb.String(), "interrupted") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", c.sig, code, out.String(), errb.String())
		}
	}
}

// --timeout is a hard bound on the whole run, however the phone behaves.
func TestStatusTimeoutIsHard(t *testing.T) {
	t.Parallel()
	srv := startSim(t)
	srv.AddDevice(sim.DeviceConfig{Trusted: true, Fault: sim.FaultTLSStall})
	m := twMeasured(t, []string{"USBMUXD_SOCKET_ADDRESS=" + srv.Address()}, 20*time.Second, "status", "--json", "--timeout", "1s")
	st := statusJSONOf(t, m)
	if m.took > 1500*time.Millisecond || len(st.Devices) != 1 || st.Devices[0]["state"] != "error" {
		t.Fatalf("took %v, %+v", m.took, st)
	}
}

// A usbmuxd whose connection queue is full (EAGAIN): retried, then named
// as busy.
func TestStatusUsbmuxdBusy(t *testing.T) {
	t.Parallel()
	full, err := hostile.StartFull(shortTempDir(t))
	if err != nil {
		t.Fatal(err)
	}
	defer full.Close()
	m := twMeasured(t, []string{"USBMUXD_SOCKET_ADDRESS=" + full.Address()}, 20*time.Second, "status", "--json")
	st := statusJSONOf(t, m)
	t.Logf("figures: error %q", st.Usbmux.Error)
	if m.code != 3 || !strings.HasPrefix(st.Usbmux.Error, "usbmuxd is busy") || m.took > 4*time.Second {
		t.Fatalf("exit %d in %v: %+v", m.code, m.took, st.Usbmux)
	}
	var raw map[string]map[string]any
	_ = json.Unmarshal([]byte(m.stdout), &raw)
	if raw["usbmux"]["state"] != "busy" {
		t.Errorf("usbmux state %v", raw["usbmux"]["state"])
	}
}

// A daemon that hangs up the Listen connection right after answering is
// retried with a growing backoff and logged once.
func TestWatchListenDroppedRightAway(t *testing.T) {
	t.Parallel()
	s := startHostile(t, hostile.Options{DropListen: true})
	cmd := exec.Command(binary, "watch", "--json")
	cmd.Env = append(os.Environ(), "USBMUXD_SOCKET_ADDRESS="+s.Address(), "XDG_RUNTIME_DIR="+shortTempDir(t))
	var errb strings.Builder
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	const run = 5 * time.Second
	time.Sleep(run)
	_ = cmd.Process.Signal(os.Interrupt)
	_ = cmd.Wait()
	n := s.Listens.Load()
	t.Logf("figures: %d Listen connections in %v", n, run)
	if n > 12 {
		t.Errorf("%d reconnects in %v; the backoff must grow when connections do not last", n, run)
	}
}

// Culprits: a bare binary Result 0 to ListDevices is usbmuxd's fault; a
// broken host key in the stored record is this computer's.
func TestErrorsNameTheCulprit(t *testing.T) {
	t.Parallel()
	zero := uint32(0)
	s := startHostile(t, hostile.Options{ListDevicesBinaryResult: &zero})
	m := twMeasured(t, []string{"USBMUXD_SOCKET_ADDRESS=" + s.Address()}, 20*time.Second, "status", "--json")
	st := statusJSONOf(t, m)
	if m.code != 3 || strings.Contains(st.Usbmux.Error, "failed with result 0") || !strings.Contains(st.Usbmux.Error, "without a device list") {
		t.Errorf("binary Result 0: exit %d, %q", m.code, st.Usbmux.Error)
	}

	srv := startSim(t)
	d := srv.AddDevice(sim.DeviceConfig{Trusted: true})
	raw, _ := srv.PairRecord(d.UDID())
	rec, err := lockdown.ParsePairRecord(raw)
	if err != nil {
		t.Fatal(err)
	}
	rec.HostPrivateKey = []byte("-----BEGIN RSA PRIVATE KEY-----\nbroken\n-----END RSA PRIVATE KEY-----\n")
	broken, _ := rec.Marshal()
	srv.SetPairRecord(d.UDID(), broken)
	m = twMeasured(t, []string{"USBMUXD_SOCKET_ADDRESS=" + srv.Address()}, 20*time.Second, "status", "--json")
	st = statusJSONOf(t, m)
	if len(st.Devices) != 1 {
		t.Fatalf("%+v", st)
	}
	detail, _ := st.Devices[0]["detail"].(string)
	if strings.Contains(detail, "iPhone rejected") || !strings.Contains(detail, "this computer's stored pair record is broken") {
		t.Errorf("broken host key: %v", st.Devices[0])
	}
}

// usbmuxd restarted three times within 20 s, 4 s down each time: the
// phone is not called unstable, not dropped and not announced again.
func TestWatchUsbmuxdRestartsAreNotTheCable(t *testing.T) {
	t.Parallel()
	s := startSim(t)
	d := s.AddDevice(sim.DeviceConfig{Trusted: true, Name: "Anna's iPhone"})
	w := startWatch(t, s.Address())
	w.waitFor("ready", 10*time.Second, stateIs(d.UDID(), "ready"))
	for i := 0; i < 3; i++ {
		if err := s.Stop(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(4 * time.Second)
		if err := s.Restart(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Second)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	var about []string
	for i, l := range w.lines {
		if l["udid"] == d.UDID() {
			about = append(about, w.raw[i])
		}
	}
	t.Logf("figures: lines about the phone over 3 restarts: %d", len(about))
	if len(about) != 2 { // probing, ready: the first plug only
		t.Errorf("want only the first probing and ready lines, got:\n%s", strings.Join(about, "\n"))
	}
}
