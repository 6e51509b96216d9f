package main

// fix and forget, end to end: the real binary against the simulator, at the
// default settings, with a person's pace (the Trust tap comes seconds after
// the question appears), and libimobiledevice checking the saved pairing.

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/trustwatch/trustwatch/internal/sim"
)

// proc is a running trustwatch whose stdout lines the test waits for.
type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	mu     sync.Mutex
	out    []string
	stderr strings.Builder
	lines  chan string
	done   chan struct{}
	code   int
}

func startTW(t *testing.T, addr, stdin string, args ...string) *proc {
	t.Helper()
	return startTWEnv(t, addr, stdin, nil, args...)
}

// startTWEnv is startTW with exactly the locale variables in env (when
// env is not nil).
func startTWEnv(t *testing.T, addr, stdin string, env map[string]string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), "USBMUXD_SOCKET_ADDRESS="+addr)
	if env != nil {
		cmd.Env = []string{"USBMUXD_SOCKET_ADDRESS=" + addr}
		for _, kv := range os.Environ() {
			k, _, _ := strings.Cut(kv, "=")
			if k != "LANG" && k != "LANGUAGE" && !strings.HasPrefix(k, "LC_") && k != "TRUSTWATCH_LANG" && k != "USBMUXD_SOCKET_ADDRESS" {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		for k, v := range env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	cmd.Stdin = strings.NewReader(stdin)
	p := &proc{t: t, cmd: cmd, lines: make(chan string, 64), done: make(chan struct{})}
	cmd.Stderr = &lockedBuilder{mu: &p.mu, b: &p.stderr}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.mu.Lock()
			p.out = append(p.out, sc.Text())
			p.mu.Unlock()
			p.lines <- sc.Text()
		}
		err := cmd.Wait()
		if ee, ok := err.(*exec.ExitError); ok {
			p.code = ee.ExitCode()
		}
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

type lockedBuilder struct {
	mu *sync.Mutex
	b  *strings.Builder
}

func (l *lockedBuilder) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *lockedBuilder) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(b)
}

// waitLine waits for a stdout line containing s and returns when it came.
func (p *proc) waitLine(s string, within time.Duration) time.Time {
	p.t.Helper()
	deadline := time.After(within)
	for {
		select {
		case l := <-p.lines:
			if strings.Contains(l, s) {
				return time.Now()
			}
		case <-p.done:
			p.t.Fatalf("exited (%d) before printing %q; stdout %q stderr %q", p.code, s, p.stdout(), p.errText())
		case <-deadline:
			p.t.Fatalf("no line with %q within %v; stdout %q stderr %q", s, within, p.stdout(), p.errText())
		}
	}
}

func (p *proc) wait(within time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
		return p.code
	case <-time.After(within):
		p.t.Fatalf("did not exit within %v; stdout %q stderr %q", within, p.stdout(), p.errText())
		return -1
	}
}

func (p *proc) stdout() string  { p.mu.Lock(); defer p.mu.Unlock(); return strings.Join(p.out, "\n") }
func (p *proc) errText() string { p.mu.Lock(); defer p.mu.Unlock(); return p.stderr.String() }

func validate(t *testing.T, addr, udid string) {
	t.Helper()
	path, err := exec.LookPath("idevicepair")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("idevicepair missing in CI")
		}
		t.Log("SKIPPING idevicepair cross-check: libimobiledevice-utils not installed")
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "-u", udid, "validate")
	cmd.Env = append(os.Environ(), "USBMUXD_SOCKET_ADDRESS="+addr)
	out, _ := cmd.CombinedOutput()
	if !strings.Contains(string(out), "SUCCESS") {
		t.Fatalf("idevicepair validate: %s", out)
	}
	t.Logf("idevicepair validate: %s", strings.TrimSpace(string(out)))
}

// The person's story, at default settings: trust was reset on the phone;
// `trustwatch fix` removes the outdated pairing, sends one Pair and asks
// for the tap; Trust is tapped 3 s later; the pairing is saved, exit 0,
// and libimobiledevice accepts it.
func TestFixRevokedEndToEnd(t *testing.T) {
	t.Parallel()
	s := startSim(t)
	d := s.AddDevice(sim.DeviceConfig{Name: "Anna's iPhone", Revoked: true})
	old, _ := s.PairRecord(d.UDID())
	started := time.Now()
	p := startTW(t, s.Address(), "", "fix")
	asked := p.waitLine(`Tap Trust on Anna's iPhone ("Trust This Computer?")`, 15*time.Second)
	if !d.DialogShowing() {
		t.Fatal("the Trust question is not on the phone")
	}
	time.Sleep(3 * time.Second) // a person reads, unlocks, taps
	if n := d.Stats().PairRequests; n != 1 {
		t.Fatalf("%d Pair requests before the tap, want 1:\n%s", n, strings.Join(d.Stats().Requests, "\n"))
	}
	tap := time.Now()
	d.TapTrust()
	if code := p.wait(10 * time.Second); code != 0 {
		t.Fatalf("exit %d; stdout %q stderr %q", code, p.stdout(), p.errText())
	}
	t.Logf("question asked %v after start; tap → exit %v", asked.Sub(started).Round(time.Millisecond), time.Since(tap).Round(time.Millisecond))
	if !strings.Contains(p.stdout(), "Anna's iPhone now trusts this computer; the pairing is saved.") {
		t.Errorf("stdout %q", p.stdout())
	}
	rec, ok := s.PairRecord(d.UDID())
	if !ok || string(rec) == string(old) {
		t.Fatal("no new pairing saved through usbmuxd")
	}
	if st := d.Stats(); st.DialogShows != 1 || st.DialogFlashes != 0 {
		t.Errorf("question shown %d times, flashed %d", st.DialogShows, st.DialogFlashes)
	}
	validate(t, s.Address(), d.UDID())
	// Run again: nothing to fix, no Pair.
	before := d.Stats().PairRequests
	r := tw(t, s.Address(), "fix", d.UDID())
	if r.code != 0 || !strings.Contains(r.stdout, "already trusts this computer") || d.Stats().PairRequests != before {
		t.Errorf("second fix: exit %d %q, %d more Pairs", r.code, r.stdout, d.Stats().PairRequests-before)
	}
}

// A phone plugged in locked and untrusted: fix says to unlock it; after
// the unlock the question comes up (one more Pair: the first was refused
// before any question), Trust → saved.
func TestFixLockedThenUnlockedThenTrusted(t *testing.T) {
	t.Parallel()
	s := startSim(t)
	d := s.AddDevice(sim.DeviceConfig{Name: "Ben's iPhone", Locked: true})
	p := startTW(t, s.Address(), "", "fix", strings.ToLower(strings.ReplaceAll(d.UDID(), "-", "")))
	p.waitLine("Unlock Ben's iPhone", 15*time.Second)
	time.Sleep(2 * time.Second)
	d.Unlock()
	p.waitLine("Tap Trust on Ben's iPhone", 10*time.Second)
	time.Sleep(2 * time.Second)
	d.TapTrust()
	if code := p.wait(10 * time.Second); code != 0 {
		t.Fatalf("exit %d; stdout %q stderr %q", code, p.stdout(), p.errText())
	}
	if st := d.Stats(); st.DialogShows != 1 || st.DialogFlashes != 0 {
		t.Errorf("question shown %d times, flashed %d", st.DialogShows, st.DialogFlashes)
	}
	validate(t, s.Address(), d.UDID())
}

// Every other outcome has its own exit code and says what to do.
func TestFixOutcomes(t *testing.T) {
	for _, c := range []struct {
		name   string
		cfg    sim.DeviceConfig
		args   []string
		act    func(d *sim.Device)
		code   int
		stderr string
	}{
		// The phone does not report a "Don't Trust" tapped while the question
		// is up (only another Pair would, which could flash it): the wait
		// runs out, and the advice covers it.
		{"Don't Trust tapped while asked", sim.DeviceConfig{}, []string{"--timeout", "4s"}, func(d *sim.Device) { d.TapDontTrust() }, 7, "if \"Don't Trust\" was tapped, unplug it"},
		{"already denied on this plug", sim.DeviceConfig{Denied: true}, nil, nil, 5, "Unplug it and plug it in again"},
		{"stays locked", sim.DeviceConfig{Locked: true}, []string{"--timeout", "3s"}, nil, 6, "stayed locked for 3s"},
		{"nobody taps", sim.DeviceConfig{}, []string{"--timeout", "3s"}, nil, 7, "Nobody tapped Trust on"},
		{"cannot be checked", sim.DeviceConfig{Fault: sim.FaultLockdownReset}, nil, nil, 1, "a pairing cannot be asked for in state error"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := startSim(t)
			c.cfg.Name = "Anna's iPhone"
			d := s.AddDevice(c.cfg)
			p := startTW(t, s.Address(), "", append([]string{"fix"}, c.args...)...)
			if c.act != nil {
				p.waitLine("Tap Trust on", 15*time.Second)
				time.Sleep(time.Second)
				c.act(d)
			}
			code := p.wait(30 * time.Second)
			t.Logf("exit %d\nstdout: %s\nstderr: %s", code, p.stdout(), p.errText())
			if code != c.code || !strings.Contains(p.errText(), c.stderr) {
				t.Fatalf("exit %d (want %d), stderr %q (want %q)", code, c.code, p.errText(), c.stderr)
			}
			if _, saved := s.PairRecord(d.UDID()); saved {
				t.Error("a pairing was saved although the user did not approve")
			}
			if n := d.Stats().PairRequests; n > 1 {
				t.Errorf("%d Pair requests, at most 1", n)
			}
		})
	}
}

// Which phone: none → 4; several without UDID → the list, 2, and no Pair
// to any of them; an unknown UDID → 4; usbmuxd away → 3.
func TestFixChoosesThePhone(t *testing.T) {
	t.Parallel()
	s := startSim(t)
	r := tw(t, s.Address(), "fix")
	if r.code != 4 || r.stdout != "No iPhone connected.\n" {
		t.Errorf("no phone: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
	a := s.AddDevice(sim.DeviceConfig{Name: "Anna's iPhone"})
	b := s.AddDevice(sim.DeviceConfig{Name: "Ben's iPhone", Trusted: true})
	r = tw(t, s.Address(), "fix")
	if r.code != 2 || !strings.Contains(r.stderr, "2 iPhones are connected") ||
		!strings.Contains(r.stderr, "trustwatch fix "+a.UDID()) || !strings.Contains(r.stderr, "# Anna's iPhone, not trusted") ||
		!strings.Contains(r.stderr, "trustwatch fix "+b.UDID()) || !strings.Contains(r.stderr, "# Ben's iPhone, ready") {
		t.Errorf("several: exit %d stderr %q", r.code, r.stderr)
	}
	if n := a.Stats().PairRequests + b.Stats().PairRequests; n != 0 {
		t.Errorf("listing the phones sent %d Pair requests", n)
	}
	r = tw(t, s.Address(), "fix", "00008030-0000000000000000")
	if r.code != 4 || !strings.Contains(r.stderr, "no connected iPhone has the UDID 00008030-0000000000000000") {
		t.Errorf("unknown UDID: exit %d %q", r.code, r.stderr)
	}
	r = tw(t, s.Address(), "fix", b.UDID())
	if r.code != 0 || !strings.Contains(r.stdout, "Ben's iPhone already trusts this computer") {
		t.Errorf("trusted one: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
	r = tw(t, "UNIX:///nonexistent/usbmuxd", "fix")
	if r.code != 3 || !strings.Contains(r.stderr, "usbmuxd is not") {
		t.Errorf("no usbmuxd: exit %d %q", r.code, r.stderr)
	}
}

// Ctrl-C while waiting for the tap: 130 (SIGTERM: 143), says nothing was
// saved, and nothing was; within a second.
func TestFixInterrupted(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			s := startSim(t)
			d := s.AddDevice(sim.DeviceConfig{Name: "Anna's iPhone"})
			p := startTW(t, s.Address(), "", "fix")
			p.waitLine("Tap Trust on", 15*time.Second)
			sent := time.Now()
			p.cmd.Process.Signal(sig)
			code := p.wait(5 * time.Second)
			want := 130
			if sig == syscall.SIGTERM {
				want = 143
			}
			if code != want || !strings.Contains(p.errText(), "Interrupted; nothing was saved.") {
				t.Fatalf("exit %d (want %d) stderr %q", code, want, p.errText())
			}
			if took := time.Since(sent); took > time.Second {
				t.Errorf("took %v to stop", took)
			}
			d.TapTrust() // too late: nobody saves it
			time.Sleep(300 * time.Millisecond)
			if _, saved := s.PairRecord(d.UDID()); saved {
				t.Error("a pairing was saved after the interrupt")
			}
		})
	}
}

// forget removes the pairing on both sides, after asking; --yes does not
// ask; "n" changes nothing; a phone without a pairing has nothing to lose.
func TestForget(t *testing.T) {
	t.Parallel()
	s := startSim(t)
	d := s.AddDevice(sim.DeviceConfig{Name: "Anna's iPhone", Trusted: true})
	p := startTW(t, s.Address(), "n\n", "forget")
	if code := p.wait(15 * time.Second); code != 1 || !strings.Contains(p.stdout(), "Forget the pairing between this computer and Anna's iPhone") || !strings.Contains(p.stdout(), "Nothing was changed.") {
		t.Fatalf("answered n: exit %d stdout %q", code, p.stdout())
	}
	if _, ok := s.PairRecord(d.UDID()); !ok {
		t.Fatal("the pairing went although the answer was no")
	}
	p = startTW(t, s.Address(), "", "forget") // stdin at EOF: no
	if code := p.wait(15 * time.Second); code != 1 {
		t.Fatalf("no answer: exit %d", code)
	}
	p = startTW(t, s.Address(), "y\n", "forget", d.UDID())
	if code := p.wait(15 * time.Second); code != 0 || !strings.Contains(p.stdout(), "Forgotten: Anna's iPhone will ask to trust this computer the next time it is plugged in.") {
		t.Fatalf("answered y: exit %d stdout %q stderr %q", code, p.stdout(), p.errText())
	}
	if _, ok := s.PairRecord(d.UDID()); ok {
		t.Fatal("usbmuxd still holds the pairing")
	}
	if len(d.TrustedHosts()) != 0 {
		t.Errorf("the phone still trusts %v", d.TrustedHosts())
	}
	r := tw(t, s.Address(), "status", "--no-pair", "--json")
	if !strings.Contains(r.stdout, `"state":"untrusted"`) {
		t.Errorf("after forget: %s", r.stdout)
	}
	r = tw(t, s.Address(), "forget", "--yes")
	if r.code != 0 || !strings.Contains(r.stdout, "This computer has no pairing with Anna's iPhone; nothing to forget.") {
		t.Errorf("nothing to forget: exit %d %q", r.code, r.stdout)
	}
	e := s.AddDevice(sim.DeviceConfig{Name: "Ben's iPhone", Trusted: true})
	r = tw(t, s.Address(), "forget", "--yes")
	if r.code != 2 || !strings.Contains(r.stderr, "2 iPhones are connected") {
		t.Errorf("several: exit %d %q", r.code, r.stderr)
	}
	r = tw(t, s.Address(), "forget", "--yes", e.UDID())
	if r.code != 0 || !strings.Contains(r.stdout, "Forgotten: Ben's iPhone") {
		t.Errorf("--yes: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
	if n := d.Stats().PairRequests + e.Stats().PairRequests; n != 0 {
		t.Errorf("forget sent %d Pair requests", n)
	}
}
