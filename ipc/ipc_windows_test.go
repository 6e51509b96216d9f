package ipc

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/trustwatch/trustwatch/watcher"
	"github.com/trustwatch/trustwatch/watcher/engine"
)

type fakeTray struct {
	mu    sync.Mutex
	fixed []string
}

func (f *fakeTray) Snapshot() engine.Snapshot {
	return engine.Snapshot{Devices: []engine.Device{{Key: "K1", State: engine.StateTrustPending, DeviceID: 3}}}
}
func (f *fakeTray) FixTrust(k string)        { f.mu.Lock(); f.fixed = append(f.fixed, k); f.mu.Unlock() }
func (f *fakeTray) Forget(string)            {}
func (f *fakeTray) History() []watcher.Entry { return nil }

// The named pipe end to end (under Wine in CI): query, an action, and
// "not running" once the tray stops.
func TestPipe(t *testing.T) {
	defer goleak.VerifyNone(t)
	t.Logf("pipe under %s", pipeDescr())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := Query(ctx); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("before: %v", err)
	}
	l, err := Listen("")
	if err != nil {
		t.Fatal(err)
	}
	tray := &fakeTray{}
	sctx, stop := context.WithCancel(ctx)
	served := make(chan struct{})
	go func() { defer close(served); Serve(sctx, l, tray, nil) }()
	s, err := Query(ctx)
	if err != nil || len(s.Devices) != 1 || s.Devices[0].Key != "K1" || s.Devices[0].DeviceID != 3 {
		t.Fatalf("query: %+v %v", s, err)
	}
	if _, err := Do(ctx, OpFixTrust, "K1"); err != nil {
		t.Fatal(err)
	}
	// A client that connects and says nothing holds nobody up, and its
	// read deadline fires.
	name, _, _ := pipeName()
	silent, err := dialPipe(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	if _, err := Query(ctx); err != nil {
		t.Fatalf("beside a silent client: %v", err)
	}
	silent.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	start := time.Now()
	if _, err := silent.Read(make([]byte, 8)); err == nil || time.Since(start) > 3*time.Second {
		t.Fatalf("read deadline: %v after %v", err, time.Since(start))
	}
	tray.mu.Lock()
	if len(tray.fixed) != 1 {
		t.Errorf("fix-trust calls %v", tray.fixed)
	}
	tray.mu.Unlock()
	stop()
	<-served
	if _, err := Query(ctx); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("after: %v", err)
	}
}

func pipeDescr() string { n, _, _ := pipeName(); return n }
