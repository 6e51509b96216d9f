package desktoptest

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// NotifyWatch records every Notify call any client makes on a bus, as the
// notification server receives it: a bus monitor (BecomeMonitor), so the
// server under test stays the real one (dunst) and the sender unchanged.
type NotifyWatch struct {
	mu      sync.Mutex
	calls   []NotifyCall
	changed chan struct{}
}

// WatchNotify starts recording the Notify calls on the bus at addr.
func WatchNotify(t testing.TB, addr string) *NotifyWatch {
	t.Helper()
	conn := Connect(t, addr)
	rule := "type='method_call',interface='" + notifIface + "',member='Notify'"
	if err := conn.BusObject().Call("org.freedesktop.DBus.Monitoring.BecomeMonitor", 0, []string{rule}, uint32(0)).Err; err != nil {
		t.Fatalf("BecomeMonitor: %v", err)
	}
	ch := make(chan *dbus.Message, 256)
	conn.Eavesdrop(ch)
	w := &NotifyWatch{changed: make(chan struct{})}
	go func() {
		for m := range ch {
			var c NotifyCall
			if m.Type != dbus.TypeMethodCall || dbus.Store(m.Body, &c.AppName, &c.ReplacesID, &c.AppIcon, &c.Summary, &c.Body, &c.Actions, &c.Hints, &c.Expire) != nil {
				continue
			}
			c.At = time.Now()
			w.mu.Lock()
			w.calls = append(w.calls, c)
			close(w.changed)
			w.changed = make(chan struct{})
			w.mu.Unlock()
		}
	}()
	return w
}

// Calls are the Notify calls seen so far.
func (w *NotifyWatch) Calls() []NotifyCall {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]NotifyCall(nil), w.calls...)
}

// Wait waits until ok accepts the calls seen, and fails the test after d.
func (w *NotifyWatch) Wait(t testing.TB, d time.Duration, what string, ok func([]NotifyCall) bool) []NotifyCall {
	t.Helper()
	deadline := time.After(d)
	for {
		w.mu.Lock()
		calls, changed := append([]NotifyCall(nil), w.calls...), w.changed
		w.mu.Unlock()
		if ok(calls) {
			return calls
		}
		select {
		case <-changed:
		case <-deadline:
			var seen strings.Builder
			for _, c := range calls {
				fmt.Fprintf(&seen, "\n  %q / %q", c.Summary, c.Body)
			}
			t.Fatalf("no Notify calls with %s within %v; saw %d calls:%s", what, d, len(calls), seen.String())
			return nil
		}
	}
}
