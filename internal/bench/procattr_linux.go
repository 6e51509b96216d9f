package bench

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes a child get SIGKILL when the bench dies, so a crashed
// or interrupted run leaves no trustwatch, dbus-daemon or dunst behind.
func dieWithParent(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
