package main

import (
	"strings"
	"testing"
	"time"

	"github.com/trustwatch/trustwatch/internal/sim"
)

// A trusted phone left locked on the charger, the real binary at default
// settings and real time: past the first two minutes trustwatch holds one
// notification_proxy session and makes no new connection to the phone for
// the whole steady window (the simulator's log says so), and when the
// owner unlocks it after 150 s, `watch` prints ready within a second;
// locked again, locked within a second. It sleeps most of its 2.5 minutes,
// so it runs in parallel with the rest.
func TestWatchFollowsTheLockOfAPhoneLeftPluggedIn(t *testing.T) {
	if testing.Short() {
		t.Skip("real time: 2.5 minutes")
	}
	t.Parallel()
	s := startSim(t)
	w := startWatch(t, s.Address())
	w.waitFor("usbmuxd reachable", 5*time.Second, muxReachable(true))
	d := s.AddDevice(sim.DeviceConfig{Name: "Anna's iPhone", Trusted: true, Locked: true})
	plugged := time.Now()
	w.waitFor("locked", 5*time.Second, stateIs(d.UDID(), "locked"))

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

	t0 := time.Now()
	d.Unlock()
	l := w.waitFor("ready after unlock", time.Second, stateIs(d.UDID(), "ready"))
	t.Logf("unlock after %v → ready in %v", time.Since(plugged).Round(time.Second), time.Since(t0))
	if l["previous"] != "locked" {
		t.Errorf("line %v", l)
	}
	t0 = time.Now()
	d.Lock()
	w.waitFor("locked again", time.Second, func(m map[string]any) bool {
		return m["udid"] == d.UDID() && m["state"] == "locked" && m["previous"] == "ready"
	})
	t.Logf("lock → locked in %v", time.Since(t0))
}
