//go:build !linux

package desktoptest

import "os/exec"

// dieWithParent has no portable equivalent off Linux; cleanups still kill.
func dieWithParent(*exec.Cmd) {}
