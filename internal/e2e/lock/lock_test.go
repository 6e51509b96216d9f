// Package locke2e follows a phone left plugged in with the real trustwatch
// binary, at default settings and in real time. It is a package of its own
// so that its minutes of sleeping overlap with the other packages' tests
// instead of lengthening the root package's.
package locke2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trustwatch/trustwatch/internal/bench"
	"github.com/trustwatch/trustwatch/internal/sim"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tw-e2e-lock")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "trustwatch")
	build := exec.Command("go", "build", "-o", binary, "github.com/trustwatch/trustwatch")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building trustwatch:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// A trusted phone left locked on the charger: past the first two minutes
// trustwatch holds one notification_proxy session and makes no new
// connection to the phone for the whole steady window (the simulator's log
// says so), and when the owner unlocks it after 150 s, `watch` prints
// ready within a second; locked again, locked within a second.
func TestPhoneLeftPluggedInIsFollowedLive(t *testing.T) {
	if testing.Short() {
		t.Skip("real time: 2.5 minutes")
	}
	s, err := sim.Start(sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	w, err := bench.StartChild(binary, []string{"watch", "--json"}, "USBMUXD_SOCKET_ADDRESS="+s.Address())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if _, err := w.WaitLine(0, 10*time.Second, func(l bench.Line) bool { return l.Usbmux != nil && l.Usbmux.Reachable }); err != nil {
		t.Fatalf("usbmuxd never reachable: %v; stderr: %s", err, w.Stderr())
	}
	mark := w.Mark()
	d := s.AddDevice(sim.DeviceConfig{Name: "Anna's iPhone", Trusted: true, Locked: true})
	plugged := time.Now()
	if _, err := w.WaitState(mark, d.UDID(), "locked", 5*time.Second); err != nil {
		t.Fatal(err)
	}

	logAt := func(at time.Duration) []string {
		time.Sleep(time.Until(plugged.Add(at)))
		return d.Stats().Requests
	}
	const steadyFrom, steadyTo = 125 * time.Second, 150 * time.Second
	before := len(logAt(steadyFrom))
	log := logAt(steadyTo)
	steady := log[before:]
	count := func(entries []string, prefix string) int {
		n := 0
		for _, e := range entries {
			if strings.HasPrefix(e, prefix) {
				n++
			}
		}
		return n
	}
	// Budget: ≤ 2 new connections per minute; the backstop check comes
	// every 55 s, and the next one is due after this window.
	if n := count(steady, "mux Connect"); n != 0 {
		t.Errorf("%d usbmuxd Connects to the phone in the steady window (%v–%v): %q", n, steadyFrom, steadyTo, steady)
	}
	if n := count(steady, "lockdown "); n != 0 {
		t.Errorf("%d lockdown requests in the steady window: %q", n, steady)
	}
	if n := count(log, "np ObserveNotification com.apple.springboard.lockstate"); n != 1 {
		t.Errorf("lockstate observed %d times, want one session for the whole wait", n)
	}
	// The first two minutes, while a person is probably at it: a check
	// every 2 s (the phone may not relay lockstate).
	if n := count(log[:before], "lockdown StartSession"); n < 30 || n > 70 {
		t.Errorf("%d sessions in the first two minutes, want about 60", n)
	}

	mark = w.Mark()
	t0 := time.Now()
	d.Unlock()
	l, err := w.WaitState(mark, d.UDID(), "ready", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("unlock after %v → ready in %v", time.Since(plugged).Round(time.Second), l.At.Sub(t0))
	if l.Previous != "locked" {
		t.Errorf("ready's previous state %q", l.Previous)
	}
	mark = w.Mark()
	t0 = time.Now()
	d.Lock()
	l, err = w.WaitState(mark, d.UDID(), "locked", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if l.Previous != "ready" {
		t.Errorf("locked's previous state %q", l.Previous)
	}
	t.Logf("lock → locked in %v", l.At.Sub(t0))
}
