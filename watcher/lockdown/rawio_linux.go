package lockdown

import (
	"io"
	"net"
	"syscall"
	"unsafe"
)

// rawWrite and rawRead move bytes on a non-blocking socket with RawSyscall
// inside the connection's RawConn: the poller still parks the goroutine
// when the socket is not ready, and deadlines still apply, but the system
// calls themselves are not announced to the scheduler, so they do not
// wake its monitor thread (see ServicePoll). They never block in the
// kernel: the socket is non-blocking and EAGAIN goes back to the poller.
// Connections that are not plain sockets use their own Read and Write.
func rawWrite(c net.Conn, b []byte) error {
	sc, ok := c.(syscall.Conn)
	if !ok {
		_, err := c.Write(b)
		return err
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	var werr error
	err = rc.Write(func(fd uintptr) bool {
		for len(b) > 0 {
			n, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
			switch {
			case e == syscall.EINTR:
				continue
			case e == syscall.EAGAIN:
				return false
			case e != 0:
				werr = e
				return true
			}
			b = b[n:]
		}
		return true
	})
	if err != nil {
		return err
	}
	return werr
}

func rawRead(c net.Conn, b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return c.Read(b)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return 0, err
	}
	var n int
	var rerr error
	err = rc.Read(func(fd uintptr) bool {
		for {
			r, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
			switch {
			case e == syscall.EINTR:
				continue
			case e == syscall.EAGAIN:
				return false
			case e != 0:
				rerr = e
			case r == 0:
				rerr = io.EOF
			default:
				n = int(r)
			}
			return true
		}
	})
	if err != nil {
		return 0, err
	}
	return n, rerr
}
