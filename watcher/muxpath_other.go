//go:build !linux

package watcher

// DaemonPath: only Linux installs usbmuxd as a program of its own; macOS
// ships it, and Windows' service is the service manager's business.
func DaemonPath() string { return "" }
