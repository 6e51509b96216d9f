// Package rundir finds the directory for this user's runtime files: the
// tray's instance lock, the IPC endpoint beside it and the Pair ledger. The
// first candidate that can be used wins; an unusable one (read-only, not a
// directory, owned by someone else) is passed over for the next.
package rundir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Name prefixes every runtime file.
const Name = "trustwatch"

// Candidates lists the directories to try, most preferred first.
// runtimeDir is $XDG_RUNTIME_DIR ("" when unset), cacheDir the user cache
// directory, tempDir the system's temporary directory.
func Candidates(runtimeDir, cacheDir, tempDir string) []string {
	var out []string
	if runtimeDir != "" && filepath.IsAbs(runtimeDir) {
		out = append(out, runtimeDir)
	}
	if cacheDir != "" {
		out = append(out, filepath.Join(cacheDir, Name))
	}
	if tempDir != "" {
		out = append(out, filepath.Join(tempDir, Name+"-"+userTag()))
	}
	return out
}

// Default is Candidates for this process's environment.
func Default() []string {
	rt := os.Getenv("XDG_RUNTIME_DIR")
	cache, _ := os.UserCacheDir()
	return Candidates(rt, cache, os.TempDir())
}

// Ensure makes dir (mode 0700) when it is missing and checks that this
// user can create files in it.
func Ensure(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	if err := checkOwner(dir, fi); err != nil {
		return err
	}
	probe, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return err
	}
	probe.Close()
	return os.Remove(probe.Name())
}

// First returns the first usable candidate of dirs, and why the ones before
// it were passed over.
func First(dirs []string) (dir string, skipped []error, err error) {
	for _, d := range dirs {
		if e := Ensure(d); e != nil {
			skipped = append(skipped, fmt.Errorf("%s: %w", d, e))
			continue
		}
		return d, skipped, nil
	}
	return "", skipped, fmt.Errorf("no usable directory for runtime files: %w", errors.Join(skipped...))
}
