//go:build linux || darwin

package service

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// An unusable $XDG_RUNTIME_DIR (here: the lock's name is taken by a
// directory, which no permission bits can make writable, even for root)
// passes the lock on to the next candidate, and a second tray still finds
// it there.
func TestInstanceLockFallsBack(t *testing.T) {
	e, _ := testEnv(t)
	if err := os.Mkdir(filepath.Join(e.runtimeDir, Name+".lock"), 0o700); err != nil {
		t.Fatal(err)
	}
	in, err := e.acquireInstance()
	if err != nil {
		t.Fatalf("acquire: %v", err)
	}
	defer in.Release()
	if want := filepath.Join(e.cacheDir, Name); in.Dir != want || len(in.Skipped) != 1 {
		t.Fatalf("lock in %q (skipped %v), want %q", in.Dir, in.Skipped, want)
	}
	if p, err := e.probeLock(); err != nil || !p.running || p.pid != os.Getpid() {
		t.Fatalf("probe = %+v, %v", p, err)
	}
	if _, err := e.acquireInstance(); !errors.Is(err, ErrAlreadyRunning) {
		t.Fatalf("second acquire: %v", err)
	}
	// With no usable dir at all, one error names each.
	in.Release()
	os.WriteFile(filepath.Join(e.runtimeDir, "blocker"), nil, 0o600)
	e.cacheDir = filepath.Join(e.runtimeDir, "blocker")
	if _, err := e.acquireInstance(); err == nil {
		t.Fatal("acquire with no usable dir succeeded")
	}
}
