package service

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"unicode/utf8"

	ksvc "github.com/kardianos/service"
)

// macOS: a per-user LaunchAgent written through kardianos/service with our
// own plist (see launchagent.go). start/stop act on the process directly:
// launchctl from a non-GUI context (ssh, a script) would load the agent into
// the wrong session.

type osEnv struct{}

func defaultOSEnv() osEnv { return osEnv{} }

func hasSystemdUserManager(*env) bool { return false }

func (e *env) plistPath() string {
	return filepath.Join(e.home, "Library", "LaunchAgents", launchAgentLabel+".plist")
}

func (e *env) install() (string, error) {
	exe, err := e.loginExe()
	if err != nil {
		return "", err
	}
	if !utf8.ValidString(exe) {
		return "", fmt.Errorf("executable path %q is not valid UTF-8", exe)
	}
	if h, err := os.UserHomeDir(); err != nil || h != e.home {
		return "", fmt.Errorf("LaunchAgent: $HOME (%s) is not %s", h, e.home)
	}
	warn := tempWarning(exe)
	path := e.plistPath()
	want := launchAgentPlist(exe, e.darwinLogDir())
	if cur, err := os.ReadFile(path); err == nil {
		if string(cur) == want {
			return joinLines(warn, words("cli.service.already_agent", map[string]any{"Path": path})), nil
		}
		// kardianos refuses to overwrite; the old plist is for another binary.
		if err := os.Remove(path); err != nil {
			return "", err
		}
	}
	if err := os.MkdirAll(e.darwinLogDir(), 0o700); err != nil {
		return "", err
	}
	svc, err := ksvc.New(nopProgram{}, &ksvc.Config{
		Name:        launchAgentLabel,
		DisplayName: Name,
		Description: "trustwatch tray",
		Executable:  exe,
		Option: ksvc.KeyValue{
			"UserService":   true,
			"RunAtLoad":     true,
			"KeepAlive":     false,
			"LogDirectory":  e.darwinLogDir(),
			"LaunchdConfig": want,
		},
	})
	if err != nil {
		return "", err
	}
	if err := withTimeout(commandTimeout, "writing the LaunchAgent", svc.Install); err != nil {
		return "", err
	}
	// kardianos finds the home folder its own way (user.Current); make sure
	// the agent landed where status and uninstall look.
	if cur, err := os.ReadFile(path); err != nil || string(cur) != want {
		return "", fmt.Errorf("the LaunchAgent was not written to %s as expected (%v)", path, err)
	}
	return joinLines(warn, words("cli.service.installed_agent", map[string]any{"Path": path})), nil
}

// nopProgram satisfies kardianos's Interface; we never Run through it.
type nopProgram struct{}

func (nopProgram) Start(ksvc.Service) error { return nil }
func (nopProgram) Stop(ksvc.Service) error  { return nil }

// uninstall deletes the plist itself: kardianos's Uninstall first runs
// `launchctl unload`, which would kill the tray the user is clicking in.
func (e *env) uninstall() (string, error) {
	err := os.Remove(e.plistPath())
	if errors.Is(err, os.ErrNotExist) {
		return e.uninstalled(nil), nil
	}
	if err != nil {
		return "", err
	}
	return e.uninstalled([]string{words("cli.service.removed_agent", map[string]any{"Path": e.plistPath()})}), nil
}

func (e *env) status() (Status, error) {
	exe, err := e.exe()
	if err != nil {
		return Status{}, err
	}
	st := Status{Mechanism: MechLaunchAgent, Location: e.plistPath()}
	if cur, err := os.ReadFile(e.plistPath()); err == nil {
		st.Installed, st.Enabled = true, true
		st.Command = exe
		st.Stale = string(cur) != launchAgentPlist(exe, e.darwinLogDir())
		if st.Stale {
			st.Command = "(another program; see " + e.plistPath() + ")"
		}
	}
	in, err := e.probeLock()
	if err != nil {
		st.RunDetail = err.Error()
	} else if in.running {
		st.Running, st.RunDetail = true, fmt.Sprintf("pid %d", in.pid)
	}
	return st, nil
}
