package service

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Name is the login item's name: the systemd unit and .desktop file stem, the
// Windows Run value and the lock and log file stem.
const Name = "trustwatch"

// commandTimeout bounds every external command (systemctl, launchctl) and
// every kardianos call that runs one, so a wedged service manager cannot hang
// the CLI or the tray's checkbox.
const commandTimeout = 20 * time.Second

// env holds every path and probe the login-item code depends on, so tests can
// point it at a temporary HOME, XDG dirs or registry subtree without touching
// process globals. defaultEnv fills it from the real process environment.
type env struct {
	home       string
	configHome string // $XDG_CONFIG_HOME or ~/.config (Linux)
	stateHome  string // $XDG_STATE_HOME or ~/.local/state (Linux)
	runtimeDir string // $XDG_RUNTIME_DIR, "" when unset (Unix)
	cacheDir   string // os.UserCacheDir()
	tempDir    string // os.TempDir(): the last place for runtime files

	// exe is the program the login item starts: absolute, symlinks resolved.
	exe func() (string, error)
	// euid is the effective user id (-1 on Windows).
	euid func() int
	// systemdUser reports whether a systemd user manager is there to use.
	systemdUser func() bool
	// systemctl is the systemctl binary (tests put a fake one first on PATH).
	systemctl string

	// allowRoot: the user passed --allow-root; a tray launched by `start`
	// as root gets it too, or it would refuse to run.
	allowRoot bool

	// stopWait is how long stop waits for a polite quit before forcing
	// (0: the default stopWait).
	stopWait time.Duration

	os osEnv // per-OS extras (Windows: registry root and key paths)
}

// defaultEnv describes the real process environment.
func defaultEnv() (*env, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return nil, fmt.Errorf("cannot find your home folder: %w", err)
	}
	e := &env{
		home:       home,
		configHome: xdgDir("XDG_CONFIG_HOME", filepath.Join(home, ".config")),
		stateHome:  xdgDir("XDG_STATE_HOME", filepath.Join(home, ".local", "state")),
		runtimeDir: xdgDir("XDG_RUNTIME_DIR", ""),
		tempDir:    os.TempDir(),
		exe:        currentExecutable,
		euid:       os.Geteuid,
		systemctl:  "systemctl",
	}
	if c, err := os.UserCacheDir(); err == nil {
		e.cacheDir = c
	} else {
		e.cacheDir = filepath.Join(home, ".cache")
	}
	e.systemdUser = func() bool { return hasSystemdUserManager(e) }
	e.os = defaultOSEnv()
	return e, nil
}

// xdgDir reads an XDG base-directory variable; the spec says relative values
// are invalid and must be ignored.
func xdgDir(name, fallback string) string {
	if v := os.Getenv(name); v != "" && filepath.IsAbs(v) {
		return v
	}
	return fallback
}

// currentExecutable is the running binary with symlinks resolved, so a login
// item keeps working when e.g. a package manager swaps a symlink.
func currentExecutable() (string, error) {
	p, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("cannot find the trustwatch executable: %w", err)
	}
	if r, err := filepath.EvalSymlinks(p); err == nil {
		p = r
	}
	if !filepath.IsAbs(p) {
		if a, err := filepath.Abs(p); err == nil {
			p = a
		}
	}
	return p, nil
}

// loginExe returns the executable for the login item and rejects paths that no
// login-item format can carry faithfully.
func (e *env) loginExe() (string, error) {
	p, err := e.exe()
	if err != nil {
		return "", err
	}
	if !filepath.IsAbs(p) {
		return "", fmt.Errorf("executable path %q is not absolute", p)
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f {
			return "", fmt.Errorf("executable path %q contains a control character; move trustwatch to a plain folder", p)
		}
	}
	return p, nil
}

// tempWarning warns when the binary lives in a temporary folder (go run, an
// unpacked download), because the login item would break once it is removed.
func tempWarning(exe string) string {
	tmp := os.TempDir()
	if r, err := filepath.EvalSymlinks(tmp); err == nil {
		tmp = r
	}
	if tmp != "" && strings.HasPrefix(exe, tmp+string(filepath.Separator)) {
		return words("cli.service.temp_warning", map[string]any{"Path": exe})
	}
	return ""
}

// runCmd runs a command with a deadline and returns its trimmed stdout, its
// exit code (-1 when it did not run) and an error carrying stderr.
func runCmd(ctx context.Context, name string, args ...string) (string, int, error) {
	ctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var out, errb strings.Builder
	cmd.Stdout = &out
	cmd.Stderr = &errb
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	code := -1
	if cmd.ProcessState != nil {
		code = cmd.ProcessState.ExitCode()
	}
	if err != nil {
		if ctx.Err() != nil {
			return out.String(), code, fmt.Errorf("%s %s: timed out after %s", name, strings.Join(args, " "), commandTimeout)
		}
		msg := strings.TrimSpace(errb.String())
		if msg == "" {
			msg = err.Error()
		}
		return strings.TrimSpace(out.String()), code, fmt.Errorf("%s %s: %s", name, strings.Join(args, " "), msg)
	}
	return strings.TrimSpace(out.String()), code, nil
}

// withTimeout runs f (a kardianos call that shells out without a deadline)
// and gives up waiting after d. The goroutine may outlive the call in that
// case; it ends when the stuck command does.
func withTimeout(d time.Duration, what string, f func() error) error {
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		return fmt.Errorf("%s: no answer within %s", what, d)
	}
}

// joinLines joins the non-empty lines.
// uninstalled reports what uninstall removed (done), and that a running
// tray keeps running.
func (e *env) uninstalled(done []string) string {
	if len(done) == 0 {
		return words("cli.service.nothing_to_remove", nil)
	}
	if in, _ := e.probeLock(); in.running {
		done = append(done, words("cli.service.tray_keeps_running", nil))
	}
	return joinLines(done...)
}

func joinLines(lines ...string) string {
	var out []string
	for _, l := range lines {
		if l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// errNotSupported is returned on operating systems without a login-item
// implementation.
var errNotSupported = errors.New("login items are not supported on this operating system")
