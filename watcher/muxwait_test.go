package watcher

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/trustwatch/trustwatch/internal/sim"
	"github.com/trustwatch/trustwatch/watcher/engine"
	"github.com/trustwatch/trustwatch/watcher/usbmux"
)

// The retry schedule, with a clock of our own: the usual backoff for a few
// seconds after usbmuxd went away or showed signs of life, then only the
// backstop (where the socket is watched).
func TestMuxWaiterPause(t *testing.T) {
	now := time.Unix(1000, 0)
	watched := make(chan struct{})
	m := &muxWaiter{appeared: watched, now: func() time.Time { return now }}
	delay := muxRetryMin
	var got []time.Duration
	for i := 0; i < 9; i++ {
		p := m.pause(delay)
		got = append(got, p)
		now = now.Add(p)
		delay = min(delay*2, muxRetryMax)
	}
	want := []time.Duration{100e6, 200e6, 400e6, 800e6, 1e9, 1e9, 1e9, 1e9, muxBackstop}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("pauses %v\nwant   %v", got, want)
		}
	}
	// Not watchable (TCP, not Linux): the plain backoff, forever.
	m = &muxWaiter{now: func() time.Time { return now }}
	now = now.Add(time.Hour)
	if p := m.pause(muxRetryMax); p != muxRetryMax {
		t.Fatalf("unwatched: %v", p)
	}
}

func stoppedSim(t *testing.T) (*sim.Server, usbmux.Address) {
	t.Helper()
	s, err := sim.Start(sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	s.Stop() // the socket file is gone, as before udev starts usbmuxd
	addr, err := usbmux.ParseAddress(s.Address())
	if err != nil {
		t.Fatal(err)
	}
	return s, addr
}

func runWatcher(t *testing.T, w *Watcher) func() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	stop := func() { cancel(); <-done }
	t.Cleanup(stop)
	return stop
}

func awaitMux(t *testing.T, w *Watcher, reachable bool, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for w.Snapshot().Usbmux.Reachable != reachable {
		if time.Now().After(deadline) {
			t.Fatalf("usbmuxd reachable=%v not seen within %v", reachable, within)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// With no usbmuxd, trustwatch waits for its socket instead of polling, and
// connects within a second of it appearing.
func TestUsbmuxdAwaitedByEvent(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the socket is watched on Linux only")
	}
	t.Parallel()
	s, addr := stoppedSim(t)
	w := New(Config{Address: addr, Engine: trayCfg})
	stop := runWatcher(t, w)
	time.Sleep(muxQuickFor + 2*time.Second) // past the quick retries
	before := s.MuxStats().Connections
	time.Sleep(2 * time.Second)
	if got := s.MuxStats().Connections; got != before {
		t.Fatalf("%d connection attempts while waiting", got-before)
	}
	d := s.AddDevice(sim.DeviceConfig{Trusted: true})
	t0 := time.Now()
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	awaitMux(t, w, true, time.Second)
	t.Logf("socket appeared → connected in %v", time.Since(t0))
	deadline := time.Now().Add(5 * time.Second)
	for {
		if dev, ok := w.Snapshot().Device(engine.NormalizeUDID(d.UDID())); ok && dev.State == engine.StateReady {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the phone behind the new usbmuxd: %+v", w.Snapshot().Devices)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// usbmuxd restarting again (the socket re-created) is picked up too.
	s.Stop()
	awaitMux(t, w, false, 3*time.Second)
	time.Sleep(muxQuickFor + time.Second)
	t0 = time.Now()
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	awaitMux(t, w, true, time.Second)
	t.Logf("again in %v", time.Since(t0))
	stop()
}

// The socket appearing and an Apple device arriving on USB both end the
// wait at once, and open a window of quick retries (usbmuxd binds before it
// listens; udev takes a moment to start it).
func TestMuxWaiterWakes(t *testing.T) {
	appeared, kick := make(chan struct{}, 1), make(chan struct{}, 1)
	m := &muxWaiter{appeared: appeared, kick: kick, now: time.Now}
	m.quickUntil = time.Now().Add(-time.Second) // long past: the backstop applies
	for _, wake := range []chan struct{}{appeared, kick} {
		wake <- struct{}{}
		t0 := time.Now()
		if !m.wait(context.Background(), muxRetryMax) {
			t.Fatal("wait ended")
		}
		if took := time.Since(t0); took > 100*time.Millisecond {
			t.Fatalf("woke after %v", took)
		}
		if p := m.pause(muxRetryMax); p != muxRetryMin/10 {
			t.Fatalf("the next try after a wake in %v, want %v", p, muxRetryMin/10)
		}
		m.quickUntil = time.Now().Add(-time.Second)
	}
	// A watch that ended (its directory removed) falls back to the backoff.
	close(appeared)
	m.wait(context.Background(), muxRetryMax)
	m.quickUntil = time.Now().Add(-time.Second)
	if m.appeared != nil || m.pause(muxRetryMax) != muxRetryMax {
		t.Fatal("no fallback to the plain backoff")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if m.wait(ctx, muxRetryMax) {
		t.Fatal("wait went on after ctx ended")
	}
}

// The event loop passes an Apple device's arrival on to the usbmuxd wait.
func TestUSBArrivalKicksUsbmuxdWait(t *testing.T) {
	w := New(Config{Engine: trayCfg})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.loop(ctx) }()
	defer func() { cancel(); <-done }()
	w.events <- engine.USBAdded{Device: engine.USBDevice{Bus: 1, Address: 5, ProductID: 0x12a8, Kind: engine.USBMobile}}
	select {
	case <-w.muxKick:
	case <-time.After(2 * time.Second):
		t.Fatal("no kick")
	}
}

func TestSocketWatchEndsWithItsDirectory(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("Linux only")
	}
	dir := t.TempDir()
	sub := filepath.Join(dir, "run")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	ch, stop, ok := watchSocket(filepath.Join(sub, "usbmuxd"))
	if !ok {
		t.Fatal("cannot watch")
	}
	defer stop()
	if err := os.WriteFile(filepath.Join(sub, "other"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sub, "usbmuxd"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ch:
	case <-time.After(2 * time.Second):
		t.Fatal("no event for the socket's name")
	}
	select {
	case <-ch:
		t.Fatal("an event for another name")
	case <-time.After(100 * time.Millisecond):
	}
	os.RemoveAll(sub)
	select {
	case _, ok := <-ch:
		for ok {
			_, ok = <-ch
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the watch did not end with its directory")
	}
	if _, _, ok := watchSocket(filepath.Join(dir, "missing", "usbmuxd")); ok {
		t.Fatal("watching a directory that does not exist")
	}
}
