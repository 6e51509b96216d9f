//go:build windows

package connerr

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

func platformReset(err error) bool {
	return errors.Is(err, wsaECONNRESET) || errors.Is(err, wsaECONNABORTED)
}
