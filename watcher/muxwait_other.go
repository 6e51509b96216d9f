//go:build !linux

package watcher

// watchSocket: only Linux starts usbmuxd on demand (udev), so only there
// is "no usbmuxd" an idle state worth an event-driven wait; elsewhere the
// plain backoff stays.
func watchSocket(string) (<-chan struct{}, func(), bool) { return nil, nil, false }
