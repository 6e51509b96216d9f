package lockdown

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"time"
)

// ServicePoll asks lockdownd the same StartService question again and
// again on one kept plaintext connection: how trustwatch learns that a
// locked, untrusted phone was unlocked (its session-less insecure proxy is
// refused with PasswordProtected while locked), for as long as it stays on
// the charger. The request is encoded once, and the socket is written and
// read with system calls the Go scheduler does not see (rawio_linux.go): an
// ordinary read made after the reply woke the process also wakes the
// runtime's monitor thread, which then polls every 20 µs for a while —
// about three quarters of such a poll's wakeups. Ask is for one goroutine.
type ServicePoll struct {
	c       net.Conn
	service string
	frame   []byte
	buf     []byte // bytes received, not yet consumed
}

// NewServicePoll prepares polls of service on c, a lockdownd connection
// (usbmux.Connect to Port) outside any session. It owns c from here on.
func NewServicePoll(c net.Conn, service, label string) (*ServicePoll, error) {
	if label == "" {
		label = DefaultLabel
	}
	frame, err := encodeFrame(map[string]any{"Request": "StartService", "Service": service, "Label": label})
	if err != nil {
		c.Close()
		return nil, err
	}
	return &ServicePoll{c: c, service: service, frame: frame}, nil
}

// Ask sends the request and waits, until deadline, for the answer: the
// service's port when lockdownd started it (the caller should connect to
// it, or it waits there), else lockdownd's *Error (e.g. ErrPasswordProtected;
// the poll stays usable) or an I/O or protocol failure (it does not).
func (p *ServicePoll) Ask(deadline time.Time) (uint16, error) {
	op := "StartService " + p.service
	if err := p.c.SetDeadline(deadline); err != nil {
		return 0, p.ioError(op, err)
	}
	if err := rawWrite(p.c, p.frame); err != nil {
		return 0, p.ioError(op, err)
	}
	for {
		if len(p.buf) >= 4 {
			n := binary.BigEndian.Uint32(p.buf)
			if err := checkLength(n); err != nil {
				return 0, fmt.Errorf("lockdown: %s: %w", op, err)
			}
			if uint64(len(p.buf)) >= 4+uint64(n) {
				// The parse is bounded by decodePlist's limits; no context
				// (and no timer) of its own per poll.
				m, err := decodePlist(context.Background(), p.buf[4:4+n])
				p.buf = append(p.buf[:0], p.buf[4+n:]...)
				if err != nil {
					return 0, fmt.Errorf("lockdown: %s: %w", op, err)
				}
				return p.answer(op, m)
			}
		}
		if len(p.buf) == cap(p.buf) {
			p.buf = append(p.buf, make([]byte, 4096)...)[:len(p.buf)]
		}
		n, err := rawRead(p.c, p.buf[len(p.buf):cap(p.buf)])
		p.buf = p.buf[:len(p.buf)+n]
		if err != nil && n == 0 {
			return 0, p.ioError(op, err)
		}
	}
}

func (p *ServicePoll) answer(op string, m map[string]any) (uint16, error) {
	if code, ok := m["Error"].(string); ok && code != "" {
		return 0, &Error{Code: clipCode(code), Request: "StartService"}
	}
	port, ok := asInt(m["Port"])
	if !ok || port < 1 || port > 65535 {
		return 0, fmt.Errorf("lockdown: %s: %w: bad Port %v", op, ErrProtocol, m["Port"])
	}
	return uint16(port), nil
}

func (p *ServicePoll) ioError(op string, err error) error {
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("lockdown: %s: %w: %w", op, ErrTimeout, err)
	case errors.Is(err, net.ErrClosed):
		return fmt.Errorf("lockdown: %s: %w", op, ErrClosed)
	case isDisconnect(err):
		return fmt.Errorf("lockdown: %s: %w: %w", op, ErrDisconnected, err)
	}
	return fmt.Errorf("lockdown: %s: %w", op, err)
}

// Close closes the connection.
func (p *ServicePoll) Close() error { return p.c.Close() }
