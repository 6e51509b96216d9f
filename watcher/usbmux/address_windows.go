//go:build windows

package usbmux

// DefaultAddress is where Apple Mobile Device Service listens on Windows.
func DefaultAddress() Address { return Address{Network: "tcp", Path: "127.0.0.1:27015"} }
