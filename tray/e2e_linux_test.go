package tray

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/trustwatch/trustwatch/icons"
	"github.com/trustwatch/trustwatch/internal/desktoptest"
	"github.com/trustwatch/trustwatch/internal/say"
	"github.com/trustwatch/trustwatch/internal/sim"
	"github.com/trustwatch/trustwatch/internal/simtest"
	"github.com/trustwatch/trustwatch/watcher"
	"github.com/trustwatch/trustwatch/watcher/engine"
	"github.com/trustwatch/trustwatch/watcher/usbmux"
)

func init() { childModes["watcher"] = runWatcherChild }

// reportingController passes clicks to the real watcher and reports them.
type reportingController struct{ *watcher.Watcher }

func (r reportingController) FixTrust(key string) {
	report(event{Ev: "FixTrust", Key: key})
	r.Watcher.FixTrust(key)
}

func (r reportingController) Forget(key string) {
	report(event{Ev: "Forget", Key: key})
	r.Watcher.Forget(key)
}

// runWatcherChild is the tray wired as in the app (watcher with the tray's
// engine settings) against USBMUXD_SOCKET_ADDRESS.
func runWatcherChild() int {
	lg := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	addr, err := usbmux.AddressFromEnv()
	if err != nil {
		lg.Error("address", "err", err)
		return 2
	}
	w := watcher.New(watcher.Config{
		Address: addr,
		Engine:  engine.Config{Mode: engine.ModeFollow, AllowPair: true},
		Logger:  lg,
	})
	err = Run(childContext(), Options{
		Controller: reportingController{w},
		Tell:       func(title, body, anchor string) { report(event{Ev: "Tell", Title: title, Anchor: anchor}) },
		OpenGuide:  func(anchor string) error { report(event{Ev: "Guide", Anchor: anchor}); return nil },
		Logger:     lg,
		About:      About{Version: "v0.0.0-e2e"},
		Start: func(ctx context.Context) {
			report(event{Ev: "Start"})
			if err := w.Run(ctx); err != nil {
				lg.Error("watcher", "err", err)
			}
			report(event{Ev: "Stop"})
		},
	})
	if err != nil {
		lg.Error("tray.Run", "err", err)
		return 1
	}
	report(event{Ev: "Exit"})
	return 0
}

// TestTrayFixTrustEndToEnd: the real watcher against the simulator, the
// tray on xfce4-panel. A phone whose trust was reset; Fix trust sends
// exactly one Pair; after the Trust tap the phone is ready, the icon turns
// OK, and libimobiledevice validates the pairing trustwatch saved.
func TestTrayFixTrustEndToEnd(t *testing.T) {
	idevicepair := desktoptest.Need(t, "idevicepair", "libimobiledevice-utils")
	env, conn := desktop(t)
	s := simtest.Start(t, sim.Options{Logf: t.Logf})
	d := s.AddDevice(sim.DeviceConfig{Name: "Anna's iPhone", Revoked: true})

	c := startChild(t, "watcher", append(env, "USBMUXD_SOCKET_ADDRESS="+s.Address()))
	dest := waitItem(t, conn, c, 10*time.Second)
	revoked := "Anna's iPhone — " + say.StateWords(say.English, engine.StateTrustRevoked)
	m := waitMenu(t, conn, dest, 10*time.Second, revoked, func(m *desktoptest.MenuNode) bool { return complete(m) && m.Find(revoked) != nil })
	waitIcon(t, conn, dest, icons.Attention, 3*time.Second)
	before := d.Stats().PairRequests

	fix := m.Find(revoked).Find(LabelFixTrust.String())
	if fix == nil {
		t.Fatalf("no Fix trust under %q:\n%v", revoked, m)
	}
	if err := desktoptest.MenuClick(conn, dest, fix.ID); err != nil {
		t.Fatal(err)
	}
	c.expect("FixTrust", 3*time.Second)
	pending := "Anna's iPhone — " + say.StateWords(say.English, engine.StateTrustPending)
	waitMenu(t, conn, dest, 5*time.Second, pending, func(m *desktoptest.MenuNode) bool { return complete(m) && m.Find(pending) != nil })
	if !d.DialogShowing() {
		t.Fatal("the Trust alert is not showing on the simulated phone")
	}
	time.Sleep(500 * time.Millisecond) // room for a duplicate Pair to show up
	if n := d.Stats().PairRequests - before; n != 1 {
		t.Fatalf("Fix trust sent %d Pair requests, want exactly 1; requests:\n%s", n, strings.Join(d.Stats().Requests, "\n"))
	}

	tap := time.Now()
	t.Logf("tap at %s", tap.Format("15:04:05.000"))
	d.TapTrust()
	iconAt := waitIcon(t, conn, dest, icons.OK, 10*time.Second)
	t.Logf("Trust tap → ready icon (IconPixmap over D-Bus): %v", iconAt.Sub(tap).Round(time.Millisecond))
	ready := "Anna's iPhone — " + say.StateWords(say.English, engine.StateReady)
	waitMenu(t, conn, dest, 3*time.Second, ready, func(m *desktoptest.MenuNode) bool { return complete(m) && m.Find(ready) != nil })
	st := d.Stats()
	t.Logf("Pair requests in total: %d (before Fix trust: %d); SavePairRecord: %d", st.PairRequests, before, st.SavePairRecords)
	if st.SavePairRecords < 1 {
		t.Error("the pairing was not saved through usbmuxd")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, idevicepair, "-u", d.UDID(), "validate")
	cmd.Env = desktoptest.Env("USBMUXD_SOCKET_ADDRESS=" + s.Address())
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "SUCCESS") {
		t.Errorf("idevicepair validate: %v\n%s", err, out)
	}

	m, err = desktoptest.MenuLayout(conn, dest)
	if err != nil {
		t.Fatal(err)
	}
	clickQuit(t, conn, dest, m.Find(QuitLabel("linux")).ID)
	c.expect("Exit", 5*time.Second)
	if err := c.waitExit(5 * time.Second); err != nil {
		t.Fatalf("exit: %v; stderr:\n%s", err, c.Stderr())
	}
	if testing.Verbose() {
		t.Logf("tray stderr:\n%s", c.Stderr())
	}
}
