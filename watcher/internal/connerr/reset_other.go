//go:build !windows

package connerr

import (
	"errors"
	"syscall"
)

func platformReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
