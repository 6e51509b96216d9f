//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package service

import (
	"os"
	"os/exec"
	"syscall"
)

// spawnDetached starts exe in its own session with stdio on /dev/null, so it
// outlives this CLI and its terminal. exited reports an early exit.
func spawnDetached(exe string, args ...string) (int, <-chan error, error) {
	cmd := exec.Command(exe, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if devnull, err := os.Open(os.DevNull); err == nil {
		defer devnull.Close()
		cmd.Stdin = devnull
	}
	if err := cmd.Start(); err != nil {
		return 0, nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }() // reaps it if it dies while we wait
	return cmd.Process.Pid, exited, nil
}

// askToQuit sends SIGTERM, which the tray handles like its Quit item.
func askToQuit(pid int) error { return syscall.Kill(pid, syscall.SIGTERM) }

// forceKill is for a tray that ignored SIGTERM.
func forceKill(pid int) error { return syscall.Kill(pid, syscall.SIGKILL) }
