package ipc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// A named pipe with overlapped I/O waited on per operation (an event, plus
// a "wake" event for Close and deadline changes). No I/O completion port:
// Wine does not deliver ConnectNamedPipe completions to one, and this is
// all one request and one reply need.

const pipeBuffer = 64 << 10

type pipeAddr string

func (a pipeAddr) Network() string { return "pipe" }
func (a pipeAddr) String() string  { return string(a) }

// errTimeout satisfies net.Error with Timeout true.
type errTimeout struct{}

func (errTimeout) Error() string   { return "i/o timeout" }
func (errTimeout) Timeout() bool   { return true }
func (errTimeout) Temporary() bool { return true }

// waitIO waits for an overlapped operation on h, giving up (and cancelling
// it) when wake is signalled and expired says so.
func waitIO(h windows.Handle, ov *windows.Overlapped, wake windows.Handle, expired func() (bool, uint32)) (uint32, error) {
	for {
		gone, ms := expired()
		if gone {
			_ = windows.CancelIoEx(h, ov)
			var n uint32
			_ = windows.GetOverlappedResult(h, ov, &n, true)
			return n, errTimeout{}
		}
		ev, err := windows.WaitForMultipleObjects([]windows.Handle{ov.HEvent, wake}, false, ms)
		if err != nil {
			return 0, err
		}
		switch ev {
		case windows.WAIT_OBJECT_0:
			var n uint32
			err := windows.GetOverlappedResult(h, ov, &n, false)
			return n, err
		case windows.WAIT_OBJECT_0 + 1, uint32(windows.WAIT_TIMEOUT):
			// Close or a new deadline: look again.
		}
	}
}

type pipeListener struct {
	name  string
	sa    *windows.SecurityAttributes
	wake  windows.Handle // signalled by Close
	mu    sync.Mutex
	next  windows.Handle
	close sync.Once
	done  chan struct{}
}

func newPipeInstance(name string, sa *windows.SecurityAttributes, first bool) (windows.Handle, error) {
	p, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return 0, err
	}
	flags := uint32(windows.PIPE_ACCESS_DUPLEX | windows.FILE_FLAG_OVERLAPPED)
	if first {
		flags |= windows.FILE_FLAG_FIRST_PIPE_INSTANCE
	}
	return windows.CreateNamedPipe(p, flags,
		windows.PIPE_TYPE_BYTE|windows.PIPE_READMODE_BYTE|windows.PIPE_WAIT|windows.PIPE_REJECT_REMOTE_CLIENTS,
		windows.PIPE_UNLIMITED_INSTANCES, pipeBuffer, pipeBuffer, 0, sa)
}

func listenPipe(name, sddl string) (net.Listener, error) {
	sd, err := windows.SecurityDescriptorFromString(sddl)
	if err != nil {
		return nil, err
	}
	sa := &windows.SecurityAttributes{Length: uint32(unsafe.Sizeof(windows.SecurityAttributes{})), SecurityDescriptor: sd}
	h, err := newPipeInstance(name, sa, true)
	if err != nil {
		return nil, err
	}
	wake, err := windows.CreateEvent(nil, 1, 0, nil)
	if err != nil {
		windows.CloseHandle(h)
		return nil, err
	}
	return &pipeListener{name: name, sa: sa, wake: wake, next: h, done: make(chan struct{})}, nil
}

func (l *pipeListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case <-l.done:
		return nil, net.ErrClosed
	default:
	}
	h := l.next
	ev, err := windows.CreateEvent(nil, 1, 0, nil)
	if err != nil {
		return nil, err
	}
	defer windows.CloseHandle(ev)
	ov := &windows.Overlapped{HEvent: ev}
	err = windows.ConnectNamedPipe(h, ov)
	switch {
	case err == nil, errors.Is(err, windows.ERROR_PIPE_CONNECTED):
	case errors.Is(err, windows.ERROR_IO_PENDING):
		_, err = waitIO(h, ov, l.wake, func() (bool, uint32) {
			select {
			case <-l.done:
				return true, 0
			default:
				return false, windows.INFINITE
			}
		})
		if err != nil {
			select {
			case <-l.done:
				return nil, net.ErrClosed
			default:
				return nil, err
			}
		}
	default:
		return nil, err
	}
	next, err := newPipeInstance(l.name, l.sa, false)
	if err != nil {
		windows.CloseHandle(h)
		return nil, err
	}
	l.next = next
	return newPipeConn(h, l.name, true)
}

func (l *pipeListener) Close() error {
	l.close.Do(func() {
		close(l.done)
		_ = windows.SetEvent(l.wake)
		// Wait for an Accept in progress to see done (it holds mu while it
		// waits, and wakes on l.wake), then close the waiting instance before
		// returning: closing it later let a client that dialled just after
		// Close connect to a dying instance and read EOF instead of finding
		// no server.
		l.mu.Lock()
		windows.CloseHandle(l.next)
		windows.CloseHandle(l.wake)
		l.mu.Unlock()
	})
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr(l.name) }

type pipeConn struct {
	h      windows.Handle
	name   string
	server bool
	wake   windows.Handle // signalled by Close and deadline changes
	mu     sync.Mutex
	dl     time.Time
	closed bool
	once   sync.Once
	rmu    sync.Mutex
	wmu    sync.Mutex
}

func newPipeConn(h windows.Handle, name string, server bool) (*pipeConn, error) {
	wake, err := windows.CreateEvent(nil, 0, 0, nil)
	if err != nil {
		windows.CloseHandle(h)
		return nil, err
	}
	return &pipeConn{h: h, name: name, server: server, wake: wake}, nil
}

func (c *pipeConn) expired() (bool, uint32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return true, 0
	}
	if c.dl.IsZero() {
		return false, windows.INFINITE
	}
	left := time.Until(c.dl)
	if left <= 0 {
		return true, 0
	}
	return false, uint32(left/time.Millisecond) + 1
}

func (c *pipeConn) io(read bool, b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	if gone, _ := c.expired(); gone {
		if c.isClosed() {
			return 0, net.ErrClosed
		}
		return 0, errTimeout{}
	}
	ev, err := windows.CreateEvent(nil, 1, 0, nil)
	if err != nil {
		return 0, err
	}
	defer windows.CloseHandle(ev)
	ov := &windows.Overlapped{HEvent: ev}
	var n uint32
	if read {
		err = windows.ReadFile(c.h, b, &n, ov)
	} else {
		err = windows.WriteFile(c.h, b, &n, ov)
	}
	if err != nil && !errors.Is(err, windows.ERROR_IO_PENDING) {
		return 0, c.mapErr(err)
	}
	n, err = waitIO(c.h, ov, c.wake, c.expired)
	if err != nil {
		if c.isClosed() {
			return int(n), net.ErrClosed
		}
		return int(n), c.mapErr(err)
	}
	return int(n), nil
}

func (c *pipeConn) mapErr(err error) error {
	var te errTimeout
	if errors.As(err, &te) {
		return err
	}
	if errors.Is(err, windows.ERROR_BROKEN_PIPE) || errors.Is(err, windows.ERROR_PIPE_NOT_CONNECTED) || errors.Is(err, windows.ERROR_NO_DATA) {
		return io.EOF
	}
	return err
}

func (c *pipeConn) isClosed() bool { c.mu.Lock(); defer c.mu.Unlock(); return c.closed }

func (c *pipeConn) Read(b []byte) (int, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	return c.io(true, b)
}

func (c *pipeConn) Write(b []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	total := 0
	for total < len(b) {
		n, err := c.io(false, b[total:])
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

func (c *pipeConn) Close() error {
	c.once.Do(func() {
		c.mu.Lock()
		c.closed = true
		c.mu.Unlock()
		_ = windows.SetEvent(c.wake)
		_ = windows.CancelIoEx(c.h, nil)
		c.rmu.Lock() // wait for pending I/O to see it
		c.wmu.Lock()
		if c.server {
			_ = windows.FlushFileBuffers(c.h)
			_ = windows.DisconnectNamedPipe(c.h)
		}
		windows.CloseHandle(c.h)
		windows.CloseHandle(c.wake)
		c.wmu.Unlock()
		c.rmu.Unlock()
	})
	return nil
}

func (c *pipeConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	c.dl = t
	c.mu.Unlock()
	return windows.SetEvent(c.wake)
}
func (c *pipeConn) SetReadDeadline(t time.Time) error  { return c.SetDeadline(t) }
func (c *pipeConn) SetWriteDeadline(t time.Time) error { return c.SetDeadline(t) }
func (c *pipeConn) LocalAddr() net.Addr                { return pipeAddr(c.name) }
func (c *pipeConn) RemoteAddr() net.Addr               { return pipeAddr(c.name) }

// dialPipe opens the pipe; ErrNotRunning when nobody serves it.
func dialPipe(ctx context.Context, name string) (net.Conn, error) {
	p, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return nil, err
	}
	for {
		h, err := windows.CreateFile(p, windows.GENERIC_READ|windows.GENERIC_WRITE, 0, nil, windows.OPEN_EXISTING, windows.FILE_FLAG_OVERLAPPED, 0)
		if err == nil {
			return newPipeConn(h, name, false)
		}
		switch {
		case errors.Is(err, windows.ERROR_FILE_NOT_FOUND), errors.Is(err, os.ErrNotExist):
			return nil, ErrNotRunning
		case errors.Is(err, windows.ERROR_PIPE_BUSY):
			// Every instance is taken for a moment: try again.
		default:
			return nil, fmt.Errorf("ipc: %w", err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}
