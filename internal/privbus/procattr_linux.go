package privbus

import (
	"os/exec"
	"syscall"
)

// DieWithParent makes the kernel kill the child when this process dies
// without running its cleanups (a crash, a test timeout, SIGKILL), so no
// private daemon outlives a test or bench run. Pdeathsig follows the forking
// OS thread; Go only retires a thread when a goroutine exits while locked to
// it, which callers of these helpers do not do.
func DieWithParent(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
