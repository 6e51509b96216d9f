//go:build windows

package lockdown

import (
	"errors"
	"syscall"
)

// Winsock reports a peer that went away with its own errnos, which
// syscall.ECONNRESET (an invented value on Windows) does not match.
const (
	wsaECONNABORTED = syscall.Errno(10053)
	wsaECONNRESET   = syscall.Errno(10054)
)

func isPlatformReset(err error) bool {
	return errors.Is(err, wsaECONNRESET) || errors.Is(err, wsaECONNABORTED)
}
