//go:build unix

package rundir

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
)

func userTag() string { return strconv.Itoa(os.Getuid()) }

// checkOwner refuses a directory someone else owns (a shared /tmp could
// hold one prepared by another user) or that others may write.
func checkOwner(dir string, fi os.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	if int(st.Uid) != os.Getuid() {
		return fmt.Errorf("%s belongs to uid %d, not to this user", dir, st.Uid)
	}
	if fi.Mode().Perm()&0o022 != 0 && fi.Mode()&os.ModeSticky == 0 {
		return fmt.Errorf("%s is writable by others", dir)
	}
	return nil
}
