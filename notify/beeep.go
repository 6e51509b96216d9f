package notify

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/gen2brain/beeep"
)

// errBusy: beeep has no context, so a hung call is left to finish on its own
// and later messages are refused until it does, instead of piling up.
var errBusy = errors.New("notify: previous notification still in progress")

// BeeepBackend shows messages through gen2brain/beeep (D-Bus or notify-send
// on Linux, toasts on Windows, osascript on macOS). It has no actions.
type BeeepBackend struct {
	icon any
	busy atomic.Bool
}

// NewBeeepBackend sets beeep's global AppName (Windows toasts and the Linux
// app name come from it; beeep's default is "DefaultAppName") and returns a
// backend. Call it before any Send; it is not safe to race with one.
func NewBeeepBackend(appName string, icon []byte) *BeeepBackend {
	beeep.AppName = appName
	b := &BeeepBackend{icon: ""}
	if len(icon) > 0 {
		b.icon = icon
	}
	return b
}

// Send shows m, giving up waiting when ctx ends.
func (b *BeeepBackend) Send(ctx context.Context, m Message) error {
	if !b.busy.CompareAndSwap(false, true) {
		return errBusy
	}
	done := make(chan error, 1)
	go func() {
		defer b.busy.Store(false)
		done <- beeep.Notify(m.Title, m.Body, b.icon)
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close does nothing: beeep keeps no state.
func (b *BeeepBackend) Close() error { return nil }
