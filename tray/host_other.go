//go:build !linux

package tray

// Windows and macOS always have a notification area / menu bar, and no
// session bus is involved.
func sessionBus() error                         { return nil }
func busGone() <-chan struct{}                  { return nil }
func trayHostMissing() string                   { return "" }
func quietSystrayRegisterLog() (restore func()) { return func() {} }
