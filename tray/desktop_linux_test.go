package tray

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/trustwatch/trustwatch/icons"
	"github.com/trustwatch/trustwatch/internal/desktoptest"
	"github.com/trustwatch/trustwatch/internal/say"
	"github.com/trustwatch/trustwatch/watcher/engine"
)

// desktop starts a private bus, Xvfb and xfce4-panel (a real
// StatusNotifierItem host) and returns the child environment and a
// connection to the bus.
func desktop(t *testing.T) ([]string, *dbus.Conn) {
	t.Helper()
	addr := desktoptest.StartBus(t)
	disp := desktoptest.StartXvfb(t)
	env := desktoptest.Env("DISPLAY="+disp, "DBUS_SESSION_BUS_ADDRESS="+addr)
	env = desktoptest.StartPanel(t, env)
	return env, desktoptest.Connect(t, addr)
}

// argb is what the tray must publish as IconPixmap for a level: the
// source PNG's pixels as StatusNotifierItem wants them, ARGB32 in network
// byte order with straight (not premultiplied) alpha.
func argb(t *testing.T, l icons.Level) []byte {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(icons.For(l)))
	if err != nil {
		t.Fatal(err)
	}
	n, ok := img.(*image.NRGBA)
	if !ok {
		t.Fatalf("the %v icon decodes as %T, want straight-alpha NRGBA", l, img)
	}
	b := n.Bounds()
	out := make([]byte, 0, b.Dx()*b.Dy()*4)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := n.NRGBAAt(x, y)
			out = append(out, c.A, c.R, c.G, c.B)
		}
	}
	return out
}

// clickQuit clicks Quit. systray hands the click on and returns, and the
// tray quits at once, so the process may be gone before its D-Bus reply to
// the click is sent: a NoReply error is the click working (callers then
// check that the tray stopped and exited).
func clickQuit(t *testing.T, conn *dbus.Conn, dest string, id int32) {
	t.Helper()
	err := desktoptest.MenuClick(conn, dest, id)
	var de dbus.Error
	if err != nil && !(errors.As(err, &de) && de.Name == "org.freedesktop.DBus.Error.NoReply") {
		t.Fatalf("click Quit: %v", err)
	}
}

// confirmItem recognises each level's icon in what systray publishes.
func TestLevelPixmapsAreWhatTheHostSees(t *testing.T) {
	for _, l := range icons.Levels {
		if !bytes.Equal(levelPixmaps()[l], argb(t, l)) {
			t.Errorf("levelPixmaps()[%v] is not the published %v icon", l, l)
		}
	}
}

// waitIcon waits until the item's IconPixmap is, byte for byte, the
// source icon for l.
func waitIcon(t *testing.T, conn *dbus.Conn, dest string, l icons.Level, d time.Duration) time.Time {
	t.Helper()
	want := argb(t, l)
	deadline := time.Now().Add(d)
	for {
		px, err := desktoptest.IconPixmap(conn, dest)
		if err == nil && len(px) == 1 && bytes.Equal(px[0].ARGB, want) {
			return time.Now()
		}
		if time.Now().After(deadline) {
			why := fmt.Sprint(err)
			if err == nil && len(px) == 1 {
				why = pixmapDiff(px[0], want)
			}
			t.Fatalf("IconPixmap is not the %v icon after %v: %s", l, d, why)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// pixmapDiff says how a pixmap differs from the wanted ARGB bytes.
func pixmapDiff(px desktoptest.SNIPixmap, want []byte) string {
	if len(px.ARGB) != len(want) {
		return fmt.Sprintf("%dx%d pixmap with %d bytes, want %d bytes", px.W, px.H, len(px.ARGB), len(want))
	}
	var bad int
	var first []string
	for i := 0; i < len(want); i += 4 {
		if !bytes.Equal(px.ARGB[i:i+4], want[i:i+4]) {
			bad++
			if len(first) < 4 {
				first = append(first, fmt.Sprintf("(%d,%d) ARGB %v, want %v", i/4%int(px.W), i/4/int(px.W), px.ARGB[i:i+4], want[i:i+4]))
			}
		}
	}
	return fmt.Sprintf("%d of %d pixels differ, e.g. %s", bad, len(want)/4, strings.Join(first, "; "))
}

func allStates() wireMsg {
	m := wireMsg{Reachable: true}
	for _, s := range engine.AllStates {
		m.Devices = append(m.Devices, wireDevice{Key: "key-" + string(s), UDID: "udid-" + string(s), Name: "Phone " + string(s), State: s})
	}
	return m
}

func TestTrayOnXfcePanel(t *testing.T) {
	env, conn := desktop(t)
	logFile := filepath.Join(os.Getenv("HOME"), ".local", "state", "trustwatch", "trustwatch.log")
	env = append(env, "TRUSTWATCH_TEST_LOG="+logFile)
	t0 := time.Now()
	c := startChild(t, "fake", env)
	dest := waitItem(t, conn, c, 10*time.Second)
	// Start and Subscribe come from two goroutines, in either order.
	c.expectAll(5*time.Second, "Start", "Subscribe")

	// The panel's watcher lists the item: the icon is really in the tray.
	deadline := time.Now().Add(5 * time.Second)
	for {
		items, err := desktoptest.SNIItems(conn)
		if err == nil && contains(items, dest+"/StatusNotifierItem") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("item %s never registered with the panel's watcher: %v %v", dest, items, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("tray registered with xfce4-panel %v after start", time.Since(t0).Round(time.Millisecond))

	c.send(wireMsg{Reachable: true})
	m := waitMenu(t, conn, dest, 5*time.Second, "no iPhone", statusIs("No iPhone connected"))
	if m.Children[0].Enabled() {
		t.Error("status line is clickable")
	}
	if got := m.Labels(); strings.Join(got[1:], "|") != "---|Open guide…|Open at login|About trustwatch|---|Quit" {
		t.Errorf("menu with no phone: %q", got)
	}
	waitIcon(t, conn, dest, icons.Idle, 3*time.Second)

	// One device per contract state.
	c.send(allStates())
	m = waitMenu(t, conn, dest, 5*time.Second, "every state", statusIs("14 iPhones connected — 12 need attention"))
	waitIcon(t, conn, dest, icons.Problem, 3*time.Second)
	if tip, err := desktoptest.ToolTip(conn, dest); err != nil || !strings.HasPrefix(tip, "trustwatch: 14 iPhones connected — 12 need attention\n") {
		t.Errorf("tooltip %q, %v", tip, err)
	}
	for _, s := range engine.AllStates {
		label := "Phone " + string(s) + " — " + say.StateWords(say.English, s)
		n := m.Find(label)
		if n == nil {
			t.Errorf("no menu entry %q in\n%v", label, m)
			continue
		}
		if (n.Find(LabelFixTrust.String()) != nil) != s.TrustProblem() {
			t.Errorf("%s: Fix trust shown=%v", s, n.Find(LabelFixTrust.String()) != nil)
		}
		if (n.Find(LabelForget.String()) != nil) != s.HoldsPairing() {
			t.Errorf("%s: Forget shown=%v", s, n.Find(LabelForget.String()) != nil)
		}
		if (n.Find(LabelShowMeHow.String()) != nil) != (s.Anchor() != "") {
			t.Errorf("%s: Show me how shown=%v", s, n.Find(LabelShowMeHow.String()) != nil)
		}
	}
	entry := func(s engine.State) *desktoptest.MenuNode {
		return m.Find("Phone " + string(s) + " — " + say.StateWords(say.English, s))
	}
	click := func(n *desktoptest.MenuNode, what string) {
		t.Helper()
		if n == nil {
			t.Fatalf("no %s item in\n%v", what, m)
		}
		if err := desktoptest.MenuClick(conn, dest, n.ID); err != nil {
			t.Fatalf("click %s: %v", what, err)
		}
	}

	// Fix trust on an untrusted phone: one FixTrust (the state change it
	// causes is what gets notified).
	click(entry(engine.StateUntrusted).Find(LabelFixTrust.String()), "Fix trust (untrusted)")
	if e := c.expect("FixTrust", 3*time.Second); e.Key != "key-untrusted" {
		t.Errorf("FixTrust(%q), want key-untrusted", e.Key)
	}
	// trust-revoked also pairs again
	click(entry(engine.StateTrustRevoked).Find(LabelFixTrust.String()), "Fix trust (revoked)")
	if e := c.expect("FixTrust", 3*time.Second); e.Key != "key-trust-revoked" {
		t.Errorf("FixTrust(%q), want key-trust-revoked", e.Key)
	}

	// Don't Trust was tapped: advice and the guide, but no Pair.
	click(entry(engine.StateTrustDenied).Find(LabelFixTrust.String()), "Fix trust (denied)")
	got := c.expectAll(3*time.Second, "Tell", "Guide")
	if got["Guide"].Anchor != "step-2" || !strings.HasPrefix(got["Tell"].Title, "Unplug") {
		t.Errorf("trust-denied: %+v", got)
	}
	// locked and untrusted: tell to unlock, no Pair
	click(entry(engine.StateUntrustedLocked).Find(LabelFixTrust.String()), "Fix trust (untrusted-locked)")
	if e := c.expect("Tell", 3*time.Second); e.Title != "Unlock your iPhone" {
		t.Errorf("untrusted-locked: Tell %+v", e)
	}
	// pending: the prompt is up already; the guide explains it
	click(entry(engine.StateTrustPending).Find(LabelFixTrust.String()), "Fix trust (pending)")
	if e := c.expect("Guide", 3*time.Second); e.Anchor != "step-3" {
		t.Errorf("guide opened at %q, want step-3", e.Anchor)
	}
	c.quiet(300*time.Millisecond, "FixTrust")

	click(entry(engine.StateNoData).Find(LabelShowMeHow.String()), "Show me how (no data)")
	if e := c.expect("Guide", 3*time.Second); e.Anchor != "issue-cable" {
		t.Errorf("guide opened at %q, want issue-cable", e.Anchor)
	}
	click(entry(engine.StateReady).FindPrefix("Forget pairing with"), "Forget (ready)")
	if e := c.expect("Forget", 3*time.Second); e.Key != "key-ready" {
		t.Errorf("Forget(%q), want key-ready", e.Key)
	}
	click(m.Find(LabelOpenGuide.String()), "Open guide")
	if e := c.expect("Guide", 3*time.Second); e.Anchor != "" {
		t.Errorf("Open guide… opened %q, want the start", e.Anchor)
	}

	// Open at login: the click reaches the login item and the check shows.
	if m.Find(LabelOpenAtLog.String()).Toggled() {
		t.Error("Open at login checked before it was enabled")
	}
	click(m.Find(LabelOpenAtLog.String()), "Open at login")
	if e := c.expect("Login", 3*time.Second); !e.On {
		t.Error("Open at login click did not enable the login item")
	}
	m = waitMenu(t, conn, dest, 3*time.Second, "Open at login checked", func(m *desktoptest.MenuNode) bool {
		n := m.Find(LabelOpenAtLog.String())
		return complete(m) && n != nil && n.Toggled()
	})

	// About: this build and its log, and the log's folder one click away.
	about := m.Find(LabelAbout.String())
	if about == nil {
		t.Fatalf("no About item in\n%v", m)
	}
	wantAbout := "trustwatch v0.0.0-test|Commit 0123456789ab, built 2026-11-30|Licence: test licence|" +
		"Log: ~/.local/state/trustwatch/trustwatch.log|---|" + LabelOpenLogDir.String()
	if got := strings.Join(about.Labels(), "|"); got != wantAbout {
		t.Errorf("About submenu %q, want %q", got, wantAbout)
	}
	click(about.Find(LabelOpenLogDir.String()), "Open log folder")
	if e := c.expect("OpenFolder", 3*time.Second); e.Anchor != filepath.Dir(logFile) {
		t.Errorf("opened %q, want the log folder %s", e.Anchor, filepath.Dir(logFile))
	}

	// Icons per level, and the usbmuxd line.
	for _, tc := range []struct {
		state engine.State
		level icons.Level
	}{
		{engine.StateReady, icons.OK}, {engine.StateTrustPending, icons.Waiting}, {engine.StateLocked, icons.Waiting},
		{engine.StateTrustRevoked, icons.Attention}, {engine.StateRecovery, icons.Problem}, {engine.StateProbing, icons.Idle},
	} {
		c.send(wireMsg{Reachable: true, Devices: []wireDevice{{Key: "k", Name: "Anna's iPhone", State: tc.state}}})
		waitMenu(t, conn, dest, 3*time.Second, string(tc.state), func(m *desktoptest.MenuNode) bool {
			return complete(m) && m.Find("Anna's iPhone — "+say.StateWords(say.English, tc.state)) != nil
		})
		waitIcon(t, conn, dest, tc.level, 3*time.Second)
	}
	// usbmuxd idle without a phone is normal on Linux: no alarm, no item.
	c.send(wireMsg{Reachable: false, MuxState: engine.MuxNotRunning})
	m = waitMenu(t, conn, dest, 3*time.Second, "usbmuxd idle", statusIs("No iPhone connected"))
	if !m.Children[1].Separator() {
		t.Errorf("an item about an idle usbmuxd: %q", m.Children[1].Label())
	}
	waitIcon(t, conn, dest, icons.Idle, 3*time.Second)
	// A usbmuxd that refuses this user gets its item, with the next step.
	const refused = "usbmuxd refuses this user (permission denied)"
	c.send(wireMsg{Reachable: false, MuxState: engine.MuxPermissionDenied})
	m = waitMenu(t, conn, dest, 3*time.Second, "usbmuxd refusing", func(m *desktoptest.MenuNode) bool {
		return complete(m) && m.Children[1].Label() == refused
	})
	if m.Children[0].Label() != "No iPhone connected" || m.Find(refused).Find(LabelShowMeHow.String()) == nil {
		t.Errorf("menu %v / %v", m.Labels(), m.Find(refused).Labels())
	}

	m, err := desktoptest.MenuLayout(conn, dest)
	if err != nil {
		t.Fatal(err)
	}
	if q := m.Find("Quit"); q == nil {
		t.Fatalf("no Quit item in\n%v", m)
	} else {
		clickQuit(t, conn, dest, q.ID)
	}
	c.expect("Stop", 5*time.Second)
	c.expect("Exit", 5*time.Second)
	if err := c.waitExit(5 * time.Second); err != nil {
		t.Fatalf("tray exited with %v; stderr:\n%s", err, c.Stderr())
	}
	if s := c.Stderr(); strings.Contains(s, "panic") || strings.Contains(s, "no tray icon") {
		t.Errorf("unexpected stderr:\n%s", s)
	}
}

// TestTrayWithoutHost: a session bus but no StatusNotifierWatcher (GNOME
// without AppIndicator). The app keeps running, says once why there is no
// icon, and its menu still works over D-Bus.
func TestTrayWithoutHost(t *testing.T) {
	addr := desktoptest.StartBus(t)
	conn := desktoptest.Connect(t, addr)
	c := startChild(t, "nologin", desktoptest.Env("DBUS_SESSION_BUS_ADDRESS="+addr, "DISPLAY="))
	dest := waitItem(t, conn, c, 10*time.Second)
	c.expect("Start", 5*time.Second)
	c.send(wireMsg{Reachable: true, Devices: []wireDevice{{Key: "k1", Name: "Anna's iPhone", State: engine.StateUntrusted}}})
	m := waitMenu(t, conn, dest, 5*time.Second, "the device", statusIs("1 iPhone connected — needs attention"))
	if m.Find(LabelOpenAtLog.String()) != nil {
		t.Error("Open at login shown without a login item")
	}
	if err := desktoptest.MenuClick(conn, dest, m.Find(LabelFixTrust.String()).ID); err != nil {
		t.Fatal(err)
	}
	if e := c.expect("FixTrust", 3*time.Second); e.Key != "k1" {
		t.Errorf("FixTrust(%q)", e.Key)
	}
	c.signal(syscall.SIGTERM)
	c.expect("Exit", 5*time.Second)
	if err := c.waitExit(5 * time.Second); err != nil {
		t.Fatalf("exit: %v; stderr:\n%s", err, c.Stderr())
	}
	s := c.Stderr()
	if n := linesWith(s, "no tray icon"); n != 1 {
		t.Errorf("%d \"no tray icon\" lines, want exactly 1; stderr:\n%s", n, s)
	}
	if !strings.Contains(s, "org.kde.StatusNotifierWatcher") || strings.Contains(s, "failed to register") || strings.Contains(s, "panic") {
		t.Errorf("stderr:\n%s", s)
	}
}

// TestTrayWithoutSessionBus: no bus at all. No panic (systray v1.12.2
// would panic in Quit); the watcher runs headless until SIGTERM.
func TestTrayWithoutSessionBus(t *testing.T) {
	dir := t.TempDir()
	c := startChild(t, "fake", desktoptest.Env("DBUS_SESSION_BUS_ADDRESS=unix:path="+dir+"/no-bus", "DISPLAY=", "XDG_RUNTIME_DIR="+dir))
	c.expect("Start", 5*time.Second)
	c.signal(syscall.SIGTERM)
	c.expect("Stop", 5*time.Second)
	c.expect("Exit", 5*time.Second)
	if err := c.waitExit(5 * time.Second); err != nil {
		t.Fatalf("exit: %v; stderr:\n%s", err, c.Stderr())
	}
	s := c.Stderr()
	if linesWith(s, "no tray icon") != 1 || !strings.Contains(s, "session bus") || strings.Contains(s, "panic") {
		t.Errorf("stderr:\n%s", s)
	}
}

// TestTrayWatcherStopped: when the watcher gives up, the menu says so
// instead of showing a stale state.
func TestTrayWatcherStopped(t *testing.T) {
	addr := desktoptest.StartBus(t)
	conn := desktoptest.Connect(t, addr)
	c := startChild(t, "stopping", desktoptest.Env("DBUS_SESSION_BUS_ADDRESS="+addr, "DISPLAY="))
	dest := waitItem(t, conn, c, 10*time.Second)
	c.send(wireMsg{Reachable: true, Devices: []wireDevice{{Key: "k1", Name: "Anna's iPhone", State: engine.StateReady}}})
	c.expect("Stop", 5*time.Second)
	waitMenu(t, conn, dest, 5*time.Second, "the stopped line", statusIs(StoppedLine()))
	if tip, err := desktoptest.ToolTip(conn, dest); err != nil || tip != "trustwatch: "+StoppedLine() {
		t.Errorf("tooltip %q, %v", tip, err)
	}
	c.signal(syscall.SIGTERM)
	if err := c.waitExit(5 * time.Second); err != nil {
		t.Fatalf("exit: %v; stderr:\n%s", err, c.Stderr())
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// The Notifications switch and "Mute this iPhone" on a real panel, and
// the clicks that answer in a phone's bubble: Fix trust tells the notifier
// before the Pair is sent, Forget before the unpair, a notification's Fix
// trust button takes the menu's path.
func TestNotificationItemsOnXfcePanel(t *testing.T) {
	env, conn := desktop(t)
	c := startChild(t, "notify", env)
	dest := waitItem(t, conn, c, 10*time.Second)
	c.expect("Start", 5*time.Second)
	c.send(wireMsg{Reachable: true, Devices: []wireDevice{
		{Key: "k-rev", UDID: "u-rev", Name: "Rev", State: engine.StateTrustRevoked},
		{Key: "k-ready", UDID: "u-ready", Name: "Ready", State: engine.StateReady},
		{Key: "k-locked", UDID: "u-locked", Name: "Locked", State: engine.StateUntrustedLocked},
	}})
	m := waitMenu(t, conn, dest, 5*time.Second, "three phones", statusIs("3 iPhones connected — 2 need attention"))
	click := func(n *desktoptest.MenuNode, what string) {
		t.Helper()
		if n == nil {
			t.Fatalf("no %s item in\n%v", what, m)
		}
		if err := desktoptest.MenuClick(conn, dest, n.ID); err != nil {
			t.Fatalf("click %s: %v", what, err)
		}
	}
	sw := m.Find("Notifications: all")
	if sw == nil || sw.Find("All") == nil || !sw.Find("All").Toggled() || sw.Find("Off").Toggled() {
		t.Fatalf("no Notifications switch at all in\n%v", m)
	}
	click(sw.Find("Problems only"), "Problems only")
	if e := c.expect("SetMode", 3*time.Second); e.Title != "problems" {
		t.Errorf("SetMode(%q)", e.Title)
	}
	m = waitMenu(t, conn, dest, 3*time.Second, "switch moved", func(m *desktoptest.MenuNode) bool {
		sw := m.Find("Notifications: problems only")
		return complete(m) && sw != nil && sw.Find("Problems only").Toggled() && !sw.Find("All").Toggled()
	})

	rev := m.Find("Rev — " + say.StateWords(say.English, engine.StateTrustRevoked))
	click(rev.Find(LabelMute.String()), "Mute (Rev)")
	if e := c.expect("SetMuted", 3*time.Second); e.Key != "u-rev" || !e.On {
		t.Errorf("SetMuted %+v", e)
	}
	m = waitMenu(t, conn, dest, 3*time.Second, "Rev muted", func(m *desktoptest.MenuNode) bool {
		n := m.Find("Rev — " + say.StateWords(say.English, engine.StateTrustRevoked))
		return complete(m) && n != nil && n.Find(LabelMute.String()).Toggled()
	})

	click(m.Find("Rev — "+say.StateWords(say.English, engine.StateTrustRevoked)).Find(LabelFixTrust.String()), "Fix trust (revoked)")
	if e := c.expect("FixTrustClicked", 3*time.Second); e.Key != "k-rev" {
		t.Errorf("FixTrustClicked %+v", e)
	}
	c.expect("FixTrust", 3*time.Second)
	click(m.Find("Locked — "+say.StateWords(say.English, engine.StateUntrustedLocked)).Find(LabelFixTrust.String()), "Fix trust (locked)")
	if e := c.expect("Answer", 3*time.Second); e.Key != "k-locked" || e.Title != "Unlock your iPhone" {
		t.Errorf("Answer %+v", e)
	}
	click(m.Find("Ready — ready").FindPrefix("Forget pairing with"), "Forget")
	if e := c.expect("Forgot", 3*time.Second); e.Key != "k-ready" {
		t.Errorf("Forgot %+v", e)
	}
	c.expect("Forget", 3*time.Second)
	c.quiet(300*time.Millisecond, "Tell")

	c.send(wireMsg{FixTrustFromNotification: "k-rev"})
	if e := c.expect("FixTrustClicked", 3*time.Second); e.Key != "k-rev" {
		t.Errorf("notification button: FixTrustClicked %+v", e)
	}
	if e := c.expect("FixTrust", 3*time.Second); e.Key != "k-rev" {
		t.Errorf("notification button: FixTrust %+v", e)
	}
}
