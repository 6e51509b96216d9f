package watcher

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/trustwatch/trustwatch/internal/sim"
	"github.com/trustwatch/trustwatch/internal/simtest"
	"github.com/trustwatch/trustwatch/watcher/engine"
	"github.com/trustwatch/trustwatch/watcher/usbmux"
)

// A command that finishes after its phone left (Cancel dropped the
// device's work) keeps nothing: the request_pair stream it opened is closed
// at once instead of waiting in the map for a phone that is gone, and no
// entry is made again. While the phone is there, the stream is kept.
func TestLateResultKeepsNothing(t *testing.T) {
	s, addr := simtest.StartAddr(t, sim.Options{}, usbmux.ParseAddress)
	dev := s.AddDevice(sim.DeviceConfig{})
	x := newExecutor(Config{Address: addr, Engine: trayCfg, ProbeBudget: 5 * time.Second, Logger: slog.New(slog.DiscardHandler)},
		func(context.Context, engine.Event) {})
	key := engine.NormalizeUDID(dev.UDID())
	target := engine.Target{Key: key, DeviceID: dev.DeviceID(), UDID: dev.UDID()}
	commandCtx := func() context.Context { // what run gives a command
		var w *deviceWork
		x.with(key, func(dw *deviceWork) { w = dw })
		return context.WithValue(t.Context(), workKey{}, w)
	}
	entries := func() int {
		x.mu.Lock()
		defer x.mu.Unlock()
		return len(x.devices)
	}

	ctx := commandCtx()
	kept := x.observeRequestPair(ctx, target)
	if kept == nil {
		t.Fatal("no request_pair stream from the simulator")
	}
	x.keepRequestPair(ctx, kept)
	if got := x.takeRequestPair(ctx); got != kept {
		t.Fatal("a phone that is still there lost its stream")
	}
	x.keepRequestPair(ctx, kept)

	late := x.observeRequestPair(ctx, target)
	if late == nil {
		t.Fatal("no second request_pair stream")
	}
	x.cancel(key) // the phone left while the command was finishing
	x.keepRequestPair(ctx, late)
	x.dropPending(ctx)
	if n := entries(); n != 0 {
		t.Errorf("%d entries after the phone left, want 0", n)
	}
	for name, st := range map[string]interface {
		Next(context.Context) (string, error)
	}{"kept (closed by Cancel)": kept, "late": late} {
		nctx, stop := context.WithTimeout(t.Context(), 2*time.Second)
		_, err := st.Next(nctx)
		timedOut := nctx.Err() != nil
		stop()
		if err == nil || timedOut {
			t.Errorf("%s stream still open after the phone left (err %v)", name, err)
		}
	}
}
