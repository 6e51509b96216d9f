//go:build !linux

package privbus

import "os/exec"

// DieWithParent has no portable equivalent off Linux; cleanups still kill.
func DieWithParent(*exec.Cmd) {}
