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

	"github.com/trustwatch/trustwatch/icons"
)

const (
	fdoName          = "org.freedesktop.Notifications"
	fdoPath          = dbus.ObjectPath("/org/freedesktop/Notifications")
	fdoIface         = "org.freedesktop.Notifications"
	sigActionInvoked = fdoIface + ".ActionInvoked"
	sigClosed        = fdoIface + ".NotificationClosed"

	// actionDefault is a click on the notification itself; some servers
	// (xfce4-notifyd) ignore it, hence the explicit buttons too.
	actionDefault = "default"

	// DesktopEntry is the desktop-entry hint: GNOME lists the app in its
	// notification settings under the trustwatch.desktop file's name.
	DesktopEntry = "trustwatch"

	maxTracked = 64 // notification ids remembered for actions
	maxEarly   = 8  // signals that arrive before the Notify reply is read
)

// DBusConfig configures a DBusBackend.
type DBusConfig struct {
	AppName string
	// Icon is the PNG for a level, sent as the image-data hint; nil, or nil
	// bytes, for none.
	Icon func(icons.Level) []byte
	// OnAction is called when the user picks a button (or clicks the
	// notification: its "How to fix"). Called on the signal goroutine.
	OnAction func(Action)
	// OnClosed is called when the server closes a bubble by itself or the
	// user dismisses it (not when Withdraw closes it).
	OnClosed func(slot string)
	// Fallback shows messages when no server answers on the bus (beeep,
	// which also tries notify-send). nil: the error is returned.
	Fallback Backend
	Logger   *slog.Logger
}

// tracked is what a shown notification's buttons do.
type tracked struct {
	slot, anchor, device string
}

// DBusBackend talks freedesktop Notifications on one long-lived connection:
// one server id per slot (replaces_id), CloseNotification to withdraw, and
// "How to fix" / "Fix trust" buttons when the server can show actions.
//
// It makes its own calls with the caller's deadline and parses signals
// defensively: esiqveland/notify v0.13.3's Notifier calls without a context
// and type-asserts signal bodies (a malformed ActionInvoked from any peer on
// the bus would panic it). The library's types and hint helpers are used.
type DBusBackend struct {
	conn *dbus.Conn
	cfg  DBusConfig

	mu          sync.Mutex
	images      map[icons.Level]*dbus.Variant // decoded once per level
	badIcon     bool
	capsKnown   bool
	actions     bool
	owner       string             // unique name of the server, to filter signals
	ids         map[uint32]tracked // notification id → its buttons and slot
	order       []uint32           // ids in ids, oldest first
	early       []earlyAction      // ActionInvoked that overtook its Notify reply
	closedEarly []uint32           // NotificationClosed for ids not recorded yet
	bySlot      map[string]uint32  // slot → its open notification, replaced in place
	sigs        chan *dbus.Signal
	stop        chan struct{}
	done        chan struct{}
	closed      bool
}

type earlyAction struct {
	id  uint32
	key string
}

// NewDBusBackend makes a backend on conn, which it never closes (the tray
// shares the session bus connection).
func NewDBusBackend(conn *dbus.Conn, cfg DBusConfig) *DBusBackend {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &DBusBackend{
		conn: conn, cfg: cfg,
		images: map[icons.Level]*dbus.Variant{},
		ids:    map[uint32]tracked{}, bySlot: map[string]uint32{},
	}
}

// image is the image-data hint for level, decoded once.
func (b *DBusBackend) image(level icons.Level) *dbus.Variant {
	if b.cfg.Icon == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if v, ok := b.images[level]; ok {
		return v
	}
	var v *dbus.Variant
	if data := b.cfg.Icon(level); len(data) > 0 {
		rgba, err := decodePNG(data)
		if err != nil {
			if !b.badIcon {
				b.cfg.Logger.Warn("notification icon is not a usable PNG; notifying without it", "err", err)
				b.badIcon = true
			}
		} else {
			h := fdo.HintImageDataRGBA(rgba)
			v = &h.Variant
		}
	}
	b.images[level] = v
	return v
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
		clear(b.bySlot)
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

// Send shows m, replacing the bubble shown before in m.Slot.
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
	var acts []string
	if actions && b.cfg.OnAction != nil && (m.Anchor != "" || m.FixTrust != "") {
		if err := b.subscribe(ctx); err != nil {
			b.cfg.Logger.Warn("cannot listen for notification actions; sending without them", "err", err)
		} else {
			if m.Anchor != "" {
				acts = append(acts, actionDefault, m.Buttons.howToFix())
			}
			if m.FixTrust != "" {
				acts = append(acts, ActionFixTrust, m.Buttons.fixTrust())
			}
			if m.Anchor != "" {
				acts = append(acts, ActionHowToFix, m.Buttons.howToFix())
			}
		}
	} else if b.cfg.OnClosed != nil && m.Slot != "" {
		// Closures are worth hearing about even without buttons.
		if err := b.subscribe(ctx); err != nil {
			b.cfg.Logger.Warn("cannot listen for notification signals", "err", err)
		}
	}
	hints := map[string]dbus.Variant{
		"category":      dbus.MakeVariant("device"),
		"desktop-entry": dbus.MakeVariant(DesktopEntry),
	}
	u := fdo.HintUrgency(fdo.Urgency(m.Urgency))
	hints[u.ID] = u.Variant
	if img := b.image(m.Level); img != nil {
		hints["image-data"] = *img
	}
	expire := int32(-1) // the server's default
	if m.Transient {
		hints["transient"] = dbus.MakeVariant(true)
		expire = int32(QuietExpire / time.Millisecond)
	}
	var replaces uint32
	if m.Slot != "" {
		b.mu.Lock()
		replaces = b.bySlot[m.Slot]
		b.mu.Unlock()
	}
	var id uint32
	err = b.conn.Object(fdoName, fdoPath).CallWithContext(ctx, fdoIface+".Notify", 0,
		b.cfg.AppName, replaces, "", m.Title, m.Body, acts, hints, expire).Store(&id)
	if err != nil {
		b.mu.Lock()
		b.capsKnown = false // the server may be gone or replaced: ask again
		b.mu.Unlock()
		return fmt.Errorf("notification server: Notify: %w", err)
	}
	b.record(id, m, len(acts) > 0)
	return nil
}

// Withdraw closes the bubble shown in slot, if the server still shows it.
func (b *DBusBackend) Withdraw(ctx context.Context, slot string) error {
	b.mu.Lock()
	id, ok := b.bySlot[slot]
	delete(b.bySlot, slot)
	if ok {
		b.forget(id)
	}
	b.mu.Unlock()
	if !ok || id == 0 {
		return nil
	}
	err := b.conn.Object(fdoName, fdoPath).CallWithContext(ctx, fdoIface+".CloseNotification", 0, id).Err
	if err != nil {
		return fmt.Errorf("notification server: CloseNotification: %w", err)
	}
	return nil
}

// forget drops id's buttons; b.mu is held.
func (b *DBusBackend) forget(id uint32) {
	delete(b.ids, id)
	b.order = slices.DeleteFunc(b.order, func(x uint32) bool { return x == id })
}

func (b *DBusBackend) record(id uint32, m Message, withActions bool) {
	b.mu.Lock()
	// Signals can overtake the Notify reply; a notification already
	// closed must not be replaced later (the server would show nothing).
	closed := false
	if i := slices.Index(b.closedEarly, id); i >= 0 {
		b.closedEarly = slices.Delete(b.closedEarly, i, i+1)
		closed = true
	}
	if m.Slot != "" && !closed {
		b.bySlot[m.Slot] = id
	}
	var fire []Action
	if withActions {
		if _, ok := b.ids[id]; !ok {
			b.order = append(b.order, id)
		}
		b.ids[id] = tracked{slot: m.Slot, anchor: m.Anchor, device: m.FixTrust}
		for len(b.order) > maxTracked {
			delete(b.ids, b.order[0])
			b.order = b.order[1:]
		}
		b.early = slices.DeleteFunc(b.early, func(e earlyAction) bool {
			if e.id != id {
				return false
			}
			if a, ok := b.ids[id].action(e.key); ok {
				fire = append(fire, a)
			}
			return true
		})
	} else if b.ids[id] != (tracked{}) {
		b.forget(id) // replaced by a notice without buttons
	}
	b.mu.Unlock()
	if closed && m.Slot != "" && b.cfg.OnClosed != nil {
		b.cfg.OnClosed(m.Slot)
	}
	for _, a := range fire {
		b.cfg.OnAction(a)
	}
}

// action is what pressing key on a notification with t's buttons does.
func (t tracked) action(key string) (Action, bool) {
	switch key {
	case actionDefault, ActionHowToFix:
		if t.anchor != "" {
			return Action{Key: ActionHowToFix, Anchor: t.anchor}, true
		}
	case ActionFixTrust:
		if t.device != "" {
			return Action{Key: ActionFixTrust, Device: t.device}, true
		}
	}
	return Action{}, false
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
		if !ok {
			b.mu.Unlock()
			return
		}
		t, known := b.ids[id]
		if !known {
			// The reply carrying this id may not be read yet.
			b.early = append(b.early, earlyAction{id, key})
			if len(b.early) > maxEarly {
				b.early = b.early[1:]
			}
			b.mu.Unlock()
			return
		}
		b.mu.Unlock()
		if a, ok := t.action(key); ok {
			b.cfg.OnAction(a)
		}
	case sigClosed:
		slot := ""
		for k, v := range b.bySlot {
			if v == id {
				slot = k
				delete(b.bySlot, k)
			}
		}
		if slot == "" {
			b.closedEarly = append(b.closedEarly, id)
			if len(b.closedEarly) > maxEarly {
				b.closedEarly = b.closedEarly[1:]
			}
		}
		b.mu.Unlock()
		if slot != "" && b.cfg.OnClosed != nil {
			b.cfg.OnClosed(slot)
		}
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
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	err := b.conn.RemoveMatchSignalContext(ctx, dbus.WithMatchObjectPath(fdoPath), dbus.WithMatchInterface(fdoIface))
	switch {
	case err != nil && !b.conn.Connected():
		err = nil // the bus went away first; nothing left to remove
	case errors.Is(err, context.DeadlineExceeded):
		// A busy bus: a match rule left behind only sends this shared
		// connection signals nobody reads. Not worth failing a shutdown.
		b.cfg.Logger.Warn("notification signals: match rule not removed in time", "err", err)
		err = nil
	}
	return err
}
