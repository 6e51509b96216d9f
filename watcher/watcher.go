// Package watcher runs trustwatch's diagnosis: it feeds usbmuxd and USB
// events into the pure engine from one goroutine, carries out the engine's
// commands through the lockdown executor, and hands snapshots to the shells
// (CLI, notifier, tray).
package watcher

import (
	"context"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/trustwatch/trustwatch/watcher/engine"
	"github.com/trustwatch/trustwatch/watcher/ledger"
	"github.com/trustwatch/trustwatch/watcher/usbmux"
)

// Config wires a Watcher.
type Config struct {
	Address usbmux.Address
	Engine  engine.Config
	// ProbeBudget bounds one whole lockdown probe (default 5 s).
	ProbeBudget time.Duration
	// USB, when set, feeds USB hotplug events (nil: usbmuxd only).
	USB USBSource
	// OnOutput, when set, sees every engine output in order, with the
	// snapshot after it, on the event loop (keep it quick: it blocks the loop).
	OnOutput func(engine.Output, engine.Snapshot)
	Logger   *slog.Logger
	// Ledger, when set, is shared with every other trustwatch process so
	// that a plug gets at most one automatic Pair whatever runs.
	Ledger *ledger.Ledger
	// Now is the clock (tests may inject one); default time.Now.
	Now func() time.Time
}

// USBSource is the USB hotplug watcher (watcher/usb in cgo builds).
type USBSource interface {
	Watch(ctx context.Context, out chan<- engine.Event) error
}

// Watcher owns one engine and everything that feeds it.
type Watcher struct {
	cfg    Config
	events chan engine.Event
	exec   *executor
	plugs  *plugScope // names the usbmuxd in the Pair ledger
	hist   history
	// muxKick wakes the wait for usbmuxd: an Apple device arrived on USB,
	// and Linux's udev starts usbmuxd for it.
	muxKick chan struct{}

	mu     sync.Mutex
	snap   engine.Snapshot
	subs   map[chan engine.Snapshot]struct{}
	closed bool
}

// New prepares a watcher; Run starts it.
func New(cfg Config) *Watcher {
	if cfg.ProbeBudget <= 0 {
		cfg.ProbeBudget = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	// Only Linux usbmuxd's LocationID is libusb's (bus << 16) | address, and
	// only there can the USB serial be read without opening the phone.
	if runtime.GOOS != "linux" {
		cfg.Engine.LooseUSBMatch = true
	}
	if cfg.Engine.Mux == (engine.MuxEnv{}) {
		cfg.Engine.Mux = DetectMuxEnv(cfg.USB != nil)
	}
	w := &Watcher{
		cfg:    cfg,
		events: make(chan engine.Event, 256),
		subs:   map[chan engine.Snapshot]struct{}{},
	}
	w.muxKick = make(chan struct{}, 1)
	w.snap = engine.Snapshot{Usbmux: engine.Usbmux{Address: cfg.Address.String()}, Devices: []engine.Device{}}
	w.plugs = &plugScope{addr: cfg.Address}
	w.exec = newExecutor(cfg, w.post)
	w.exec.scope = w.plugs.scope
	return w
}

// Run blocks until ctx ends. Every goroutine it started has ended when it
// returns.
func (w *Watcher) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		w.exec.stop()
		wg.Wait()
		w.mu.Lock()
		w.closed = true
		for ch := range w.subs {
			close(ch)
		}
		w.subs = nil
		w.mu.Unlock()
	}()
	if w.cfg.Engine.AllowPair {
		wg.Add(1)
		go func() { defer wg.Done(); hostIdentity() }() // warm up off the critical path
	}
	wg.Add(1)
	go func() { defer wg.Done(); w.watchUsbmux(ctx) }()
	if w.cfg.USB != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.cfg.USB.Watch(ctx, w.events); err != nil && ctx.Err() == nil {
				w.cfg.Logger.Warn("USB watcher stopped; diagnosing from usbmuxd alone", "err", err)
			}
		}()
	}
	return w.loop(ctx)
}

// maxBatch bounds the events handled between two snapshots.
const maxBatch = 256

// loop is the one goroutine that owns the engine.
func (w *Watcher) loop(ctx context.Context) error {
	eng := engine.New(w.cfg.Engine)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	snapshot := func(now time.Time) engine.Snapshot {
		snap := eng.Snapshot(now)
		if snap.Usbmux.Address == "" {
			snap.Usbmux.Address = w.cfg.Address.String()
		}
		return snap
	}
	for {
		var ev engine.Event
		select {
		case <-ctx.Done():
			return nil
		case ev = <-w.events:
		case <-timer.C:
			ev = engine.Tick{}
		}
		// Handle what is already queued before taking one snapshot: a
		// burst (a long listing, Listen's report of every present device)
		// must not cost a sorted copy of every device per event.
		changed := false
		now := w.cfg.Now()
		for n := 0; ; n++ {
			if _, ok := ev.(engine.USBAdded); ok {
				w.kickMux()
			}
			out := eng.Handle(ev, now)
			for _, c := range out.Commands {
				w.exec.run(ctx, c)
			}
			if out.InfoChanged {
				changed = true // the tray shows it; nothing to log or print
			}
			if len(out.Changes) > 0 || out.MuxChanged {
				changed = true
				s := snapshot(now)
				w.hist.record(out, s, now)
				if w.cfg.OnOutput != nil {
					w.cfg.OnOutput(out, s)
				}
			}
			if n == maxBatch {
				break
			}
			select {
			case ev = <-w.events:
				now = w.cfg.Now()
				continue
			default:
			}
			break
		}
		snap := snapshot(now)
		w.publish(snap, changed)
		// Only wake when the engine has a deadline: no idle ticking.
		timer.Stop()
		if at, ok := eng.NextDeadline(); ok {
			timer.Reset(max(at.Sub(w.cfg.Now()), 0))
		}
	}
}

// kickMux ends the wait for usbmuxd (never blocks: one pending kick is enough).
func (w *Watcher) kickMux() {
	select {
	case w.muxKick <- struct{}{}:
	default:
	}
}

// post delivers an event to the loop; it never blocks past ctx.
func (w *Watcher) post(ctx context.Context, ev engine.Event) {
	select {
	case w.events <- ev:
	case <-ctx.Done():
	}
}

func (w *Watcher) publish(s engine.Snapshot, changed bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.snap = s
	if !changed {
		return
	}
	for ch := range w.subs {
		select { // latest value wins: drop the stale one, never block the loop
		case <-ch:
		default:
		}
		ch <- s
	}
}

// Snapshot returns the latest picture.
func (w *Watcher) Snapshot() engine.Snapshot {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.snap
}

// Subscribe returns a channel that always holds the newest snapshot (bursts
// coalesce) and a function to stop. The channel closes when Run returns.
func (w *Watcher) Subscribe() (<-chan engine.Snapshot, func()) {
	ch := make(chan engine.Snapshot, 1)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		close(ch)
		return ch, func() {}
	}
	w.subs[ch] = struct{}{}
	ch <- w.snap
	return ch, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		if _, ok := w.subs[ch]; ok {
			delete(w.subs, ch)
			close(ch)
		}
	}
}

// FixTrust asks for the Trust prompt again where the state allows it.
func (w *Watcher) FixTrust(key string) { w.send(engine.FixTrust{Key: key}) }

// Forget removes this computer's pairing with the device.
func (w *Watcher) Forget(key string) { w.send(engine.Forget{Key: key}) }

func (w *Watcher) send(ev engine.Event) {
	select {
	case w.events <- ev:
	default: // the loop is swamped; a user click can be repeated
	}
}
