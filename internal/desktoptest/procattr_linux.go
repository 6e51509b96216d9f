package desktoptest

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the kernel kill the child if the test binary dies
// without running its cleanups (timeout panic, SIGKILL), so no private
// daemon outlives the test. Pdeathsig follows the forking OS thread; Go
// only retires a thread when a goroutine exits while locked to it, which
// test goroutines calling these helpers do not do.
func dieWithParent(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
