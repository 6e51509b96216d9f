// Package notify tells the user, through desktop notifications, what a
// plugged-in iPhone needs: one bubble per phone per plug, updated in place
// as the story moves (locked → asking to trust → now trusts), withdrawn when
// outdated, storms limited without ever holding a person's progress (all in
// the pure Core), and on Linux "How to fix" and "Fix trust" buttons.
package notify

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/trustwatch/trustwatch/icons"
	"github.com/trustwatch/trustwatch/internal/catalog"
	"github.com/trustwatch/trustwatch/watcher/engine"
)

// Backend shows, replaces and withdraws bubbles. Every call must honour
// ctx's deadline.
type Backend interface {
	// Send shows m; a message with the Slot of one shown before replaces it
	// where the platform can.
	Send(ctx context.Context, m Message) error
	// Withdraw removes the bubble shown in slot, where the platform can.
	Withdraw(ctx context.Context, slot string) error
	// Close releases what the backend holds (never a shared bus connection).
	Close() error
}

// The buttons a notification can carry (where the platform shows them).
// The labels are the English ones, for a message that carries none of its
// own (Message.Buttons).
const (
	ActionHowToFix      = "how-to-fix"
	ActionHowToFixLabel = "How to fix"
	ActionFixTrust      = "fix-trust"
	ActionFixTrustLabel = "Fix trust"
)

// Action is a button the user picked on a notification.
type Action struct {
	Key    string // ActionHowToFix or ActionFixTrust
	Anchor string // the guide anchor, for ActionHowToFix
	Device string // the device key, for ActionFixTrust
}

// Options configures a Notifier. Zero values take defaults.
type Options struct {
	AppName string // default "trustwatch"
	// Icon overrides the per-level badge images (tests); nil uses
	// icons.NotificationPNG for each message's level.
	Icon []byte
	// OpenGuide opens the guide at an anchor ("How to fix"). If it fails, a
	// notice says how to read the guide in a terminal.
	OpenGuide func(anchor string) error
	// FixTrust is what the "Fix trust" button does: the same path as the
	// tray's Fix trust. Called on the backend's signal goroutine: return
	// promptly.
	FixTrust func(deviceKey string)
	// SettingsPath is where the mode and the muted phones are kept; ""
	// keeps them in memory only.
	SettingsPath string
	Now          func() time.Time
	Logger       *slog.Logger
	// Backend overrides the platform default (D-Bus on Linux, beeep elsewhere).
	Backend Backend
	// Words are the language of the notifications; nil: the process's
	// language (catalog.Current()).
	Words *catalog.Words
	// OS holds the platform backend's own options (the D-Bus connection
	// on Linux).
	OS OSOptions

	// QueueSize bounds the bubbles waiting for the backend (default 32):
	// updates of one bubble replace each other in the queue.
	QueueSize int
	// SendTimeout bounds one backend call (default 5s).
	SendTimeout time.Duration
}

// Notifier is the shell around Core: it feeds it snapshots and clicks,
// keeps time, and hands operations to a sender goroutine through a
// bounded queue, so a slow or missing notification server never blocks
// the caller.
type Notifier struct {
	opts    Options
	words   catalog.Words
	log     *slog.Logger
	now     func() time.Time
	backend Backend

	runMu sync.Mutex // one Run at a time
	// coreMu guards core and settings: Run and the tray's clicks share them.
	coreMu   sync.Mutex
	core     *Core
	settings Settings
	poke     chan struct{} // capacity 1: "the core has something new"

	ctx    context.Context // cancelled by Close; aborts a call in flight
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once

	qmu      sync.Mutex
	queue    []Op
	ready    chan struct{} // capacity 1: "the queue has something"
	failing  bool          // the last call failed; logged once until one succeeds
	dropping bool          // the queue was full; logged once until it drains
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
		o.QueueSize = 32
	}
	if o.SendTimeout <= 0 {
		o.SendTimeout = 5 * time.Second
	}
	n := &Notifier{
		opts:  o,
		log:   o.Logger.With("part", "notify"),
		now:   o.Now,
		core:  NewCore(),
		poke:  make(chan struct{}, 1),
		ready: make(chan struct{}, 1),
	}
	n.settings = Settings{Mode: ModeAll}
	if o.SettingsPath != "" {
		s, err := LoadSettings(o.SettingsPath)
		if err != nil {
			n.log.Warn("notification settings", "err", err)
		}
		n.settings = s
	}
	n.core.SetPolicy(n.settings.Policy())
	n.words = catalog.Current()
	if o.Words != nil {
		n.words = *o.Words
	}
	n.core.SetWords(n.words)
	n.ctx, n.cancel = context.WithCancel(context.Background())
	n.backend = o.Backend
	if n.backend == nil {
		n.backend = defaultBackend(o, callbacks{action: n.onAction, closed: n.onClosed}, n.log)
	}
	n.wg.Add(1)
	go n.sender()
	return n
}

// callbacks are what a backend reports back.
type callbacks struct {
	action func(Action)
	closed func(slot string)
}

// iconFor is the PNG a message of level carries.
func iconFor(o Options) func(icons.Level) []byte {
	if o.Icon != nil {
		return func(icons.Level) []byte { return o.Icon }
	}
	return icons.NotificationPNG
}

func (n *Notifier) onAction(a Action) {
	switch a.Key {
	case ActionHowToFix:
		if n.opts.OpenGuide == nil || n.ctx.Err() != nil {
			return
		}
		// Off the signal goroutine: a browser can take seconds to start.
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			if err := n.opts.OpenGuide(a.Anchor); err != nil {
				n.log.Warn("could not open the guide", "anchor", a.Anchor, "err", err)
				title, body := GuideUnavailable(n.words, a.Anchor)
				n.enqueue(Op{Slot: "guide", Message: Message{Slot: "guide", Title: title, Body: body, Urgency: UrgencyNormal, Level: icons.Problem}})
			}
		}()
	case ActionFixTrust:
		if n.opts.FixTrust != nil && a.Device != "" {
			n.opts.FixTrust(a.Device)
		}
	}
}

func (n *Notifier) onClosed(slot string) {
	n.withCore(func(c *Core, _ time.Time) { c.Closed(slot) })
}

// withCore runs f on the core under its lock and wakes Run.
func (n *Notifier) withCore(f func(c *Core, now time.Time)) {
	n.coreMu.Lock()
	f(n.core, n.now())
	n.coreMu.Unlock()
	select {
	case n.poke <- struct{}{}:
	default:
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
			n.coreMu.Lock()
			n.core.Observe(s, n.now())
			n.coreMu.Unlock()
		case <-n.poke:
		case <-timer.C:
		}
		n.coreMu.Lock()
		now := n.now()
		ops := n.core.Due(now)
		at, ok := n.core.Next(now)
		n.coreMu.Unlock()
		for _, op := range ops {
			n.enqueue(op)
		}
		wait := time.Hour
		if ok {
			// A floor keeps a frozen test clock from spinning.
			wait = max(at.Sub(now), 5*time.Millisecond)
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(wait)
	}
}

// Tell shows a one-off message right away (About, an error of the tray's
// own). anchor "" means no "How to fix" button.
func (n *Notifier) Tell(title, body, anchor string) {
	n.enqueue(Op{Message: Message{Title: title, Body: body, Anchor: anchor, Urgency: UrgencyNormal, Level: icons.Idle, Buttons: Buttons(n.words)}})
}

// Answer shows f in the phone's bubble: the answer to a click on it
// (whatever the mode or mute; the person asked).
func (n *Notifier) Answer(deviceKey string, f Feedback) {
	n.withCore(func(c *Core, now time.Time) { c.Answer(deviceKey, f, now) })
}

// FixTrustClicked: the user chose Fix trust for the phone. The state change
// it causes replaces the phone's bubble at once; if none comes within
// FeedbackGrace, "Check your iPhone — tap Trust" does.
func (n *Notifier) FixTrustClicked(deviceKey string) {
	n.withCore(func(c *Core, now time.Time) { c.FixTrustClicked(deviceKey, now) })
}

// Forgot: the user forgot the phone's pairing. Its bubble says so, and the
// "does not trust this computer" that follows is not told.
func (n *Notifier) Forgot(deviceKey string) {
	n.withCore(func(c *Core, now time.Time) { c.Forgot(deviceKey, now) })
}

// Mode is the "Notifications" switch.
func (n *Notifier) Mode() Mode {
	n.coreMu.Lock()
	defer n.coreMu.Unlock()
	return n.core.Policy().Mode
}

// SetMode changes the switch and saves it; what it silences is withdrawn.
func (n *Notifier) SetMode(m Mode) error {
	if !m.Valid() {
		return fmt.Errorf("unknown notifications mode %q", m)
	}
	return n.change(func(s *Settings) { s.Mode = m })
}

// Muted reports whether the phone with this UDID is muted.
func (n *Notifier) Muted(udid string) bool {
	n.coreMu.Lock()
	defer n.coreMu.Unlock()
	return udid != "" && slices.Contains(n.settings.Muted, udid)
}

// SetMuted mutes or unmutes the phone with this UDID and saves it; a muted
// phone's bubble is withdrawn.
func (n *Notifier) SetMuted(udid string, on bool) error {
	if udid == "" {
		return fmt.Errorf("this iPhone has no UDID yet, so it cannot be muted")
	}
	return n.change(func(s *Settings) {
		s.Muted = slices.DeleteFunc(s.Muted, func(x string) bool { return x == udid })
		if on {
			s.Muted = append(s.Muted, udid)
		}
		s.Muted = normalise(s.Muted)
	})
}

// change applies f to the settings, puts them in force at once and saves
// them. A failed save keeps them in force for this run and says why.
func (n *Notifier) change(f func(*Settings)) error {
	var s Settings
	n.withCore(func(c *Core, _ time.Time) {
		s = n.settings
		s.Muted = slices.Clone(s.Muted)
		f(&s)
		n.settings = s
		c.SetPolicy(s.Policy())
	})
	if n.opts.SettingsPath == "" {
		return nil
	}
	if err := SaveSettings(n.opts.SettingsPath, s); err != nil {
		return fmt.Errorf("saving notification settings: %w", err)
	}
	return nil
}

// enqueue hands op to the sender. An op for a slot already waiting replaces
// that one (only the newest state of a bubble matters); the queue never
// blocks and drops one-off messages when full.
func (n *Notifier) enqueue(op Op) {
	select {
	case <-n.ctx.Done():
		return
	default:
	}
	n.qmu.Lock()
	i := -1
	if op.Slot != "" {
		i = slices.IndexFunc(n.queue, func(q Op) bool { return q.Slot == op.Slot })
	}
	dropped, first := false, false
	switch {
	case i >= 0:
		n.queue[i] = op
	case len(n.queue) < n.opts.QueueSize:
		n.queue = append(n.queue, op)
	default:
		dropped, first = true, !n.dropping
		n.dropping = true
	}
	n.qmu.Unlock()
	if dropped {
		if first {
			n.log.Warn("notification queue full (server slow or hung); dropping notifications", "title", op.Message.Title)
		}
		return
	}
	select {
	case n.ready <- struct{}{}:
	default:
	}
}

func (n *Notifier) next() (Op, bool) {
	n.qmu.Lock()
	defer n.qmu.Unlock()
	if len(n.queue) == 0 {
		n.dropping = false
		return Op{}, false
	}
	op := n.queue[0]
	n.queue = n.queue[1:]
	return op, true
}

func (n *Notifier) sender() {
	defer n.wg.Done()
	for {
		op, ok := n.next()
		if !ok {
			select {
			case <-n.ctx.Done():
				return
			case <-n.ready:
				continue
			}
		}
		ctx, cancel := context.WithTimeout(n.ctx, n.opts.SendTimeout)
		var err error
		if op.Withdraw {
			err = n.backend.Withdraw(ctx, op.Slot)
		} else {
			err = n.backend.Send(ctx, op.Message)
		}
		cancel()
		n.qmu.Lock()
		firstFail := err != nil && !n.failing
		recovered := err == nil && n.failing
		n.failing = err != nil
		n.qmu.Unlock()
		switch {
		case firstFail && n.ctx.Err() == nil:
			n.log.Warn("desktop notifications are unavailable; trustwatch keeps working without them", "err", err)
		case recovered:
			n.log.Info("desktop notifications work again")
		}
	}
}

// Close stops the sender (aborting a call in flight) and releases the
// backend. Operations still queued are dropped. Safe to call more than once.
func (n *Notifier) Close() error {
	var err error
	n.once.Do(func() {
		n.cancel()
		n.wg.Wait()
		err = n.backend.Close()
	})
	return err
}
