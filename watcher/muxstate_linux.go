package watcher

import "github.com/trustwatch/trustwatch/watcher/engine"

// daemonAbsent tells "not installed" from "not running": on Linux udev
// starts usbmuxd only while an Apple device is plugged in, so an installed
// but idle usbmuxd is normal.
func daemonAbsent() engine.MuxState {
	if DaemonPath() != "" {
		return engine.MuxNotRunning
	}
	return engine.MuxNotInstalled
}

// refusedOS: syscall.ECONNREFUSED already covers this OS.
func refusedOS(error) bool { return false }
