//go:build !linux

package lockdown

import "net"

// Elsewhere the connection's own Read and Write. The scheduler detail
// rawio_linux.go works around is the same on every OS, but only Linux's raw
// system calls are measured here (macOS routes them through libc, Windows
// has none for sockets).
func rawWrite(c net.Conn, b []byte) error {
	_, err := c.Write(b)
	return err
}

func rawRead(c net.Conn, b []byte) (int, error) { return c.Read(b) }
