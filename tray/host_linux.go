package tray

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"time"

	"github.com/godbus/dbus/v5"

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
