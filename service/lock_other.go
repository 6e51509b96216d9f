//go:build !linux && !darwin && !freebsd && !netbsd && !openbsd && !dragonfly && !windows

package service

import (
	"errors"
	"os"
)

func (e *env) acquireLock() (func(), error) {
	return nil, errors.New("single-instance lock: not supported on this operating system")
}

func (e *env) acquireInstance() (*Instance, error) {
	return nil, errors.New("single-instance lock: not supported on this operating system")
}

func (e *env) probeLock() (instance, error) { return instance{}, nil }

func spawnDetached(string, ...string) (int, <-chan error, error) { return 0, nil, errNotSupported }

func askToQuit(int) error { return errNotSupported }

func forceKill(int) error { return errNotSupported }

func underJournal() bool { return false }

func isTerminal(*os.File) bool { return false }
