package main

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/trustwatch/trustwatch/ipc"
	"github.com/trustwatch/trustwatch/watcher/engine"
	"github.com/trustwatch/trustwatch/watcher/ledger"
	"github.com/trustwatch/trustwatch/watcher/usbmux"
)

// openLedger opens the cross-process Pair ledger; without one, this
// process still sends at most one Pair per plug, but cannot know about
// the others'.
func openLedger(log *slog.Logger) *ledger.Ledger {
	l, err := ledger.Default()
	if err != nil {
		log.Warn("no Pair ledger; other trustwatch processes may each send a Pair for the same plug", "err", err)
		return nil
	}
	return l
}

// askRunning asks the running tray for its picture of the phones, waiting
// (until ctx ends) for every device to have a final state. ok is false
// when no tray serves this user or it watches another usbmuxd; the caller
// then probes by itself.
func askRunning(ctx context.Context, addr usbmux.Address) (snap engine.Snapshot, ok bool) {
	qctx, cancel := context.WithTimeout(ctx, time.Second)
	s, err := ipc.Query(qctx)
	cancel()
	if err != nil || s.Usbmux.Address != addr.String() {
		return engine.Snapshot{}, false
	}
	for (!muxAnswered(s) || !s.AllFinal()) && ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
		qctx, cancel := context.WithTimeout(ctx, time.Second)
		next, err := ipc.Query(qctx)
		cancel()
		if err != nil {
			if errors.Is(err, ipc.ErrNotRunning) && ctx.Err() == nil {
				return engine.Snapshot{}, false // it quit: probe instead
			}
			break
		}
		s = next
	}
	return s, true
}
