//go:build !linux && !windows

package watcher

import "github.com/trustwatch/trustwatch/watcher/engine"

// daemonAbsent: macOS ships usbmuxd with the OS and launchd keeps it
// running, so a refused socket means it is not running (restarting).
func daemonAbsent() engine.MuxState { return engine.MuxNotRunning }

// refusedOS: syscall.ECONNREFUSED already covers this OS.
func refusedOS(error) bool { return false }
