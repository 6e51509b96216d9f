package watcher

import (
	"os"
	"os/exec"
)

// DaemonPath is where usbmuxd is installed, "" when it is not.
func DaemonPath() string {
	for _, p := range []string{"/usr/sbin/usbmuxd", "/sbin/usbmuxd", "/usr/local/sbin/usbmuxd", "/usr/bin/usbmuxd"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("usbmuxd"); err == nil {
		return p
	}
	return ""
}
