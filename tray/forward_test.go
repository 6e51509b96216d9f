//go:build !darwin || cgo

package tray

import (
	"context"
	"log/slog"
	"testing"
	"time"
)

// TestForwardEndsWithItsMenu: a click forwarder passes clicks on, and ends
// when its menu is rebuilt (its context ends) even though systray never
// closes the item's channel.
func TestForwardEndsWithItsMenu(t *testing.T) {
	clicked := make(chan struct{})
	out := make(chan Action, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		forward(ctx, clicked, Action{Op: OpQuit}, out, slog.New(slog.DiscardHandler))
	}()
	clicked <- struct{}{}
	select {
	case a := <-out:
		if a.Op != OpQuit {
			t.Fatalf("forwarded %v, want Quit", a.Op)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the click was not forwarded")
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the forwarder outlived its menu")
	}
}
