//go:build !windows

package usbmux

// DefaultAddress is where usbmuxd listens on Linux and macOS.
func DefaultAddress() Address { return Address{Network: "unix", Path: "/var/run/usbmuxd"} }
