//go:build !cgo && !windows

package usb

import "context"

// Available reports false: the USB layer needs cgo (gousb/libusb).
func Available() (bool, string) { return false, "built without cgo" }

// List returns ErrUnavailable in builds without cgo.
func List(ctx context.Context) ([]Device, error) { return nil, ErrUnavailable }

// Watch returns ErrUnavailable in builds without cgo.
func Watch(ctx context.Context, out chan<- Event) error { return ErrUnavailable }

// Describe names the USB layer for `trustwatch version`.
func Describe() string { return "none: built without cgo" }
