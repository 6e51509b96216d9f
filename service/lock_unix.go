//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package service

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/trustwatch/trustwatch/internal/rundir"
)

// lockDirs are where the lock may live: $XDG_RUNTIME_DIR (a per-user
// tmpfs, cleared at logout), then the user cache dir, then a private dir
// under /tmp; an unusable one (read-only, not a directory) is passed over.
func (e *env) lockDirs() []string {
	return rundir.Candidates(e.runtimeDir, e.cacheDir, e.tempDir)
}

func (e *env) acquireLock() (func(), error) {
	in, err := e.acquireInstance()
	if err != nil {
		return nil, err
	}
	return in.Release, nil
}

func (e *env) acquireInstance() (*Instance, error) {
	// A tray holding the lock in a more preferred dir still counts.
	if in, err := e.probeLock(); err == nil && in.running {
		return nil, ErrAlreadyRunning
	}
	var skipped []error
	for _, d := range e.lockDirs() {
		if err := rundir.Ensure(d); err != nil {
			skipped = append(skipped, fmt.Errorf("%s: %w", d, err))
			continue
		}
		release, err := lockFile(filepath.Join(d, Name+".lock"))
		if errors.Is(err, ErrAlreadyRunning) {
			return nil, err
		}
		if err != nil {
			skipped = append(skipped, err)
			continue
		}
		return &Instance{Dir: d, Skipped: skipped, Release: release}, nil
	}
	return nil, fmt.Errorf("single-instance lock: %w", errors.Join(skipped...))
}

func lockFile(p string) (func(), error) {
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("single-instance lock: %w", err)
	}
	// A `service status` probe holds a shared lock for a moment; retry
	// briefly so a tray starting at that instant is not turned away.
	for i := 0; ; i++ {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("single-instance lock %s: %w", p, err)
		}
		if i == 4 {
			f.Close()
			return nil, ErrAlreadyRunning
		}
		time.Sleep(25 * time.Millisecond)
	}
	// The holder's pid lets `service stop` find the tray.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			_ = f.Truncate(0)
			_ = unix.Flock(int(f.Fd()), unix.LOCK_UN)
			_ = f.Close()
		})
	}, nil
}

// probeLock tells whether a tray holds the lock, without taking it for long.
func (e *env) probeLock() (instance, error) {
	var firstErr error
	for _, d := range e.lockDirs() {
		in, err := probeLockFile(filepath.Join(d, Name+".lock"))
		if in.running {
			return in, nil
		}
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return instance{}, firstErr
}

func probeLockFile(p string) (instance, error) {
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return instance{}, nil
	}
	if err != nil {
		return instance{}, fmt.Errorf("single-instance lock: %w", err)
	}
	defer f.Close()
	err = unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB)
	if err == nil {
		_ = unix.Flock(int(f.Fd()), unix.LOCK_UN)
		return instance{}, nil
	}
	if !errors.Is(err, unix.EWOULDBLOCK) {
		return instance{}, fmt.Errorf("single-instance lock: %w", err)
	}
	in := instance{running: true}
	buf := make([]byte, 32)
	n, _ := f.ReadAt(buf, 0)
	if pid, err := strconv.Atoi(strings.TrimSpace(string(buf[:n]))); err == nil && pid > 0 {
		in.pid = pid
	}
	return in, nil
}
