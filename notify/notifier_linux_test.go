package notify

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/trustwatch/trustwatch/icons"
	"github.com/trustwatch/trustwatch/internal/desktoptest"
	"github.com/trustwatch/trustwatch/internal/say"
	"github.com/trustwatch/trustwatch/internal/simtest"
	"github.com/trustwatch/trustwatch/watcher/engine"
)

func testPNG(t *testing.T) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, 4, 4))
	for i := range 16 {
		img.Set(i%4, i/4, color.NRGBA{R: 200, A: 255})
	}
	img.Set(0, 0, color.NRGBA{R: 200, G: 100, A: 128}) // straight alpha must survive
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

type harness struct {
	n      *Notifier
	log    *logRec
	guides chan string
	snaps  chan engine.Snapshot
}

// newHarnessNoRun makes a Notifier on a private bus whose guide opener
// reports to h.guides; the caller runs it.
func newHarnessNoRun(t *testing.T, busAddr string, o Options) *harness {
	t.Helper()
	h := &harness{log: &logRec{}, guides: make(chan string, 16), snaps: make(chan engine.Snapshot)}
	o.OS.Conn = desktoptest.Connect(t, busAddr)
	o.Logger = slog.New(h.log)
	o.OpenGuide = func(anchor string) error { h.guides <- anchor; return nil }
	h.n = New(o)
	t.Cleanup(func() {
		if err := h.n.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return h
}

func newHarness(t *testing.T, busAddr string, o Options) *harness {
	t.Helper()
	h := newHarnessNoRun(t, busAddr, o)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.n.Run(ctx, h.snaps); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return h
}

func (h *harness) send(devs ...engine.Device) {
	h.snaps <- engine.Snapshot{Usbmux: engine.Usbmux{Reachable: true}, Devices: devs}
}

func (h *harness) wantGuide(t *testing.T, anchor string) {
	t.Helper()
	select {
	case got := <-h.guides:
		if got != anchor {
			t.Fatalf("guide opened at %q, want %q", got, anchor)
		}
	case <-time.After(3 * time.Second):
		t.Fatalf("guide not opened (want %q)", anchor)
	}
}

func (h *harness) waitTracked(t *testing.T, id uint32, anchor string) {
	t.Helper()
	b := h.n.backend.(*DBusBackend)
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		b.mu.Lock()
		got := b.ids[id].anchor
		b.mu.Unlock()
		if got == anchor {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("id %d never tracked with anchor %q", id, anchor)
}

func anna(s engine.State) engine.Device {
	return engine.Device{Key: "00008030-001A2B3C4D5E6F70", UDID: "00008030-001A2B3C4D5E6F70", Name: "Anna's iPhone", State: s}
}

var wantActions = []string{"default", "How to fix", "how-to-fix", "How to fix"}

// within fails unless d ≤ limit, naming what was late.
func within(t *testing.T, what string, d, limit time.Duration) {
	t.Helper()
	if d > limit {
		t.Errorf("%s took %v, want ≤ %v", what, d, limit)
	}
	t.Logf("%s: %v", what, d.Round(time.Millisecond))
}

// The story untrusted-locked → trust-pending → ready at default settings
// and real time, against a server that records every Notify: exact texts,
// buttons, hints, one bubble replaced in place, each step ≤ 1 s after the
// snapshot that carried it, and "How to fix" opening the state's anchor.
func TestTrustStoryAgainstFakeServer(t *testing.T) {
	addr := desktoptest.StartBus(t)
	srv := desktoptest.FakeNotificationServer(t, addr)
	h := newHarness(t, addr, Options{Icon: testPNG(t)})

	h.send(anna(engine.StateProbing))
	sent := time.Now()
	h.send(anna(engine.StateUntrustedLocked))
	c1 := srv.WaitCalls(t, 1, 3*time.Second)[0]
	within(t, "locked → Notify", c1.At.Sub(sent), time.Second)
	if c1.AppName != "trustwatch" || c1.Summary != "Anna's iPhone is locked" ||
		c1.Body != "Unlock it to see the \"Trust This Computer?\" prompt." ||
		!slices.Equal(c1.Actions, wantActions) || c1.ReplacesID != 0 || c1.Expire != -1 {
		t.Fatalf("first Notify: %+v", c1)
	}
	if u := c1.Hints["urgency"].Value(); u != byte(1) {
		t.Errorf("urgency %v", u)
	}
	if d := c1.Hints["desktop-entry"].Value(); d != "trustwatch" {
		t.Errorf("desktop-entry %v", d)
	}
	if sig := c1.Hints["image-data"].Signature().String(); sig != "(iiibiiay)" {
		t.Errorf("image-data signature %q", sig)
	}
	if f, ok := c1.Hints["image-data"].Value().([]any); !ok || len(f) != 7 ||
		f[0] != int32(4) || f[1] != int32(4) || f[2] != int32(16) || f[3] != true ||
		!bytes.Equal(f[6].([]byte)[:8], []byte{200, 100, 0, 128, 200, 0, 0, 255}) {
		t.Errorf("image-data %v", c1.Hints["image-data"])
	}
	h.waitTracked(t, c1.ID, "step-1")
	if err := srv.InvokeAction(c1.ID, ActionHowToFix); err != nil {
		t.Fatal(err)
	}
	h.wantGuide(t, "step-1")
	// The click closed it (as servers do): the next step is a new bubble.

	sent = time.Now()
	h.send(anna(engine.StateTrustPending))
	c2 := srv.WaitCalls(t, 2, 3*time.Second)[1]
	within(t, "asking to trust → Notify", c2.At.Sub(sent), time.Second)
	if c2.Summary != "Anna's iPhone is asking to trust this computer" ||
		c2.Body != "Tap Trust on the iPhone, then enter its passcode. No prompt on its screen? Unplug it and plug it in again." || c2.ReplacesID != 0 {
		t.Fatalf("second Notify (the first was closed, so no replacement): %+v", c2)
	}

	sent = time.Now()
	h.send(anna(engine.StateReady))
	c3 := srv.WaitCalls(t, 3, 3*time.Second)[2]
	within(t, "ready → Notify", c3.At.Sub(sent), time.Second)
	if c3.Summary != "Anna's iPhone now trusts this computer" ||
		c3.Body != "Syncing, backups and photo import work now." || c3.ReplacesID != c2.ID {
		t.Fatalf("third Notify (replacing the open second): %+v", c3)
	}
	if u := c3.Hints["urgency"].Value(); u != byte(0) {
		t.Errorf("resolved notice urgency %v, want low", u)
	}
	if tr := c3.Hints["transient"].Value(); tr != true || c3.Expire != int32(QuietExpire/time.Millisecond) || len(c3.Actions) != 0 {
		t.Errorf("resolved notice: transient %v, expire %d, actions %v; want a quiet one without How to fix", tr, c3.Expire, c3.Actions)
	}

	time.Sleep(500 * time.Millisecond)
	if n := len(srv.Calls()); n != 3 {
		t.Fatalf("%d Notify calls, want exactly 3: %+v", n, srv.Calls())
	}
	if lines := h.log.lines(); len(lines) != 0 {
		t.Errorf("unexpected log lines: %q", lines)
	}
}

// Unplugged while a problem is shown: CloseNotification within 1 s, and
// the combined bubble of several phones is withdrawn with the last of them.
func TestWithdrawnWhenUnplugged(t *testing.T) {
	addr := desktoptest.StartBus(t)
	srv := desktoptest.FakeNotificationServer(t, addr)
	h := newHarness(t, addr, Options{})
	h.send(anna(engine.StateTrustPending))
	c := srv.WaitCalls(t, 1, 3*time.Second)[0]
	sent := time.Now()
	h.send()
	cl := srv.WaitClosed(t, 1, 3*time.Second)[0]
	within(t, "unplug → CloseNotification", cl.At.Sub(sent), time.Second)
	if cl.ID != c.ID {
		t.Fatalf("closed %d, want %d", cl.ID, c.ID)
	}

	ben := engine.Device{Key: "ben", UDID: "ben", Name: "Ben's iPhone", State: engine.StateNoData}
	h.send(anna(engine.StateLocked), ben)
	g := srv.WaitCalls(t, 2, 3*time.Second)[1]
	if g.Summary != "2 iPhones need attention" {
		t.Fatalf("%+v", g)
	}
	h.send(ben)
	u := srv.WaitCalls(t, 3, 3*time.Second)[2]
	if u.ReplacesID != g.ID || u.Summary != "Ben's iPhone is only charging" {
		t.Fatalf("the combined bubble should now be Ben's alone, in place: %+v", u)
	}
	sent = time.Now()
	h.send()
	cl = srv.WaitClosed(t, 2, 3*time.Second)[1]
	within(t, "last unplug → CloseNotification", cl.At.Sub(sent), time.Second)
	if cl.ID != g.ID {
		t.Fatalf("closed %d, want the combined bubble %d", cl.ID, g.ID)
	}
}

// The revoked notice carries a Fix trust button that reaches the same
// path as the tray's Fix trust; then the click is answered in the same
// bubble within 1 s, by "Check your iPhone — tap Trust" when nothing else
// has changed.
func TestFixTrustButtonAndFeedback(t *testing.T) {
	addr := desktoptest.StartBus(t)
	srv := desktoptest.FakeNotificationServer(t, addr)
	fixed := make(chan string, 1)
	h := newHarness(t, addr, Options{FixTrust: func(key string) { fixed <- key }})
	h.send(anna(engine.StateTrustRevoked))
	c := srv.WaitCalls(t, 1, 3*time.Second)[0]
	want := []string{"default", "How to fix", "fix-trust", "Fix trust", "how-to-fix", "How to fix"}
	if !slices.Equal(c.Actions, want) {
		t.Fatalf("actions %q, want %q", c.Actions, want)
	}
	h.waitTracked(t, c.ID, "step-6")
	if err := srv.Conn().Emit("/org/freedesktop/Notifications", "org.freedesktop.Notifications.ActionInvoked", c.ID, ActionFixTrust); err != nil {
		t.Fatal(err)
	}
	select {
	case k := <-fixed:
		if k != anna("").Key {
			t.Fatalf("Fix trust for %q", k)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the Fix trust button did nothing")
	}
	clicked := time.Now()
	h.n.FixTrustClicked(anna("").Key)
	f := srv.WaitCalls(t, 2, 3*time.Second)[1]
	within(t, "Fix trust click → feedback", f.At.Sub(clicked), time.Second)
	if f.Summary != "Check your iPhone — tap Trust" || f.ReplacesID != c.ID ||
		f.Body != "Anna's iPhone should now ask \"Trust This Computer?\". Tap Trust, then enter its passcode." {
		t.Fatalf("feedback %+v", f)
	}
	// The state change replaces it: one bubble.
	h.send(anna(engine.StateTrustPending))
	p := srv.WaitCalls(t, 3, 3*time.Second)[2]
	if p.ReplacesID != c.ID || p.Summary != "Anna's iPhone is asking to trust this computer" {
		t.Fatalf("%+v", p)
	}
}

// When the guide cannot be opened, a visible notice says how to read it.
func TestGuideFailureIsVisible(t *testing.T) {
	addr := desktoptest.StartBus(t)
	srv := desktoptest.FakeNotificationServer(t, addr)
	h := newHarnessNoRun(t, addr, Options{})
	h.n.opts.OpenGuide = func(string) error { return fmt.Errorf("xdg-open: not found") }
	h.n.Tell("Tap Trust on your iPhone", "", "step-3")
	c := srv.WaitCalls(t, 1, 3*time.Second)[0]
	h.waitTracked(t, c.ID, "step-3")
	if err := srv.InvokeAction(c.ID, ActionHowToFix); err != nil {
		t.Fatal(err)
	}
	g := srv.WaitCalls(t, 2, 3*time.Second)[1]
	if g.Summary != "Could not open the guide" || !strings.Contains(g.Body, "trustwatch guide step-3 --print") {
		t.Fatalf("%+v", g)
	}
	h.log.waitFor(t, "could not open the guide", time.Second)
}

// Signals from anyone but the server, with odd bodies or unknown keys, are
// ignored and never crash the listener.
func TestActionSignalsAreFiltered(t *testing.T) {
	addr := desktoptest.StartBus(t)
	srv := desktoptest.FakeNotificationServer(t, addr)
	h := newHarness(t, addr, Options{})
	h.n.Tell("Tap Trust on your iPhone", "Then enter its passcode.", "step-3")
	c := srv.WaitCalls(t, 1, 3*time.Second)[0]
	if c.Summary != "Tap Trust on your iPhone" || !slices.Equal(c.Actions, wantActions) {
		t.Fatalf("%+v", c)
	}

	stranger := desktoptest.Connect(t, addr)
	path := dbus.ObjectPath("/org/freedesktop/Notifications")
	iface := "org.freedesktop.Notifications"
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(stranger.Emit(path, iface+".ActionInvoked", c.ID, ActionHowToFix))       // not the server
	must(srv.Conn().Emit(path, iface+".ActionInvoked", "x", 3))                   // wrong types
	must(srv.Conn().Emit(path, iface+".ActionInvoked", c.ID))                     // short body
	must(srv.Conn().Emit(path, iface+".ActionInvoked", c.ID, "other-key"))        // not ours
	must(srv.Conn().Emit(path, iface+".ActionInvoked", c.ID+100, ActionHowToFix)) // unknown id
	must(srv.Conn().Emit(path, iface+".NotificationClosed", "bad", "bad"))
	select {
	case a := <-h.guides:
		t.Fatalf("guide opened at %q by a bogus signal", a)
	case <-time.After(300 * time.Millisecond):
	}
	must(srv.InvokeAction(c.ID, ActionHowToFix))
	h.wantGuide(t, "step-3")
}

// Ten phones at once make one notification, updated in place as they
// change, and withdrawn when they are all unplugged.
func TestTenDevicesOneNotification(t *testing.T) {
	addr := desktoptest.StartBus(t)
	srv := desktoptest.FakeNotificationServer(t, addr)
	h := newHarness(t, addr, Options{})
	var devs []engine.Device
	for i := range 10 {
		devs = append(devs, engine.Device{Key: fmt.Sprintf("dev%02d", i), UDID: fmt.Sprintf("0000-%02d", i), State: engine.StateUntrustedLocked})
	}
	h.send(devs...)
	// A second snapshot right after with one more phone joins it.
	devs = append(devs, engine.Device{Key: "dev10", Name: "Late iPhone", State: engine.StateNoData})
	h.send(devs...)
	c := srv.WaitCalls(t, 1, 3*time.Second)[0]
	if c.Summary != "11 iPhones need attention" || !strings.HasPrefix(c.Body, "iPhone 0000-00: locked, not trusted yet\n") ||
		!strings.Contains(c.Body, "…and 6 more.") {
		t.Fatalf("%+v", c)
	}
	time.Sleep(500 * time.Millisecond)
	if n := len(srv.Calls()); n != 1 {
		t.Fatalf("%d Notify calls, want 1", n)
	}
	for i := range 10 {
		devs[i].State = engine.StateTrustPending
	}
	h.send(devs...)
	u := srv.WaitCalls(t, 2, 3*time.Second)[1]
	if u.ReplacesID != c.ID || !strings.HasPrefix(u.Body, "iPhone 0000-00: waiting for Trust\n") {
		t.Fatalf("update %+v", u)
	}
	h.send()
	if cl := srv.WaitClosed(t, 1, 3*time.Second)[0]; cl.ID != c.ID {
		t.Fatalf("closed %d", cl.ID)
	}
	time.Sleep(300 * time.Millisecond)
	if n := len(srv.Calls()); n != 2 {
		t.Fatalf("%d Notify calls, want 2", n)
	}
}

// A phone flapping for 3 fake minutes, driven through Run with an
// injected clock at the default settings: at most one new bubble per 30 s.
func TestFlappingThroughRunWithInjectedClock(t *testing.T) {
	addr := desktoptest.StartBus(t)
	srv := desktoptest.FakeNotificationServer(t, addr)
	var mu sync.Mutex
	now := t0
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	h := newHarness(t, addr, Options{Now: clock})
	states := []engine.State{engine.StateLocked, "", engine.StateUnstable, ""}
	for i := 0; i < 360; i++ { // every 0.5 s for 180 s
		mu.Lock()
		now = t0.Add(time.Duration(i) * 500 * time.Millisecond)
		mu.Unlock()
		var devs []engine.Device
		if s := states[(i/3)%len(states)]; s != "" {
			devs = append(devs, anna(s))
		}
		// Sent twice: when the second send returns, Run has finished
		// handling the first at this clock reading.
		h.send(devs...)
		h.send(devs...)
		// Real time for the sender: a bubble's update and its withdrawal
		// in one instant are coalesced in the queue (only the newest counts).
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	calls := srv.Calls()
	var fresh []int
	for i, c := range calls {
		if c.ReplacesID == 0 {
			fresh = append(fresh, i)
		}
	}
	// 180 s / 30 s → at most 6 new bubbles (plus the first).
	if len(fresh) < 3 || len(fresh) > 7 {
		t.Fatalf("%d new bubbles in 180 s of flapping: %+v (log %q)", len(fresh), calls, h.log.lines())
	}
	t.Logf("%d Notify calls (%d new bubbles), %d closes for 360 snapshots in 180 s", len(calls), len(fresh), len(srv.Closed()))
}

// No notification server: one log line, and neither Run nor Tell blocks.
func TestNoServerOneLogLineNoBlock(t *testing.T) {
	addr := desktoptest.StartBus(t)
	h := newHarness(t, addr, Options{})
	start := time.Now()
	var slowest time.Duration
	for i := range 50 {
		t0 := time.Now()
		h.n.Tell("Tap Trust on your iPhone", "", "step-3")
		h.send(anna([]engine.State{engine.StateLocked, engine.StateTrustPending}[i%2]))
		slowest = max(slowest, time.Since(t0))
		time.Sleep(5 * time.Millisecond)
	}
	h.log.waitFor(t, "unavailable", 3*time.Second)
	time.Sleep(300 * time.Millisecond)
	lines := h.log.lines()
	if len(lines) != 1 || !strings.Contains(lines[0], "org.freedesktop.Notifications") {
		t.Fatalf("want exactly one log line naming the missing server, got %q", lines)
	}
	if slowest > 50*time.Millisecond {
		t.Fatalf("a call took %v", slowest)
	}
	t.Logf("100 calls in %v, slowest %v; log: %s", time.Since(start), slowest, lines[0])
}

// A server that never answers: callers never wait, the queue drops with one
// line, and sending resumes when the server does.
func TestHungServerNeverBlocks(t *testing.T) {
	addr := desktoptest.StartBus(t)
	srv := desktoptest.FakeNotificationServer(t, addr)
	release := srv.Hang()
	h := newHarness(t, addr, Options{SendTimeout: 300 * time.Millisecond, QueueSize: 4})
	start := time.Now()
	for i := range 100 {
		h.n.Tell(fmt.Sprintf("message %d", i), "", "")
	}
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Fatalf("100 Tell calls took %v against a hung server", d)
	}
	h.log.waitFor(t, "queue full", time.Second)
	h.log.waitFor(t, "unavailable", 2*time.Second)
	release()
	time.Sleep(1500 * time.Millisecond) // drain what is queued (each waits at most 300 ms)
	h.n.Tell("after", "", "")
	h.log.waitFor(t, "work again", 3*time.Second)
	calls := srv.WaitCalls(t, 1, 3*time.Second)
	if calls[len(calls)-1].Summary != "after" {
		// "after" may still be on its way; wait for it.
		deadline := time.Now().Add(3 * time.Second)
		for time.Now().Before(deadline) && srv.Calls()[len(srv.Calls())-1].Summary != "after" {
			time.Sleep(20 * time.Millisecond)
		}
	}
	if got := srv.Calls(); got[len(got)-1].Summary != "after" {
		t.Fatalf("last call %+v", got[len(got)-1])
	}
	closeStart := time.Now()
	release2 := srv.Hang()
	defer release2()
	h.n.Tell("stuck", "", "")
	time.Sleep(50 * time.Millisecond)
	if err := h.n.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(closeStart); d > time.Second {
		t.Fatalf("Close took %v with a Send in flight", d)
	}
}

// A server without the "actions" capability gets plain notifications.
func TestServerWithoutActions(t *testing.T) {
	addr := desktoptest.StartBus(t)
	srv := desktoptest.FakeNotificationServer(t, addr)
	srv.SetCapabilities("body")
	h := newHarness(t, addr, Options{})
	h.n.Tell("Tap Trust on your iPhone", "Then enter its passcode.", "step-3")
	c := srv.WaitCalls(t, 1, 3*time.Second)[0]
	if len(c.Actions) != 0 || c.Summary != "Tap Trust on your iPhone" {
		t.Fatalf("%+v", c)
	}
}

// dunst under Xvfb on a private bus: a real server takes our Notify with
// buttons and the icon, replaces in place (dunst shows one notification,
// not two) and removes on withdrawal (none shown).
func TestDunstReplacesAndWithdraws(t *testing.T) {
	addr := desktoptest.StartBus(t)
	display := desktoptest.StartXvfb(t)
	desktoptest.StartDunst(t, desktoptest.Env("DISPLAY="+display, "DBUS_SESSION_BUS_ADDRESS="+addr))
	conn := desktoptest.Connect(t, addr)

	b := NewDBusBackend(conn, DBusConfig{AppName: "trustwatch", Icon: iconFor(Options{}), OnAction: func(Action) {}})
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	actions, err := b.capabilities(ctx)
	if err != nil || !actions {
		t.Fatalf("dunst capabilities: actions=%v err=%v", actions, err)
	}
	shown := func() int {
		t.Helper()
		n, err := desktoptest.DunstShown(conn)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	var first uint32
	for i, s := range []engine.State{engine.StateUntrustedLocked, engine.StateTrustPending, engine.StateTrustRevoked} {
		tx, _ := TextFor(s)
		title, body := tx.Render(say.English, "Anna's iPhone")
		m := Message{Slot: "b1", Title: title, Body: body, Anchor: tx.Anchor, Urgency: UrgencyNormal, Level: icons.StateLevel(s), Keys: []string{"k"}}
		if s == engine.StateTrustRevoked {
			m.FixTrust = "k"
		}
		if err := b.Send(ctx, m); err != nil {
			t.Fatalf("dunst refused %s: %v", s, err)
		}
		b.mu.Lock()
		id := b.bySlot["b1"]
		b.mu.Unlock()
		if i == 0 {
			first = id
		} else if id != first {
			t.Fatalf("%s got id %d; dunst should have replaced %d", s, id, first)
		}
		if n := shown(); n != 1 {
			t.Fatalf("after %s dunst shows %d notifications, want 1", s, n)
		}
	}
	if err := b.Withdraw(ctx, "b1"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Second)
	for shown() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("dunst still shows %d notification(s) 1 s after the withdrawal", shown())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// With no injected connection the notifier uses the process-wide session
// bus: our Notify with actions when the server has them, beeep's (with
// AppName "trustwatch", not beeep's "DefaultAppName") when it does not.
// dbus.SessionBus() is connected once per process; no other test uses it.
// beeep's own path (no server at all) is not reachable here: beeep uses
// the same session bus.
func TestDefaultBackendOnTheSessionBus(t *testing.T) {
	addr := desktoptest.StartBus(t)
	srv := desktoptest.FakeNotificationServer(t, addr)
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", addr)
	icon := testPNG(t)

	n := New(Options{Icon: icon, Logger: slog.New(&logRec{}), OpenGuide: func(string) error { return nil }})
	n.Tell("with actions", "body", "step-3")
	c := srv.WaitCalls(t, 1, 3*time.Second)[0]
	if c.AppName != "trustwatch" || !slices.Equal(c.Actions, wantActions) {
		t.Fatalf("%+v", c)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}

	// A server without buttons still gets our own Notify: replacement and
	// withdrawal work there too (beeep is only for no server at all).
	srv.SetCapabilities("body")
	lr := &logRec{}
	n = New(Options{Icon: icon, Logger: slog.New(lr), OpenGuide: func(string) error { return nil }})
	defer n.Close()
	n.Tell("without buttons", "body", "step-3")
	c = srv.WaitCalls(t, 2, 3*time.Second)[1]
	if c.AppName != "trustwatch" || c.Summary != "without buttons" || len(c.Actions) != 0 || c.Expire != -1 {
		t.Fatalf("call %+v", c)
	}
	if _, ok := c.Hints["image-data"]; !ok {
		t.Errorf("no icon: %+v", c.Hints)
	}
	if l := lr.lines(); len(l) != 0 {
		t.Errorf("log: %q", l)
	}
}

// Close leaves no goroutine behind (sender, signal listener).
func TestCloseLeavesNoGoroutines(t *testing.T) {
	addr := desktoptest.StartBus(t)
	srv := desktoptest.FakeNotificationServer(t, addr)
	conn := desktoptest.Connect(t, addr)
	time.Sleep(50 * time.Millisecond)
	before := simtest.Goroutines()
	for i := range 5 {
		n := New(Options{OS: OSOptions{Conn: conn}, Logger: slog.New(&logRec{}), OpenGuide: func(string) error { return nil }})
		snaps := make(chan engine.Snapshot)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { n.Run(ctx, snaps); close(done) }()
		n.Tell("hello", "", "step-3")
		srv.WaitCalls(t, i+1, 3*time.Second)
		cancel()
		<-done
		if err := n.Close(); err != nil {
			t.Fatal(err)
		}
	}
	simtest.WaitGoroutines(t, before)
}

// A broken icon is one clear log line, and notifications go out without it.
func TestBadIconIsNotFatal(t *testing.T) {
	addr := desktoptest.StartBus(t)
	srv := desktoptest.FakeNotificationServer(t, addr)
	h := newHarness(t, addr, Options{Icon: []byte("not a png")})
	h.n.Tell("hello", "", "")
	c := srv.WaitCalls(t, 1, 3*time.Second)[0]
	if _, ok := c.Hints["image-data"]; ok || c.Summary != "hello" {
		t.Fatalf("%+v", c)
	}
	if l := h.log.lines(); len(l) != 1 || !strings.Contains(l[0], "icon") {
		t.Fatalf("log %q", l)
	}
}

// A notification server that restarts: its successor gets fresh
// notifications (no replaces_id from the old instance), and its actions work.
func TestServerRestart(t *testing.T) {
	addr := desktoptest.StartBus(t)
	srv := desktoptest.FakeNotificationServer(t, addr)
	h := newHarness(t, addr, Options{})
	h.send(anna(engine.StateUntrustedLocked))
	srv.WaitCalls(t, 1, 3*time.Second)
	srv.Close()
	// Wait until the bus has dropped the old owner.
	desktoptest.WaitForNameGone(t, addr, "org.freedesktop.Notifications", 3*time.Second)
	srv2 := desktoptest.FakeNotificationServer(t, addr)
	time.Sleep(100 * time.Millisecond)
	h.send(anna(engine.StateTrustPending))
	c := srv2.WaitCalls(t, 1, 3*time.Second)[0]
	if c.ReplacesID != 0 || c.Summary != "Anna's iPhone is asking to trust this computer" {
		t.Fatalf("%+v", c)
	}
	h.waitTracked(t, c.ID, "step-3")
	if err := srv2.InvokeAction(c.ID, ActionHowToFix); err != nil {
		t.Fatal(err)
	}
	h.wantGuide(t, "step-3")
}
