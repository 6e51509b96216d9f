package notify

import (
	"log/slog"

	"github.com/godbus/dbus/v5"
)

// defaultBackend on Linux: freedesktop Notifications over D-Bus with a
// "How to fix" action when the server lists "actions"; beeep (its D-Bus
// path, then notify-send, then kdialog) when it does not or when there is no
// server. With an injected connection (tests) there is no beeep fallback,
// because beeep always uses the process-wide session bus.
func defaultBackend(o Options, onAction func(anchor string), log *slog.Logger) Backend {
	cfg := DBusConfig{AppName: o.AppName, Icon: o.Icon, OnAction: onAction, Logger: log}
	conn := o.Conn
	if conn == nil {
		cfg.Fallback = NewBeeepBackend(o.AppName, o.Icon)
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
