// Package notify tells the user, through desktop notifications, when an
// iPhone needs them: one notification per change into a state that needs the
// user, a quiet notice when the problem resolves, no storms (coalescing and
// per-device rate limits in the pure Core), and on Linux a "How to fix"
// action that opens the guide at the state's anchor.
package notify

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/trustwatch/trustwatch/watcher/engine"
)

// Backend shows one message. Send must honour ctx's deadline.
type Backend interface {
	Send(ctx context.Context, m Message) error
	// Close releases what the backend holds (never a shared bus connection).
	Close() error
}

// Options configures a Notifier. Zero values take defaults.
type Options struct {
	AppName string // default "trustwatch"
	Icon    []byte // PNG; nil for none
	// OpenGuide opens the guide at an anchor when the user picks "How to
	// fix". It is called on the backend's signal goroutine: return promptly.
	OpenGuide func(anchor string) error
	Now       func() time.Time
	Logger    *slog.Logger
	// Backend overrides the platform default (beeep; D-Bus with actions on Linux).
	Backend Backend
	// Conn is the D-Bus connection for the Linux backend; nil uses the shared
	// dbus.SessionBus(). Tests pass a connection to a private bus. Never closed.
	Conn *dbus.Conn

	// Window, MinInterval: see Config (tests shorten them).
	Window, MinInterval time.Duration
	// QueueSize bounds the messages waiting for the backend (default 8).
	QueueSize int
	// SendTimeout bounds one Send (default 5s).
	SendTimeout time.Duration
}

// Notifier is the shell around Core: it reads snapshots, keeps time and
// hands messages to a sender goroutine through a bounded queue, so a slow
// or missing notification server never blocks the caller.
type Notifier struct {
	opts    Options
	log     *slog.Logger
	now     func() time.Time
	backend Backend

	runMu sync.Mutex // one Run at a time owns the core
	core  *Core

	queue  chan Message
	ctx    context.Context // cancelled by Close; aborts an in-flight Send
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once

	mu       sync.Mutex
	failing  bool // the last Send failed; logged once until one succeeds
	dropping bool // the queue was full; logged once until it drains
}

// New makes a Notifier and starts its sender. It never fails: without a
// notification server it logs one line and keeps dropping messages quietly.
func New(o Options) *Notifier {
	if o.AppName == "" {
		o.AppName = "trustwatch"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 8
	}
	if o.SendTimeout <= 0 {
		o.SendTimeout = 5 * time.Second
	}
	n := &Notifier{
		opts:  o,
		log:   o.Logger.With("part", "notify"),
		now:   o.Now,
		core:  NewCore(Config{Window: o.Window, MinInterval: o.MinInterval}),
		queue: make(chan Message, o.QueueSize),
	}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	n.backend = o.Backend
	if n.backend == nil {
		n.backend = defaultBackend(o, n.onAction, n.log)
	}
	n.wg.Add(1)
	go n.sender()
	return n
}

func (n *Notifier) onAction(anchor string) {
	if n.opts.OpenGuide == nil {
		return
	}
	if err := n.opts.OpenGuide(anchor); err != nil {
		n.log.Warn("could not open the guide", "anchor", anchor, "err", err)
	}
}

// Run notifies about the snapshots until ctx ends or snaps is closed.
// Snapshots must be complete copies; edges are found per Device.Key.
func (n *Notifier) Run(ctx context.Context, snaps <-chan engine.Snapshot) {
	n.runMu.Lock()
	defer n.runMu.Unlock()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case s, ok := <-snaps:
			if !ok {
				return
			}
			n.core.Observe(s, n.now())
		case <-timer.C:
		}
		now := n.now()
		for _, m := range n.core.Due(now) {
			n.enqueue(m)
		}
		wait := time.Hour
		if at, ok := n.core.Next(); ok {
			// A floor keeps a frozen test clock from spinning.
			wait = max(at.Sub(now), 10*time.Millisecond)
		}
		timer.Reset(wait)
	}
}

// Tell shows a message right away (no coalescing), e.g. "Tap Trust on your
// iPhone" after a tray action. anchor "" means no "How to fix" action.
func (n *Notifier) Tell(title, body, anchor string) {
	n.enqueue(Message{Title: title, Body: body, Anchor: anchor, Urgency: UrgencyNormal})
}

func (n *Notifier) enqueue(m Message) {
	select {
	case <-n.ctx.Done():
		return
	default:
	}
	select {
	case n.queue <- m:
	default:
		n.mu.Lock()
		first := !n.dropping
		n.dropping = true
		n.mu.Unlock()
		if first {
			n.log.Warn("notification queue full (server slow or hung); dropping notifications", "title", m.Title)
		}
	}
}

func (n *Notifier) sender() {
	defer n.wg.Done()
	for {
		var m Message
		select {
		case <-n.ctx.Done():
			return
		case m = <-n.queue:
		}
		ctx, cancel := context.WithTimeout(n.ctx, n.opts.SendTimeout)
		err := n.backend.Send(ctx, m)
		cancel()
		n.mu.Lock()
		if len(n.queue) == 0 {
			n.dropping = false
		}
		firstFail := err != nil && !n.failing
		recovered := err == nil && n.failing
		n.failing = err != nil
		n.mu.Unlock()
		switch {
		case firstFail && n.ctx.Err() == nil:
			n.log.Warn("desktop notifications are unavailable; trustwatch keeps working without them", "err", err)
		case recovered:
			n.log.Info("desktop notifications work again")
		}
	}
}

// Close stops the sender (aborting a Send in flight) and releases the
// backend. Messages still queued are dropped. Safe to call more than once.
func (n *Notifier) Close() error {
	var err error
	n.once.Do(func() {
		n.cancel()
		n.wg.Wait()
		err = n.backend.Close()
	})
	return err
}
