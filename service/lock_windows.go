package service

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/windows"
)

// mutexName is Local\trustwatch-<user>: per logon session and per user.
// Kernel object names may not contain a backslash after the namespace, so the
// DOMAIN\user form is flattened.
func (e *env) mutexName() string {
	name := "unknown"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	name = strings.NewReplacer(`\`, "-", "/", "-").Replace(name)
	return `Local\` + Name + "-" + name + e.os.mutexSuffix
}

// pidPath records the holder's pid so `service stop` can find the tray (a
// mutex cannot say who owns it).
func (e *env) pidPath() string {
	return filepath.Join(e.os.localAppData, Name, Name+".pid")
}

func (e *env) acquireInstance() (*Instance, error) {
	release, err := e.acquireLock()
	if err != nil {
		return nil, err
	}
	return &Instance{Release: release}, nil
}

func (e *env) acquireLock() (func(), error) {
	name, err := windows.UTF16PtrFromString(e.mutexName())
	if err != nil {
		return nil, fmt.Errorf("single-instance lock: %w", err)
	}
	h, err := windows.CreateMutex(nil, false, name)
	if errors.Is(err, windows.ERROR_ALREADY_EXISTS) {
		if h != 0 {
			windows.CloseHandle(h)
		}
		return nil, ErrAlreadyRunning
	}
	if err != nil {
		return nil, fmt.Errorf("single-instance lock: %w", err)
	}
	pp := e.pidPath()
	if err := os.MkdirAll(filepath.Dir(pp), 0o700); err == nil {
		_ = os.WriteFile(pp, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			_ = os.Remove(pp)
			windows.CloseHandle(h)
		})
	}, nil
}

func (e *env) probeLock() (instance, error) {
	name, err := windows.UTF16PtrFromString(e.mutexName())
	if err != nil {
		return instance{}, err
	}
	h, err := windows.OpenMutex(windows.SYNCHRONIZE, false, name)
	if err != nil {
		if errors.Is(err, windows.ERROR_FILE_NOT_FOUND) {
			return instance{}, nil
		}
		return instance{}, fmt.Errorf("single-instance lock: %w", err)
	}
	windows.CloseHandle(h)
	in := instance{running: true}
	if b, err := os.ReadFile(e.pidPath()); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 {
			in.pid = pid
		}
	}
	return in, nil
}
