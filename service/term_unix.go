//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package service

import (
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// underJournal: systemd sets JOURNAL_STREAM to the device:inode of the
// journal stream; it only counts if stderr still is that stream.
func underJournal() bool {
	v := os.Getenv("JOURNAL_STREAM")
	if v == "" {
		return false
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(os.Stderr.Fd()), &st); err != nil {
		return false
	}
	return strings.TrimSpace(v) == fmt.Sprintf("%d:%d", st.Dev, st.Ino)
}

func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), ioctlGetTermios)
	return err == nil
}
