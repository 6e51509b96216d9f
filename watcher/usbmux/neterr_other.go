//go:build !windows

package usbmux

import (
	"errors"
	"syscall"
)

func isPlatformReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
