package watcher

import (
	"os"
	"os/exec"

	"github.com/trustwatch/trustwatch/watcher/engine"
)

// daemonAbsent tells "not installed" from "not running": on Linux udev
// starts usbmuxd only while an Apple device is plugged in, so an installed
// but idle usbmuxd is normal.
func daemonAbsent() engine.MuxState {
	for _, p := range []string{"/usr/sbin/usbmuxd", "/sbin/usbmuxd", "/usr/local/sbin/usbmuxd", "/usr/bin/usbmuxd"} {
		if _, err := os.Stat(p); err == nil {
			return engine.MuxNotRunning
		}
	}
	if _, err := exec.LookPath("usbmuxd"); err == nil {
		return engine.MuxNotRunning
	}
	return engine.MuxNotInstalled
}
