package notify

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trustwatch/trustwatch/internal/desktoptest"
	"github.com/trustwatch/trustwatch/internal/sim"
	"github.com/trustwatch/trustwatch/internal/simtest"
	"github.com/trustwatch/trustwatch/watcher"
	"github.com/trustwatch/trustwatch/watcher/engine"
	"github.com/trustwatch/trustwatch/watcher/usbmux"
)

// rig is the product's chain at its default settings: the simulator, the
// real watcher (the tray's engine settings) and a Notifier sending to a
// notification server on a private bus. It records when the watcher
// published each device's state changes.
type rig struct {
	sim *sim.Server
	w   *watcher.Watcher
	h   *harness

	mu      sync.Mutex
	changes map[string][]stateAt // device name → its states, in order
}

type stateAt struct {
	state engine.State
	at    time.Time
}

// phoneUDID is the UDID of the e2e tests' phone n.
func phoneUDID(n int) string { return fmt.Sprintf("00008030-%016X", 0xE2E000+n) }

const e2ePhones = 20

var warmKeys sync.Once

// warmSimKeys makes the simulator's per-phone RSA keys for every phone the
// e2e tests plug in, once, before any test times anything: a real iPhone
// has its keys, and the simulator making ten at once would starve the
// timings of the tests running beside it on a 2-core machine.
func warmSimKeys(t *testing.T) {
	warmKeys.Do(func() {
		s, err := sim.Start(sim.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		for n := range e2ePhones {
			s.AddDevice(sim.DeviceConfig{UDID: phoneUDID(n), Trusted: true, Detached: true})
		}
		s.AddDevice(sim.DeviceConfig{UDID: warmUDID, Trusted: true, Detached: true})
	})
}

func startRig(t *testing.T, bus string) *rig {
	t.Helper()
	warmSimKeys(t)
	s, addr := simtest.StartAddr(t, sim.Options{}, usbmux.ParseAddress)
	r := &rig{sim: s, changes: map[string][]stateAt{}}
	r.w = watcher.New(watcher.Config{
		Address: addr,
		Engine:  engine.Config{Mode: engine.ModeFollow, AllowPair: true},
		Logger:  slog.New(slog.DiscardHandler),
	})
	ctx, cancel := context.WithCancel(context.Background())
	watched := make(chan struct{})
	go func() { _ = r.w.Run(ctx); close(watched) }()
	t.Cleanup(func() { cancel(); <-watched })

	r.h = newHarnessNoRun(t, bus, Options{})
	snaps, stop := r.w.Subscribe()
	t.Cleanup(stop)
	ran := make(chan struct{})
	go func() { r.h.n.Run(ctx, snaps); close(ran) }()
	t.Cleanup(func() { cancel(); <-ran })

	// A second subscriber timestamps the state changes, and tells when the
	// warm-up phone is gone.
	gone := make(chan struct{})
	mine, stopMine := r.w.Subscribe()
	t.Cleanup(stopMine)
	go func() {
		warm := false
		for s := range mine {
			now := time.Now()
			r.mu.Lock()
			if !warm {
				if _, ok := s.Device(warmKey); !ok && len(r.changes[warmName]) > 0 {
					warm = true
					close(gone)
				}
			}
			for _, d := range s.Devices {
				h := r.changes[d.Name]
				if len(h) == 0 || h[len(h)-1].state != d.State {
					r.changes[d.Name] = append(h, stateAt{d.State, now})
				}
			}
			r.mu.Unlock()
		}
	}()
	// Warm up as a tray that has run for a while: the watcher makes its
	// pairing identity (two RSA keys) once per process, in the background
	// at start, and the first Pair waits for it. A throwaway phone that
	// needs a Pair shows it is done; it is gone before any notification
	// server is on the bus (the caller starts one after).
	w := s.AddDevice(sim.DeviceConfig{Name: warmName, UDID: warmUDID})
	deadline := time.Now().Add(20 * time.Second)
	for r.changedTo(warmName, engine.StateTrustPending).IsZero() {
		if time.Now().After(deadline) {
			t.Fatal("warm-up phone never reached trust-pending")
		}
		time.Sleep(20 * time.Millisecond)
	}
	w.Detach()
	select {
	case <-gone:
	case <-time.After(10 * time.Second):
		t.Fatal("warm-up phone never left")
	}
	time.Sleep(100 * time.Millisecond) // the notifier's withdrawal (to no server) is done
	return r
}

const (
	warmName = "Warm-up iPhone"
	warmUDID = "00008030-0000000000FFFFF0"
)

var warmKey = engine.NormalizeUDID(warmUDID)

// changedTo is when name's state last became s (zero if never).
func (r *rig) changedTo(name string, s engine.State) time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	h := r.changes[name]
	for i := len(h) - 1; i >= 0; i-- {
		if h[i].state == s {
			return h[i].at
		}
	}
	return time.Time{}
}

func sleepUntil(t time.Time) { time.Sleep(time.Until(t)) }

// summaries lists calls without their icon bytes.
func summaries(calls []desktoptest.NotifyCall) string {
	var b strings.Builder
	for _, c := range calls {
		fmt.Fprintf(&b, "\n  id %d replaces %d: %q / %q", c.ID, c.ReplacesID, c.Summary, c.Body)
	}
	return b.String()
}

// The person-paced story against the real watcher and the simulator, at
// default settings and real time: a locked, untrusted iPhone is plugged in,
// unlocked 3 s later, and Trust is tapped 2 s after that. Three Notify
// calls, the 2nd and 3rd replacing the 1st, each ≤ 1 s after the state
// change it tells; the lag behind the simulator's own events is logged.
func TestStoryAtAPersonsPace(t *testing.T) {
	t.Parallel()
	bus := desktoptest.StartBus(t)
	r := startRig(t, bus)
	srv := desktoptest.FakeNotificationServer(t, bus)
	const name = "Anna's iPhone"

	plug := time.Now()
	d := r.sim.AddDevice(sim.DeviceConfig{Name: name, UDID: phoneUDID(0), Locked: true})
	c1 := srv.WaitCalls(t, 1, 5*time.Second)[0]
	sleepUntil(plug.Add(3 * time.Second))
	unlock := time.Now()
	d.Unlock()
	c2 := srv.WaitCalls(t, 2, 5*time.Second)[1]
	sleepUntil(unlock.Add(2 * time.Second))
	tap := time.Now()
	d.TapTrust()
	c3 := srv.WaitCalls(t, 3, 5*time.Second)[2]
	time.Sleep(1500 * time.Millisecond) // nothing more may come

	calls := srv.Calls()
	if len(calls) != 3 {
		t.Fatalf("%d Notify calls, want 3: %s", len(calls), summaries(calls))
	}
	want := []string{"Anna's iPhone is locked", "Anna's iPhone is asking to trust this computer", "Anna's iPhone now trusts this computer"}
	for i, c := range []desktoptest.NotifyCall{c1, c2, c3} {
		if c.Summary != want[i] {
			t.Errorf("call %d: %q, want %q", i+1, c.Summary, want[i])
		}
	}
	if c1.ReplacesID != 0 || c2.ReplacesID != c1.ID || c3.ReplacesID != c1.ID {
		t.Errorf("replaces_id %d, %d, %d; want 0, %d, %d (one bubble)", c1.ReplacesID, c2.ReplacesID, c3.ReplacesID, c1.ID, c1.ID)
	}
	for i, s := range []engine.State{engine.StateUntrustedLocked, engine.StateTrustPending, engine.StateReady} {
		changed := r.changedTo(name, s)
		if changed.IsZero() {
			t.Fatalf("the watcher never published %s", s)
		}
		within(t, fmt.Sprintf("step %d: %s published → Notify", i+1, s), []desktoptest.NotifyCall{c1, c2, c3}[i].At.Sub(changed), time.Second)
	}
	// Behind the simulator's events (this includes the watcher's own
	// detection: its unlock poll runs once a second).
	t.Logf("LAG plug → Notify 1: %v; unlock → Notify 2: %v; Trust tap → Notify 3: %v",
		c1.At.Sub(plug).Round(time.Millisecond), c2.At.Sub(unlock).Round(time.Millisecond), c3.At.Sub(tap).Round(time.Millisecond))
	within(t, "plug → Notify 1", c1.At.Sub(plug), time.Second)
	within(t, "Trust tap → Notify 3", c3.At.Sub(tap), time.Second)
	// The unlock is seen by a 1 Hz poll in the watcher, then one Pair.
	within(t, "unlock → Notify 2", c2.At.Sub(unlock), 1500*time.Millisecond)
}

// Unplugged while asking to trust: CloseNotification ≤ 1 s after the
// simulator's detach. Then Fix trust on a revoked phone (the tray's path:
// notifier first, then the watcher) is answered ≤ 1 s after the click, in
// the same bubble.
func TestUnplugAndFixTrustEndToEnd(t *testing.T) {
	t.Parallel()
	bus := desktoptest.StartBus(t)
	r := startRig(t, bus)
	srv := desktoptest.FakeNotificationServer(t, bus)

	d := r.sim.AddDevice(sim.DeviceConfig{Name: "Ben's iPhone", UDID: phoneUDID(1)})
	c := srv.WaitCalls(t, 1, 5*time.Second)[0]
	if c.Summary != "Ben's iPhone is asking to trust this computer" {
		t.Fatalf("%s", summaries(srv.Calls()))
	}
	unplug := time.Now()
	d.Detach()
	cl := srv.WaitClosed(t, 1, 5*time.Second)[0]
	within(t, "detach → CloseNotification", cl.At.Sub(unplug), time.Second)
	if cl.ID != c.ID {
		t.Fatalf("closed %d, want %d", cl.ID, c.ID)
	}

	rv := r.sim.AddDevice(sim.DeviceConfig{Name: "Chris's iPhone", UDID: phoneUDID(2), Revoked: true})
	rc := srv.WaitCalls(t, 2, 5*time.Second)[1]
	if rc.Summary != "Chris's iPhone no longer trusts this computer" || !slices.Contains(rc.Actions, ActionFixTrust) {
		t.Fatalf("%s", summaries(srv.Calls()))
	}
	key := ""
	for _, dev := range r.w.Snapshot().Devices {
		if dev.Name == "Chris's iPhone" {
			key = dev.Key
		}
	}
	click := time.Now()
	r.h.n.FixTrustClicked(key)
	r.w.FixTrust(key)
	f := srv.WaitCalls(t, 3, 5*time.Second)[2]
	within(t, "Fix trust click → feedback", f.At.Sub(click), time.Second)
	if f.ReplacesID != rc.ID || f.Summary != "Chris's iPhone is asking to trust this computer" {
		t.Fatalf("feedback %q: %s", f.Summary, summaries(srv.Calls()))
	}
	time.Sleep(500 * time.Millisecond)
	rv.TapTrust()
	done := srv.WaitCalls(t, 4, 5*time.Second)[3]
	if done.ReplacesID != rc.ID || done.Summary != "Chris's iPhone now trusts this computer" {
		t.Fatalf("%s", summaries(srv.Calls()))
	}
	if n := len(srv.Calls()); n != 4 {
		t.Fatalf("%d calls: %s", n, summaries(srv.Calls()))
	}
}

// Ten phones plugged in at once, locked and untrusted: one notification,
// updated in place as they are unlocked, withdrawn when all are unplugged.
func TestTenPhonesEndToEnd(t *testing.T) {
	t.Parallel()
	bus := desktoptest.StartBus(t)
	r := startRig(t, bus)
	srv := desktoptest.FakeNotificationServer(t, bus)
	var devs []*sim.Device
	for i := range 10 {
		devs = append(devs, r.sim.AddDevice(sim.DeviceConfig{Name: fmt.Sprintf("Phone %d", i), UDID: phoneUDID(3 + i), Locked: true}))
	}
	c := srv.WaitCalls(t, 1, 5*time.Second)[0]
	deadline := time.Now().Add(5 * time.Second)
	for {
		calls := srv.Calls()
		if calls[len(calls)-1].Summary == "10 iPhones need attention" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never one notification for all ten: %s", summaries(calls))
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(time.Second)
	first := len(srv.Calls())
	t.Logf("ten phones plugged: %d Notify calls, all one bubble: %s", first, summaries(srv.Calls()))
	for _, d := range devs {
		d.Unlock()
	}
	deadline = time.Now().Add(5 * time.Second)
	for {
		calls := srv.Calls()
		last := calls[len(calls)-1]
		if strings.Count(last.Body, "waiting for Trust") == 5 && strings.Contains(last.Body, "…and 5 more.") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never showed all ten waiting for Trust: %s", summaries(calls))
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, c2 := range srv.Calls()[1:] {
		if c2.ReplacesID != c.ID {
			t.Fatalf("an update opened a new bubble: %s", summaries(srv.Calls()))
		}
	}
	for _, d := range devs {
		d.Detach()
	}
	if cl := srv.WaitClosed(t, 1, 5*time.Second)[0]; cl.ID != c.ID {
		t.Fatalf("closed %d, want %d", cl.ID, c.ID)
	}
	t.Logf("%d Notify calls for ten phones plugged, unlocked and unplugged", len(srv.Calls()))
}

// Four phones flapping on a loose cable for 60 s (plugged 1.2 s, out
// 0.8 s): each appears in a new bubble at most once per 30 s, and every
// bubble that shows a problem is withdrawn when its phone goes.
func TestFourPhonesFlappingEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("60 s of real time")
	}
	t.Parallel()
	bus := desktoptest.StartBus(t)
	r := startRig(t, bus)
	srv := desktoptest.FakeNotificationServer(t, bus)
	cfgs := []sim.DeviceConfig{
		{Trusted: true, Name: "Flap Ready"},
		{Trusted: true, Locked: true, Name: "Flap Locked"},
		{Name: "Flap Pending"},
		{Revoked: true, Name: "Flap Revoked"},
	}
	var devs []*sim.Device
	for i, c := range cfgs {
		c.Detached, c.UDID = true, phoneUDID(13+i)
		devs = append(devs, r.sim.AddDevice(c))
	}
	start := time.Now()
	var wg sync.WaitGroup
	for i, d := range devs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(i) * 500 * time.Millisecond)
			for time.Since(start) < 60*time.Second {
				d.Attach()
				time.Sleep(1200 * time.Millisecond)
				d.Detach()
				time.Sleep(800 * time.Millisecond)
			}
		}()
	}
	wg.Wait()
	time.Sleep(time.Second)

	calls := srv.Calls()
	for _, call := range calls {
		t.Logf("%v: id %d replaces %d: %q / %q", call.At.Sub(start).Round(time.Millisecond), call.ID, call.ReplacesID, call.Summary, call.Body)
	}
	for i, c := range cfgs {
		// Before its name is read, a phone is "iPhone …" + its UDID's end.
		udid := devs[i].UDID()
		alias := "…" + udid[len(udid)-6:]
		var fresh []time.Time
		for _, call := range calls {
			text := call.Summary + "\n" + call.Body
			if call.ReplacesID == 0 && (strings.Contains(text, c.Name) || strings.Contains(text, alias)) {
				fresh = append(fresh, call.At)
			}
		}
		for i := 1; i < len(fresh); i++ {
			// The core spaces new bubbles by MinInterval exactly; arrival
			// times at the server differ by the calls' delivery (the first
			// Notify also asks GetCapabilities and adds a match): ≤ 50 ms.
			if d := fresh[i].Sub(fresh[i-1]); d < MinInterval-50*time.Millisecond {
				t.Errorf("%s in new bubbles %v apart", c.Name, d.Round(time.Millisecond))
			}
		}
		t.Logf("%s: %d new bubbles in 60 s", c.Name, len(fresh))
	}
	closed := map[uint32]bool{}
	for _, cl := range srv.Closed() {
		closed[cl.ID] = true
	}
	last := map[uint32]desktoptest.NotifyCall{}
	for _, call := range calls {
		last[call.ID] = call
	}
	for id, call := range last {
		// "keeps disconnecting" stays true after the unplug; "ready" is
		// quiet and expires by itself. Anything else is withdrawn.
		stays := strings.Contains(call.Summary, "ready") || strings.Contains(call.Summary, "keeps disconnecting") ||
			strings.Count(call.Body, "connection keeps dropping") == strings.Count(call.Body, ": ")
		if !closed[id] && !stays {
			t.Errorf("bubble %d (%q) was never withdrawn though its phones are gone", id, call.Summary)
		}
	}
	t.Logf("%d Notify calls, %d CloseNotification calls for 4 phones flapping 60 s", len(calls), len(srv.Closed()))
}

// The same story against dunst under Xvfb: at every step dunst shows
// exactly one notification (the bubble replaced in place, never a pile),
// and the quiet success goes away by itself.
func TestStoryOnDunst(t *testing.T) {
	t.Parallel()
	bus := desktoptest.StartBus(t)
	r := startRig(t, bus)
	display := desktoptest.StartXvfb(t)
	desktoptest.StartDunst(t, desktoptest.Env("DISPLAY="+display, "DBUS_SESSION_BUS_ADDRESS="+bus))
	conn := desktoptest.Connect(t, bus)
	shows := func(want int, within time.Duration, what string) {
		t.Helper()
		deadline := time.Now().Add(within)
		for {
			n, err := desktoptest.DunstShown(conn)
			if err != nil {
				t.Fatal(err)
			}
			if n == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: dunst shows %d notifications, want %d", what, n, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	d := r.sim.AddDevice(sim.DeviceConfig{Name: "Dana's iPhone", UDID: phoneUDID(17), Locked: true})
	shows(1, time.Second, "plugged in locked")
	time.Sleep(3 * time.Second)
	d.Unlock()
	deadline := time.Now().Add(2 * time.Second)
	for r.changedTo("Dana's iPhone", engine.StateTrustPending).IsZero() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	shows(1, 0, "asking to trust")
	time.Sleep(1700 * time.Millisecond)
	d.TapTrust()
	time.Sleep(time.Second)
	shows(1, 0, "trusted")
	d.Detach()
	// The quiet "now trusts" is not withdrawn at unplug; it expires.
	shows(0, QuietExpire+2*time.Second, "the quiet notice expired")
}
