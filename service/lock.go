package service

import (
	"errors"
	"time"
)

// ErrAlreadyRunning means another trustwatch tray of this user holds the
// single-instance lock.
var ErrAlreadyRunning = errors.New("trustwatch is already running")

// AcquireInstanceLock takes the per-user single-instance lock for the tray.
// It returns ErrAlreadyRunning when a tray already runs. The lock also dies
// with the process, so a crash never leaves it stuck. Only the tray (and
// demo) should take it; status/watch/guide run alongside a tray.
func AcquireInstanceLock() (release func(), err error) {
	e, err := defaultEnv()
	if err != nil {
		return nil, err
	}
	return e.acquireLock()
}

// Instance is a held single-instance lock.
type Instance struct {
	// Dir holds the lock (and the IPC endpoint beside it); "" where the
	// lock is not a file (Windows).
	Dir string
	// Skipped says why more preferred dirs could not be used.
	Skipped []error
	// Release lets go of the lock (idempotent).
	Release func()
}

// AcquireInstance is AcquireInstanceLock, telling where the lock lives.
func AcquireInstance() (*Instance, error) {
	e, err := defaultEnv()
	if err != nil {
		return nil, err
	}
	return e.acquireInstance()
}

// instance describes the tray that holds the lock, if any.
type instance struct {
	running bool
	pid     int // 0 when unknown
}

// waitInstance polls until the lock's held state equals want, or d passes.
func (e *env) waitInstance(want bool, d time.Duration) (instance, error) {
	deadline := time.Now().Add(d)
	for {
		in, err := e.probeLock()
		if err != nil || in.running == want || time.Now().After(deadline) {
			return in, err
		}
		time.Sleep(50 * time.Millisecond)
	}
}
