package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"log/slog"
	"slices"
	"sync"
	"time"

	fdo "github.com/esiqveland/notify"
	"github.com/godbus/dbus/v5"
)

const (
	fdoName          = "org.freedesktop.Notifications"
	fdoPath          = dbus.ObjectPath("/org/freedesktop/Notifications")
	fdoIface         = "org.freedesktop.Notifications"
	sigActionInvoked = fdoIface + ".ActionInvoked"
	sigClosed        = fdoIface + ".NotificationClosed"

	// ActionFix is the action key of the "How to fix" button.
	ActionFix = "how-to-fix"
	// ActionFixLabel is its label.
	ActionFixLabel = "How to fix"
	// actionDefault is a click on the notification itself; some servers
	// (xfce4-notifyd) ignore it, hence the explicit button too.
	actionDefault = "default"

	maxTracked = 64 // notification ids remembered for actions
	maxEarly   = 8  // actions that arrive before the Notify reply is read
)

// DBusConfig configures a DBusBackend.
type DBusConfig struct {
	AppName string
	Icon    []byte // PNG, sent as the image-data hint
	// OnAction is called with the message's anchor when the user picks
	// "How to fix" (or clicks the notification).
	OnAction func(anchor string)
	// Fallback shows messages when the server has no "actions" capability
	// or cannot be reached (beeep, which also tries notify-send). nil sends
	// a plain Notify on the connection instead.
	Fallback Backend
	Logger   *slog.Logger
}

// DBusBackend talks freedesktop Notifications on one long-lived connection,
// adding a "How to fix" action when the server can show actions.
//
// It makes its own calls with the caller's deadline and parses signals
// defensively: esiqveland/notify v0.13.3's Notifier calls without a context
// and type-asserts signal bodies (a malformed ActionInvoked from any peer on
// the bus would panic it). The library's types and hint helpers are used.
type DBusBackend struct {
	conn     *dbus.Conn
	cfg      DBusConfig
	image    *dbus.Variant
	onAction func(anchor string)

	mu          sync.Mutex
	capsKnown   bool
	actions     bool
	owner       string            // unique name of the server, to filter signals
	anchors     map[uint32]string // notification id → anchor
	order       []uint32          // ids in anchors, oldest first
	early       []uint32          // ids of ActionInvoked that overtook their Notify reply
	closedEarly []uint32          // NotificationClosed for ids not recorded yet
	byKey       map[string]uint32 // device key → its open notification, replaced in place
	sigs        chan *dbus.Signal
	stop        chan struct{}
	done        chan struct{}
	closed      bool
}

// NewDBusBackend makes a backend on conn, which it never closes (the tray
// shares the session bus connection).
func NewDBusBackend(conn *dbus.Conn, cfg DBusConfig) *DBusBackend {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	b := &DBusBackend{
		conn: conn, cfg: cfg, onAction: cfg.OnAction,
		anchors: map[uint32]string{}, byKey: map[string]uint32{},
	}
	if len(cfg.Icon) > 0 {
		rgba, err := decodePNG(cfg.Icon)
		if err != nil {
			cfg.Logger.Warn("notification icon is not a usable PNG; notifying without it", "err", err)
		} else {
			h := fdo.HintImageDataRGBA(rgba)
			b.image = &h.Variant
		}
	}
	return b
}

// decodePNG returns the icon's pixels as non-premultiplied RGBA with a
// zero origin: image-data is straight (not premultiplied) alpha, and
// esiqveland's HintImageDataRGBA takes an *image.RGBA but only reads Pix,
// Stride and Rect.Max, so the NRGBA bytes are handed over in that wrapper.
func decodePNG(data []byte) (*image.RGBA, error) {
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	b := img.Bounds()
	if b.Dx() <= 0 || b.Dy() <= 0 || b.Dx() > 1024 || b.Dy() > 1024 {
		return nil, fmt.Errorf("icon is %dx%d; want 1 to 1024 pixels a side", b.Dx(), b.Dy())
	}
	n := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(n, n.Bounds(), img, b.Min, draw.Src)
	return &image.RGBA{Pix: n.Pix, Stride: n.Stride, Rect: n.Rect}, nil
}

// capabilities asks the server once whether it shows actions, and who it
// is (every time: a restarted server has a new unique name).
func (b *DBusBackend) capabilities(ctx context.Context) (actions bool, err error) {
	var owner string
	err = b.conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.GetNameOwner", 0, fdoName).Store(&owner)
	if err != nil {
		// No owner is fine if the bus can activate one; Notify will tell.
		owner = ""
	}
	b.mu.Lock()
	if owner != b.owner && b.owner != "" && owner != "" {
		// A new server instance: the old ids mean nothing to it.
		clear(b.byKey)
		b.closedEarly = nil
		b.capsKnown = false
	}
	b.owner = owner
	known, actions := b.capsKnown, b.actions
	b.mu.Unlock()
	if known {
		return actions, nil
	}
	var caps []string
	err = b.conn.Object(fdoName, fdoPath).CallWithContext(ctx, fdoIface+".GetCapabilities", 0).Store(&caps)
	if err != nil {
		return false, fmt.Errorf("notification server: %w", err)
	}
	actions = slices.Contains(caps, "actions")
	b.mu.Lock()
	b.capsKnown, b.actions = true, actions
	b.mu.Unlock()
	return actions, nil
}

// Send shows m.
func (b *DBusBackend) Send(ctx context.Context, m Message) error {
	actions, err := b.capabilities(ctx)
	if err != nil {
		if b.cfg.Fallback == nil {
			return err
		}
		if ferr := b.cfg.Fallback.Send(ctx, m); ferr != nil {
			return errors.Join(err, ferr)
		}
		return nil
	}
	if !actions && b.cfg.Fallback != nil {
		return b.cfg.Fallback.Send(ctx, m)
	}
	withAction := actions && m.Anchor != "" && b.onAction != nil
	if withAction {
		if err := b.subscribe(ctx); err != nil {
			b.cfg.Logger.Warn("cannot listen for notification actions; sending without them", "err", err)
			withAction = false
		}
	}
	var acts []string
	if withAction {
		acts = []string{actionDefault, ActionFixLabel, ActionFix, ActionFixLabel}
	}
	hints := map[string]dbus.Variant{"category": dbus.MakeVariant("device")}
	u := fdo.HintUrgency(fdo.Urgency(m.Urgency))
	hints[u.ID] = u.Variant
	if b.image != nil {
		hints["image-data"] = *b.image
	}
	var replaces uint32
	if len(m.Keys) == 1 {
		b.mu.Lock()
		replaces = b.byKey[m.Keys[0]]
		b.mu.Unlock()
	}
	var id uint32
	err = b.conn.Object(fdoName, fdoPath).CallWithContext(ctx, fdoIface+".Notify", 0,
		b.cfg.AppName, replaces, "", m.Title, m.Body, acts, hints, int32(-1)).Store(&id)
	if err != nil {
		b.mu.Lock()
		b.capsKnown = false // the server may be gone or replaced: ask again
		b.mu.Unlock()
		return fmt.Errorf("notification server: Notify: %w", err)
	}
	b.record(id, m, withAction)
	return nil
}

func (b *DBusBackend) record(id uint32, m Message, withAction bool) {
	b.mu.Lock()
	// Signals can overtake the Notify reply; a notification already
	// closed must not be replaced later (the server would show nothing).
	closed := false
	if i := slices.Index(b.closedEarly, id); i >= 0 {
		b.closedEarly = slices.Delete(b.closedEarly, i, i+1)
		closed = true
	}
	if len(m.Keys) == 1 && !closed {
		b.byKey[m.Keys[0]] = id
	}
	var fire []string
	if withAction {
		if _, ok := b.anchors[id]; !ok {
			b.order = append(b.order, id)
		}
		b.anchors[id] = m.Anchor
		for len(b.order) > maxTracked {
			delete(b.anchors, b.order[0])
			b.order = b.order[1:]
		}
		if i := slices.Index(b.early, id); i >= 0 {
			b.early = slices.Delete(b.early, i, i+1)
			fire = append(fire, m.Anchor)
		}
	}
	b.mu.Unlock()
	for _, a := range fire {
		b.onAction(a)
	}
}

func (b *DBusBackend) subscribe(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return errors.New("backend closed")
	}
	if b.sigs != nil {
		return nil
	}
	err := b.conn.AddMatchSignalContext(ctx, dbus.WithMatchObjectPath(fdoPath), dbus.WithMatchInterface(fdoIface))
	if err != nil {
		return err
	}
	b.sigs = make(chan *dbus.Signal, 16)
	b.stop, b.done = make(chan struct{}), make(chan struct{})
	b.conn.Signal(b.sigs)
	go b.loop(b.sigs, b.stop, b.done)
	return nil
}

func (b *DBusBackend) loop(sigs <-chan *dbus.Signal, stop, done chan struct{}) {
	defer close(done)
	for {
		select {
		case <-stop:
			return
		case s, ok := <-sigs:
			if !ok {
				return
			}
			b.handle(s)
		}
	}
}

// handle reacts to one signal. The shared connection delivers every signal
// to every channel, so most are someone else's and are ignored.
func (b *DBusBackend) handle(s *dbus.Signal) {
	if s == nil || s.Path != fdoPath || len(s.Body) < 2 {
		return
	}
	id, ok := s.Body[0].(uint32)
	if !ok {
		return
	}
	b.mu.Lock()
	if b.owner != "" && s.Sender != b.owner {
		b.mu.Unlock()
		return
	}
	switch s.Name {
	case sigActionInvoked:
		key, ok := s.Body[1].(string)
		if !ok || (key != ActionFix && key != actionDefault) {
			b.mu.Unlock()
			return
		}
		anchor, known := b.anchors[id]
		if !known {
			// The reply carrying this id may not be read yet.
			b.early = append(b.early, id)
			if len(b.early) > maxEarly {
				b.early = b.early[1:]
			}
			b.mu.Unlock()
			return
		}
		b.mu.Unlock()
		b.onAction(anchor)
	case sigClosed:
		found := false
		for k, v := range b.byKey {
			if v == id {
				delete(b.byKey, k)
				found = true
			}
		}
		if !found {
			b.closedEarly = append(b.closedEarly, id)
			if len(b.closedEarly) > maxEarly {
				b.closedEarly = b.closedEarly[1:]
			}
		}
		b.mu.Unlock()
	default:
		b.mu.Unlock()
	}
}

// Close stops listening for signals. The connection stays open.
func (b *DBusBackend) Close() error {
	b.mu.Lock()
	b.closed = true
	sigs, stop, done := b.sigs, b.stop, b.done
	b.sigs = nil
	b.mu.Unlock()
	if sigs == nil {
		return nil
	}
	b.conn.RemoveSignal(sigs)
	close(stop)
	<-done
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := b.conn.RemoveMatchSignalContext(ctx, dbus.WithMatchObjectPath(fdoPath), dbus.WithMatchInterface(fdoIface))
	if err != nil && !b.conn.Connected() {
		err = nil // the bus went away first; nothing left to remove
	}
	return err
}
