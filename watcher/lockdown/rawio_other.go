//go:build !unix

package lockdown

import "net"

// Elsewhere (Windows) the connection's own Read and Write: the scheduler
// detail rawio_unix.go works around is the same, but there is no
// RawSyscall read of a socket to use instead.
func rawWrite(c net.Conn, b []byte) error {
	_, err := c.Write(b)
	return err
}

func rawRead(c net.Conn, b []byte) (int, error) { return c.Read(b) }
