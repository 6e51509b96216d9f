package usbmux

import (
	"errors"
	"fmt"
)

// usbmuxd result numbers (usbmuxd src/usbmuxd-proto.h). ReadPairRecord and
// friends return errno values in the same field.
const (
	ResultOK          = 0
	ResultBadCommand  = 1
	ResultBadDevice   = 2 // also ENOENT for pair records
	ResultConnRefused = 3
	ResultBadVersion  = 6
	resultEINVAL      = 22
)

var (
	// ErrProtocol means the daemon sent something that is not usbmuxd
	// protocol: bad lengths, garbage, a truncated or unexpected reply.
	ErrProtocol = errors.New("usbmux: protocol error")
	// ErrTimeout means the context's deadline (or the default budget) ran
	// out while talking to the daemon.
	ErrTimeout = errors.New("usbmux: timed out")
	// ErrDaemonGone means the daemon closed the connection (it stopped or
	// restarted); reconnect later.
	ErrDaemonGone = errors.New("usbmux: daemon closed the connection")
	// ErrNoPairRecord is ReadPairRecord's "no record for this UDID"
	// (Number 2, ENOENT).
	ErrNoPairRecord = errors.New("usbmux: no pair record for this device")
	// ErrBadDevice is Connect's BADDEV: the DeviceID is not (or no longer) attached.
	ErrBadDevice = errors.New("usbmux: no such device")
	// ErrConnectionRefused is Connect's CONNREFUSED: nothing listens on that device port.
	ErrConnectionRefused = errors.New("usbmux: device refused the connection")
	// ErrBadCommand is Result 1: the daemon does not know the request.
	ErrBadCommand = errors.New("usbmux: daemon does not support this request")
	// ErrClosed is returned by Listener.Next after Close.
	ErrClosed = errors.New("usbmux: listener closed")
)

// ResultError is a non-zero Result from the daemon for a request.
type ResultError struct {
	Request string
	Number  int64
}

func (e *ResultError) Error() string {
	return fmt.Sprintf("usbmux: %s failed with result %d", e.Request, e.Number)
}

// Is lets errors.Is match the named results.
func (e *ResultError) Is(target error) bool {
	switch target {
	case ErrBadCommand:
		return e.Number == ResultBadCommand
	}
	return false
}
