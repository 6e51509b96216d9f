//go:build !linux

package tray

import "context"

// Windows and macOS always have a notification area / menu bar, and no
// session bus is involved.
func sessionBus() error                           { return nil }
func trayHostMissing() string                     { return "" }
func quietSystrayRegisterLog() (restore func())   { return func() {} }
func readItem(context.Context) (itemProps, error) { return itemProps{}, errNoReadBack }
func busGone() <-chan struct{}                    { return nil }
