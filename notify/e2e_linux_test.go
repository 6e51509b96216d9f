package notify

import (
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/trustwatch/trustwatch/internal/desktoptest"
	"github.com/trustwatch/trustwatch/internal/sim"
	"github.com/trustwatch/trustwatch/internal/simtest"
	"github.com/trustwatch/trustwatch/watcher"
	"github.com/trustwatch/trustwatch/watcher/engine"
	"github.com/trustwatch/trustwatch/watcher/usbmux"
)

// The simulator's story through the real watcher into the notifier and a
// recording notification server: a locked, untrusted iPhone is plugged in,
// unlocked, and Trust is tapped. Exactly three notifications, in order, and
// "How to fix" on the first opens step-1.
func TestEndToEndSimulatorWatcherNotifier(t *testing.T) {
	s, addr := simtest.StartAddr(t, sim.Options{Logf: t.Logf}, usbmux.ParseAddress)
	w := watcher.New(watcher.Config{
		Address: addr,
		Engine:  engine.Config{AllowPair: true, Follow: true, CompletePairing: true},
		Logger:  slog.New(slog.DiscardHandler),
	})
	ctx, cancel := context.WithCancel(context.Background())
	watched := make(chan struct{})
	go func() { _ = w.Run(ctx); close(watched) }()
	t.Cleanup(func() { cancel(); <-watched })

	bus := desktoptest.StartBus(t)
	srv := desktoptest.FakeNotificationServer(t, bus)
	h := newHarnessNoRun(t, bus, Options{Window: 100 * time.Millisecond, MinInterval: 300 * time.Millisecond})
	snaps, stop := w.Subscribe()
	t.Cleanup(stop)
	ran := make(chan struct{})
	go func() { h.n.Run(ctx, snaps); close(ran) }()
	t.Cleanup(func() { cancel(); <-ran })

	d := s.AddDevice(sim.DeviceConfig{Name: "Anna's iPhone", Locked: true})
	c1 := srv.WaitCalls(t, 1, 10*time.Second)[0]
	if c1.Summary != "Anna's iPhone is locked" || !slices.Equal(c1.Actions, wantActions) {
		t.Fatalf("first: %+v", c1)
	}
	h.waitTracked(t, c1.ID, "step-1")
	if err := srv.InvokeAction(c1.ID, ActionFix); err != nil {
		t.Fatal(err)
	}
	h.wantGuide(t, "step-1")

	d.Unlock()
	c2 := srv.WaitCalls(t, 2, 10*time.Second)[1]
	if c2.Summary != "Anna's iPhone is asking to trust this computer" {
		t.Fatalf("second: %+v", c2)
	}
	// As in the CLI story: give the simulator a moment to register the
	// trust subscription before the tap.
	time.Sleep(200 * time.Millisecond)
	d.TapTrust()
	c3 := srv.WaitCalls(t, 3, 10*time.Second)[2]
	if c3.Summary != "Anna's iPhone now trusts this computer" || c3.ReplacesID != c2.ID {
		t.Fatalf("third: %+v", c3)
	}
	time.Sleep(600 * time.Millisecond)
	if calls := srv.Calls(); len(calls) != 3 {
		t.Fatalf("%d notifications, want 3: %+v", len(calls), calls)
	}
}
