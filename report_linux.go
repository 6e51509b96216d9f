package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/trustwatch/trustwatch/internal/sessionbus"
)

// withSessionBus runs f on a private connection to the session bus, with
// 2 s for its calls: a hung server must not hold the report up. Where there
// is no session bus, none is started (sessionbus.Guard).
func withSessionBus(ctx context.Context, f func(ctx context.Context, conn *dbus.Conn) string) string {
	if why := sessionbus.Guard(); why != "" {
		return why
	}
	conn, err := dbus.SessionBusPrivate()
	if err == nil {
		if err = conn.Auth(nil); err == nil {
			err = conn.Hello()
		}
		if err != nil {
			conn.Close()
		}
	}
	if err != nil {
		return "cannot connect to the session bus: " + err.Error()
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return f(ctx, conn)
}

// trayHost says whether a StatusNotifierItem host can show the icon.
func trayHost(ctx context.Context) string {
	return withSessionBus(ctx, func(ctx context.Context, conn *dbus.Conn) string {
		var has bool
		if err := conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, "org.kde.StatusNotifierWatcher").Store(&has); err != nil {
			return "cannot ask the session bus: " + err.Error()
		}
		if !has {
			return "none (nobody owns org.kde.StatusNotifierWatcher; on GNOME the AppIndicator extension provides one)"
		}
		return "StatusNotifierWatcher present"
	})
}

// notificationServer names the notification server and what it supports.
func notificationServer(ctx context.Context) []string {
	var lines []string
	line := withSessionBus(ctx, func(ctx context.Context, conn *dbus.Conn) string {
		obj := conn.Object("org.freedesktop.Notifications", "/org/freedesktop/Notifications")
		var name, vendor, ver, spec string
		if err := obj.CallWithContext(ctx, "org.freedesktop.Notifications.GetServerInformation", 0).Store(&name, &vendor, &ver, &spec); err != nil {
			return "no notification server answers: " + err.Error()
		}
		var caps []string
		if err := obj.CallWithContext(ctx, "org.freedesktop.Notifications.GetCapabilities", 0).Store(&caps); err != nil {
			lines = append(lines, "capabilities: cannot be read: "+err.Error())
		} else {
			lines = append(lines, "capabilities: "+strings.Join(caps, ", "))
		}
		return fmt.Sprintf("%s %s by %s (spec %s)", name, ver, vendor, spec)
	})
	return append([]string{line}, lines...)
}
