//go:build linux || darwin

package service

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func applyTestOverrides(*env) {}

// testEnv is an env rooted in a fresh temporary HOME, plus the environment
// variables that make a helper process compute the same paths.
func testEnv(t *testing.T) (*env, []string) {
	t.Helper()
	d := tempDir(t)
	home := filepath.Join(d, "home")
	run := filepath.Join(d, "run")
	for _, p := range []string{home, run} {
		if err := os.MkdirAll(p, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	e := &env{
		home:        home,
		configHome:  filepath.Join(home, ".config"),
		stateHome:   filepath.Join(home, ".local", "state"),
		runtimeDir:  run,
		cacheDir:    filepath.Join(home, ".cache"),
		exe:         func() (string, error) { return "/usr/local/bin/trustwatch", nil },
		euid:        func() int { return 1000 },
		systemdUser: func() bool { return false },
		systemctl:   "systemctl",
	}
	vars := []string{
		"HOME=" + home,
		"XDG_CONFIG_HOME=" + e.configHome,
		"XDG_STATE_HOME=" + e.stateHome,
		"XDG_RUNTIME_DIR=" + run,
		"XDG_CACHE_HOME=" + e.cacheDir,
	}
	return e, vars
}

// expectedLogPath is where a helper with vars should log.
func expectedLogPath(vars []string) string {
	if isDarwin {
		return filepath.Join(envValue(vars, "HOME"), "Library", "Logs", "trustwatch", "trustwatch.log")
	}
	return filepath.Join(envValue(vars, "XDG_STATE_HOME"), "trustwatch", "trustwatch.log")
}

var isDarwin = runtime.GOOS == "darwin"

// helperSystrayTray is Windows-only (the WM_CLOSE path of `service stop`).
func helperSystrayTray() int { return 99 }
