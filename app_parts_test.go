package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/trustwatch/trustwatch/internal/sim"
	"github.com/trustwatch/trustwatch/internal/simtest"
	"github.com/trustwatch/trustwatch/ipc"
	"github.com/trustwatch/trustwatch/notify"
	"github.com/trustwatch/trustwatch/watcher"
	"github.com/trustwatch/trustwatch/watcher/engine"
	"github.com/trustwatch/trustwatch/watcher/usbmux"
)

// sentBackend records what the notifier sends (no D-Bus needed).
type sentBackend struct {
	mu   sync.Mutex
	sent []notify.Message
}

func (b *sentBackend) Send(_ context.Context, m notify.Message) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sent = append(b.sent, m)
	return nil
}
func (b *sentBackend) Withdraw(context.Context, string) error { return nil }
func (b *sentBackend) Close() error                           { return nil }
func (b *sentBackend) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.sent)
}

// TestRunPartsOwnsItsGoroutines runs what the tray's Start runs — the
// watcher against the simulator, the notifier, the IPC endpoint and a
// story — in this process, ends its context, and checks that runParts
// returns and that every goroutine it started has ended.
func TestRunPartsOwnsItsGoroutines(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the IPC endpoint is a named pipe on Windows; ipc's own tests cover it")
	}
	s, addr := simtest.StartAddr(t, sim.Options{}, usbmux.ParseAddress)
	s.AddDevice(sim.DeviceConfig{Name: "Anna's iPhone", Locked: true})
	before := simtest.Goroutines()

	log := slog.New(slog.DiscardHandler)
	w := watcher.New(watcher.Config{
		Address: addr,
		Engine:  engine.Config{Mode: engine.ModeFollow, AllowPair: true},
		Logger:  log,
	})
	b := &sentBackend{}
	n := notify.New(notify.Options{AppName: "trustwatch-test", Backend: b, Logger: log})
	l, err := ipc.Listen(t.TempDir())
	if err != nil {
		t.Fatalf("ipc.Listen: %v", err)
	}
	storyEnded := make(chan struct{})
	// The story takes a moment to end: runParts must wait for it.
	story := func(ctx context.Context) { <-ctx.Done(); time.Sleep(200 * time.Millisecond); close(storyEnded) }

	ctx, cancel := context.WithCancel(context.Background())
	returned := make(chan struct{})
	go func() { defer close(returned); runParts(ctx, w, n, l, false, story, log) }()

	// All parts run: the watcher sees the phone, the notifier tells it.
	simtest.Eventually(t, "the phone diagnosed and told", func() error {
		if d := w.Snapshot().Devices; len(d) != 1 || !d[0].State.Final() {
			return fmt.Errorf("no diagnosed phone in the snapshot yet: %+v", d)
		}
		if b.count() == 0 {
			return errors.New("no notification sent yet")
		}
		return nil
	})
	cancel()
	select {
	case <-returned:
	case <-time.After(5 * time.Second):
		t.Fatal("runParts did not return within 5 s of its context ending")
	}
	select {
	case <-storyEnded:
	default:
		t.Fatal("runParts returned before the story ended")
	}
	if err := n.Close(); err != nil {
		t.Fatalf("notifier Close: %v", err)
	}
	simtest.WaitGoroutines(t, before)
}
