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
)

// lockPath is $XDG_RUNTIME_DIR/trustwatch.lock (a per-user tmpfs, cleared at
// logout) or, when that is unset, a file in the user cache dir.
func (e *env) lockPath() string {
	if e.runtimeDir != "" {
		if fi, err := os.Stat(e.runtimeDir); err == nil && fi.IsDir() {
			return filepath.Join(e.runtimeDir, Name+".lock")
		}
	}
	return filepath.Join(e.cacheDir, Name, Name+".lock")
}

func (e *env) acquireLock() (func(), error) {
	p := e.lockPath()
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return nil, fmt.Errorf("single-instance lock: %w", err)
	}
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
	f, err := os.Open(e.lockPath())
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
