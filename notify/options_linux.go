package notify

import "github.com/godbus/dbus/v5"

// OSOptions are the Linux backend's own options: they keep godbus out of
// the other platforms' builds.
type OSOptions struct {
	// Conn is the D-Bus connection for the notification server; nil uses
	// the shared dbus.SessionBus(). Tests pass a connection to a private
	// bus. Never closed.
	Conn *dbus.Conn
}
