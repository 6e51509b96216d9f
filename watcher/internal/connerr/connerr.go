// Package connerr tells whether a socket error means the other end went
// away (a daemon restarting, a phone pulled out), on every OS.
package connerr

import (
	"errors"
	"io"
	"net"
)

// Gone reports whether err says the peer closed or reset the connection.
func Gone(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, io.ErrClosedPipe) || errors.Is(err, net.ErrClosed) ||
		platformReset(err)
}
