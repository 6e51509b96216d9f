//go:build !linux

package bench

import (
	"errors"
	"runtime"
)

// ReadProc needs /proc; the bench's process figures are Linux-only.
func ReadProc(pid int) (ProcSample, error) {
	return ProcSample{}, errors.New("process sampling needs /proc (Linux); not available on " + runtime.GOOS)
}
