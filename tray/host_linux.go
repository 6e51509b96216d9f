package tray

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"io"
	"log"
	"sync"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/trustwatch/trustwatch/icons"
	"github.com/trustwatch/trustwatch/internal/sessionbus"
)

const watcherName = "org.kde.StatusNotifierWatcher"

// sessionBus checks for the D-Bus session bus systray needs (it panics in
// Quit without one, fyne-io/fyne#6403), without ever starting one (see
// internal/sessionbus).
func sessionBus() error {
	if sessionbus.Guard() != "" {
		return errors.New(sessionbus.Why)
	}
	if _, err := dbus.SessionBus(); err != nil {
		return fmt.Errorf("no D-Bus session bus (%w)", err)
	}
	return nil
}

// busGone is closed when the session bus connection systray uses dies.
func busGone() <-chan struct{} {
	conn, err := dbus.SessionBus()
	if err != nil {
		return nil
	}
	return conn.Context().Done()
}

// trayHostMissing says why no icon can show, or "" when a
// StatusNotifierItem host is there.
func trayHostMissing() string {
	conn, err := dbus.SessionBus()
	if err != nil {
		return "no D-Bus session bus (" + err.Error() + ")"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var has bool
	if err := conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, watcherName).Store(&has); err != nil {
		return "cannot ask the session bus for a tray host (" + err.Error() + ")"
	}
	if !has {
		return "no system tray host on this desktop (nobody owns " + watcherName +
			"; on GNOME, install the AppIndicator extension); the icon appears when one starts"
	}
	var v dbus.Variant
	err = conn.Object(watcherName, "/StatusNotifierWatcher").CallWithContext(ctx, "org.freedesktop.DBus.Properties.Get", 0,
		watcherName, "IsStatusNotifierHostRegistered").Store(&v)
	if err == nil {
		if ok, isBool := v.Value().(bool); isBool && !ok {
			return "a StatusNotifierWatcher runs but no tray host is registered with it"
		}
	}
	return ""
}

// quietSystrayRegisterLog drops systray's own "failed to register" lines
// (it repeats them on every watcher change); checkHost logs the reason once,
// in words a user can act on.
func quietSystrayRegisterLog() (restore func()) {
	prev := log.Writer()
	log.SetOutput(dropLines{w: prev, substr: []byte("systray error: failed to register")})
	return func() { log.SetOutput(prev) }
}

type dropLines struct {
	w      io.Writer
	substr []byte
}

func (d dropLines) Write(p []byte) (int, error) {
	if bytes.Contains(p, d.substr) {
		return len(p), nil
	}
	return d.w.Write(p)
}

// readItem reads this process's own StatusNotifierItem (as systray exports
// it) back from the session bus: what a tray host would see.
func readItem(ctx context.Context) (itemProps, error) {
	conn, err := dbus.SessionBus()
	if err != nil {
		return itemProps{}, err
	}
	names := conn.Names()
	if len(names) == 0 {
		return itemProps{}, errors.New("no name on the session bus")
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	obj := conn.Object(names[0], "/StatusNotifierItem")
	get := func(prop string, into any) error {
		var v dbus.Variant
		if err := obj.CallWithContext(ctx, "org.freedesktop.DBus.Properties.Get", 0, "org.kde.StatusNotifierItem", prop).Store(&v); err != nil {
			return err
		}
		return dbus.Store([]any{v.Value()}, into)
	}
	var px []sniPixmap
	var tip struct {
		Name  string
		Icons []sniPixmap
		Title string
		Body  string
	}
	p := itemProps{Icon: -1}
	if err := get("IconPixmap", &px); err != nil {
		return p, err
	}
	if err := get("ToolTip", &tip); err != nil {
		return p, err
	}
	if err := get("Title", &p.Title); err != nil {
		return p, err
	}
	p.Tooltip = tip.Title
	if len(px) == 1 {
		for l, argb := range levelPixmaps() {
			if bytes.Equal(px[0].ARGB, argb) {
				p.Icon = l
			}
		}
	}
	return p, nil
}

type sniPixmap struct {
	W, H int32
	ARGB []byte
}

// levelPixmaps is each level's icon as setIcon publishes it: straight-alpha
// ARGB bytes, row by row (see sniPNG).
var levelPixmaps = sync.OnceValue(func() map[icons.Level][]byte {
	m := map[icons.Level][]byte{}
	for _, l := range icons.Levels {
		img, err := png.Decode(bytes.NewReader(icons.For(l)))
		if err != nil {
			continue
		}
		b := img.Bounds()
		argb := make([]byte, 0, b.Dx()*b.Dy()*4)
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				c := straight(img, x, y)
				argb = append(argb, c[:]...)
			}
		}
		m[l] = argb
	}
	return m
})
