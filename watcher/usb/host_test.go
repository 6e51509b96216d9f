package usb

import (
	"context"
	"errors"
	"testing"
	"time"
)

// On whatever USB this host has (often none in CI containers): List and
// Watch must answer, not panic or hang. Without cgo they must say
// ErrUnavailable.
func TestHostListAndWatchAnswer(t *testing.T) {
	ok, why := Available()
	t.Logf("Available() = %v %q", ok, why)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	devs, err := List(ctx)
	if !ok {
		if why == "" {
			t.Error("Available() = false with no reason")
		}
		if !errors.Is(err, ErrUnavailable) {
			t.Errorf("List when unavailable: err = %v, want ErrUnavailable", err)
		}
		return
	}
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	t.Logf("List: %v", devs)

	wctx, wcancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer wcancel()
	done := make(chan error, 1)
	go func() { done <- Watch(wctx, make(chan Event, len(devs)+1)) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Watch: %v", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Watch did not return after its context ended")
	}
}
