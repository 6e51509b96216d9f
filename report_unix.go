//go:build !windows

package main

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
	"syscall"

	"github.com/trustwatch/trustwatch/watcher/usbmux"
)

// socketFacts says who owns usbmuxd's socket and who may use it: what a
// helper needs to read a "permission denied".
func socketFacts(addr usbmux.Address) string {
	if addr.Network != "unix" {
		return "TCP " + addr.Path
	}
	fi, err := os.Stat(addr.Path)
	if err != nil {
		return addr.Path + ": " + errText(err)
	}
	s := fmt.Sprintf("%s %s", addr.Path, fi.Mode())
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		s += fmt.Sprintf(" owner %s group %s", userName(st.Uid), groupName(st.Gid))
	}
	return s + fmt.Sprintf("; trustwatch runs as %s", userName(uint32(os.Geteuid())))
}

func userName(uid uint32) string {
	id := strconv.FormatUint(uint64(uid), 10)
	if u, err := user.LookupId(id); err == nil {
		return u.Username + " (" + id + ")"
	}
	return id
}

func groupName(gid uint32) string {
	id := strconv.FormatUint(uint64(gid), 10)
	if g, err := user.LookupGroupId(id); err == nil {
		return g.Name + " (" + id + ")"
	}
	return id
}

// errText is an error without the path the caller already printed.
func errText(err error) string {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err.Error()
	}
	return err.Error()
}
