//go:build unix

package hostile

import (
	"net"
	"os"
	"syscall"
)

// listenBacklog listens on a unix socket with a tiny accept queue (Go's
// net.Listen always asks for the system maximum).
func listenBacklog(path string, backlog int) (net.Listener, error) {
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		return nil, err
	}
	if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: path}); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	if err := syscall.Listen(fd, backlog); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	return net.FileListener(f)
}
