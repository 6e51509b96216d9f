package service

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/windows/registry"
)

// Windows: the HKCU Run value, never a service (kardianos would install a
// LocalSystem service in session 0, where no tray icon or toast can show).
// Task Manager's Startup tab records the user's on/off choice in
// Explorer\StartupApproved\Run: a 12-byte binary whose first byte is even when
// enabled and odd when disabled.

const (
	runKeyPath      = `Software\Microsoft\Windows\CurrentVersion\Run`
	approvedKeyPath = `Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run`
)

// osEnv: the registry root and the key prefix (tests use a throwaway subtree
// of HKCU), plus where the pid file lives and a mutex-name suffix for tests.
type osEnv struct {
	root         registry.Key
	prefix       string // "" or `Software\trustwatch-test-123\`
	localAppData string
	mutexSuffix  string
}

func defaultOSEnv() osEnv {
	lad := os.Getenv("LOCALAPPDATA")
	if lad == "" {
		if c, err := os.UserCacheDir(); err == nil {
			lad = c
		}
	}
	return osEnv{root: registry.CURRENT_USER, localAppData: lad}
}

func hasSystemdUserManager(*env) bool { return false }

func (e *env) runKey() string      { return e.os.prefix + runKeyPath }
func (e *env) approvedKey() string { return e.os.prefix + approvedKeyPath }

// regLocation is how status names the value for people.
func (e *env) regLocation() string {
	root := "HKCU"
	if e.os.root != registry.CURRENT_USER {
		root = "HK?"
	}
	return root + `\` + e.runKey() + `\` + Name
}

func (e *env) logPath() string { return filepath.Join(e.os.localAppData, Name, Name+".log") }

// runCommand is the Run value: the quoted executable, no verb (the tray).
func runCommand(exe string) string { return `"` + exe + `"` }

func (e *env) readRun() (string, bool, error) {
	k, err := registry.OpenKey(e.os.root, e.runKey(), registry.QUERY_VALUE)
	if errors.Is(err, registry.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("reading %s: %w", e.runKey(), err)
	}
	defer k.Close()
	v, _, err := k.GetStringValue(Name)
	if errors.Is(err, registry.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("reading %s: %w", e.regLocation(), err)
	}
	return v, true, nil
}

// approved returns the StartupApproved bytes (nil when absent).
func (e *env) approved() ([]byte, error) {
	k, err := registry.OpenKey(e.os.root, e.approvedKey(), registry.QUERY_VALUE)
	if errors.Is(err, registry.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer k.Close()
	b, _, err := k.GetBinaryValue(Name)
	if errors.Is(err, registry.ErrNotExist) {
		return nil, nil
	}
	return b, err
}

func disabledByUser(b []byte) bool { return len(b) > 0 && b[0]%2 == 1 }

func (e *env) install() (string, error) {
	exe, err := e.loginExe()
	if err != nil {
		return "", err
	}
	if strings.Contains(exe, `"`) {
		return "", fmt.Errorf("executable path %q contains a quote", exe)
	}
	warn := tempWarning(exe)
	want := runCommand(exe)
	cur, ok, err := e.readRun()
	if err != nil {
		return "", err
	}
	appr, err := e.approved()
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", e.approvedKey(), err)
	}
	if ok && cur == want && !disabledByUser(appr) {
		return joinLines(warn, words("cli.service.already_registry", map[string]any{"Path": e.regLocation()})), nil
	}
	k, _, err := registry.CreateKey(e.os.root, e.runKey(), registry.SET_VALUE)
	if err != nil {
		return "", fmt.Errorf("opening %s: %w", e.runKey(), err)
	}
	err = k.SetStringValue(Name, want)
	k.Close()
	if err != nil {
		return "", fmt.Errorf("writing %s: %w", e.regLocation(), err)
	}
	msg := words("cli.service.installed_registry", map[string]any{"Path": e.regLocation(), "Command": want})
	if disabledByUser(appr) {
		// Only because the user just asked for it: undo their Task Manager
		// "Disable" by writing the enabled form.
		ak, err := registry.OpenKey(e.os.root, e.approvedKey(), registry.SET_VALUE)
		if err != nil {
			return msg, fmt.Errorf("re-enabling in Task Manager: %w", err)
		}
		err = ak.SetBinaryValue(Name, []byte{0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
		ak.Close()
		if err != nil {
			return msg, fmt.Errorf("re-enabling in Task Manager: %w", err)
		}
		msg += "\n" + words("cli.service.reenabled", nil)
	}
	return joinLines(warn, msg), nil
}

func (e *env) uninstall() (string, error) {
	var done []string
	if k, err := registry.OpenKey(e.os.root, e.runKey(), registry.SET_VALUE); err == nil {
		err = k.DeleteValue(Name)
		k.Close()
		if err == nil {
			done = append(done, words("cli.service.removed_registry", map[string]any{"Path": e.regLocation()}))
		} else if !errors.Is(err, registry.ErrNotExist) {
			return "", fmt.Errorf("removing %s: %w", e.regLocation(), err)
		}
	}
	// Leave no trace: Task Manager's record of the item goes too.
	if k, err := registry.OpenKey(e.os.root, e.approvedKey(), registry.SET_VALUE); err == nil {
		err = k.DeleteValue(Name)
		k.Close()
		if err != nil && !errors.Is(err, registry.ErrNotExist) {
			return joinLines(done...), fmt.Errorf("removing the Task Manager record: %w", err)
		}
	}
	return e.uninstalled(done), nil
}

func (e *env) status() (Status, error) {
	exe, err := e.exe()
	if err != nil {
		return Status{}, err
	}
	st := Status{Mechanism: MechRegistryRun, Location: e.regLocation()}
	cur, ok, err := e.readRun()
	if err != nil {
		return st, err
	}
	if ok {
		st.Installed, st.Command = true, cur
		st.Stale = cur != runCommand(exe)
		appr, err := e.approved()
		switch {
		case err != nil:
			st.Enabled = true
			st.addNote("cli.service.note.task_manager_unknown", map[string]any{"Error": err})
		case disabledByUser(appr):
			st.addNote("cli.service.note.task_manager_disabled", nil)
		default:
			st.Enabled = true
		}
	}
	in, err := e.probeLock()
	if err != nil {
		st.RunDetail = err.Error()
	} else if in.running {
		st.Running = true
		st.RunDetail = "single-instance mutex held"
		if in.pid > 0 {
			st.RunDetail = fmt.Sprintf("pid %d", in.pid)
		}
	}
	return st, nil
}
