//go:build !windows && !darwin

package sessionbus

import (
	"os"
	"path/filepath"
	"strconv"

	"github.com/godbus/dbus/v5"
)

// found reports whether a session bus can be found without starting one:
// the variable, or the well-known places of a systemd user session's bus.
// $XDG_RUNTIME_DIR/bus is made known to godbus, which only looks in
// /run/user/UID.
func found() bool {
	if a := os.Getenv(envAddress); a != "" && a != "autolaunch:" {
		return true
	}
	if rt := os.Getenv("XDG_RUNTIME_DIR"); rt != "" {
		if p := filepath.Join(rt, "bus"); exists(p) {
			os.Setenv(envAddress, "unix:path="+dbus.EscapeBusAddressValue(p))
			return true
		}
	}
	run := filepath.Join("/run/user", strconv.Itoa(os.Getuid()))
	return exists(filepath.Join(run, "bus")) || exists(filepath.Join(run, "dbus-session"))
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }
