package notify

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/gen2brain/beeep"

	"github.com/trustwatch/trustwatch/icons"
)

// errBusy: beeep has no context, so a hung call is left to finish on its own
// and later messages are refused until it does, instead of piling up.
var errBusy = errors.New("notify: previous notification still in progress")

// BeeepBackend shows messages through gen2brain/beeep (D-Bus or notify-send
// on Linux, toasts on Windows, osascript on macOS). It has no buttons, and
// cannot replace or withdraw what it showed: every Send is a new
// notification, and Withdraw does nothing.
type BeeepBackend struct {
	icon func(icons.Level) []byte
	busy atomic.Bool
}

// NewBeeepBackend sets beeep's global AppName (Windows toasts and the Linux
// app name come from it; beeep's default is "DefaultAppName") and returns a
// backend. Call it before any Send; it is not safe to race with one.
func NewBeeepBackend(appName string, icon func(icons.Level) []byte) *BeeepBackend {
	beeep.AppName = appName
	return &BeeepBackend{icon: icon}
}

// Send shows m as a new notification, giving up waiting when ctx ends.
func (b *BeeepBackend) Send(ctx context.Context, m Message) error {
	if !b.busy.CompareAndSwap(false, true) {
		return errBusy
	}
	var icon any = ""
	if b.icon != nil {
		if data := b.icon(m.Level); len(data) > 0 {
			icon = data
		}
	}
	done := make(chan error, 1)
	go func() {
		defer b.busy.Store(false)
		done <- beeep.Notify(m.Title, m.Body, icon)
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Withdraw does nothing: beeep cannot close what it showed.
func (b *BeeepBackend) Withdraw(context.Context, string) error { return nil }

// Close does nothing: beeep keeps no state.
func (b *BeeepBackend) Close() error { return nil }
