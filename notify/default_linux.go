package notify

import (
	"log/slog"

	"github.com/godbus/dbus/v5"
)

// defaultBackend on Linux: freedesktop Notifications over D-Bus (replace,
// withdraw, and buttons when the server lists "actions"); beeep (its D-Bus
// path, then notify-send, then kdialog) only when no server answers. With
// an injected connection (tests) there is no beeep fallback, because beeep
// always uses the process-wide session bus.
func defaultBackend(o Options, cb callbacks, log *slog.Logger) Backend {
	cfg := DBusConfig{AppName: o.AppName, Icon: iconFor(o), OnAction: cb.action, OnClosed: cb.closed, Logger: log}
	conn := o.OS.Conn
	if conn == nil {
		cfg.Fallback = NewBeeepBackend(o.AppName, iconFor(o))
		c, err := dbus.SessionBus()
		if err != nil {
			// beeep reports its own errors when a message is sent; the
			// sender logs the first of them.
			return cfg.Fallback
		}
		conn = c
	}
	return NewDBusBackend(conn, cfg)
}
