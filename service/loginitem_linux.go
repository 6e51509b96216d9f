package service

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	ksvc "github.com/kardianos/service"
)

// Linux: a systemd user unit (through kardianos/service, with our template)
// when a systemd user manager runs, otherwise an XDG autostart entry. Only one
// of the two is kept, so the tray is not launched twice at login.

type osEnv struct{}

func defaultOSEnv() osEnv { return osEnv{} }

const unitName = Name + ".service"

// hasSystemdUserManager: the system was booted with systemd and this user's
// manager is up (its private socket exists in $XDG_RUNTIME_DIR).
func hasSystemdUserManager(e *env) bool {
	if _, err := os.Stat("/run/systemd/system"); err != nil {
		return false
	}
	if e.runtimeDir == "" {
		return false
	}
	_, err := os.Stat(filepath.Join(e.runtimeDir, "systemd", "private"))
	return err == nil
}

func (e *env) unitDir() string  { return filepath.Join(e.home, ".config", "systemd", "user") }
func (e *env) unitPath() string { return filepath.Join(e.unitDir(), unitName) }
func (e *env) autostartPath() string {
	return filepath.Join(e.configHome, "autostart", Name+".desktop")
}

// kardianosUnit returns kardianos's systemd backend configured with our
// template. It is picked from AvailableSystems by name rather than through
// detection, because we decide ourselves whether a user manager is usable.
func (e *env) kardianosUnit(exe string) (ksvc.Service, error) {
	// kardianos writes to os.UserHomeDir()/.config/systemd/user; refuse to
	// act if that is not the folder we inspect.
	if h, err := os.UserHomeDir(); err != nil || h != e.home {
		return nil, fmt.Errorf("systemd unit: $HOME (%s) is not %s", h, e.home)
	}
	var sys ksvc.System
	for _, s := range ksvc.AvailableSystems() {
		if s.String() == "linux-systemd" {
			sys = s
		}
	}
	if sys == nil {
		return nil, errors.New("kardianos/service has no systemd backend")
	}
	return sys.New(nopProgram{}, &ksvc.Config{
		Name:         Name,
		DisplayName:  Name,
		Description:  unitDescription,
		Executable:   exe,
		Dependencies: unitDependencies,
		Option: ksvc.KeyValue{
			"UserService":   true,
			"SystemdScript": systemdScript(exe),
			"Restart":       unitRestart,
		},
	})
}

// nopProgram satisfies kardianos's Interface; we never Run through it.
type nopProgram struct{}

func (nopProgram) Start(ksvc.Service) error { return nil }
func (nopProgram) Stop(ksvc.Service) error  { return nil }

func (e *env) systemctlUser(args ...string) (string, int, error) {
	return runCmd(context.Background(), e.systemctl, append([]string{"--user"}, args...)...)
}

func (e *env) install() (string, error) {
	exe, err := e.loginExe()
	if err != nil {
		return "", err
	}
	var notes []string
	if w := tempWarning(exe); w != "" {
		notes = append(notes, w)
	}
	useUnit := e.systemdUser()
	if useUnit && !systemdExecOK(exe) {
		useUnit = false
		notes = append(notes, words("cli.service.note_quotes", nil))
	}
	if useUnit {
		msg, err := e.installUnit(exe)
		if err == nil {
			if _, statErr := os.Stat(e.autostartPath()); statErr == nil {
				if rmErr := os.Remove(e.autostartPath()); rmErr == nil {
					msg += "\n" + words("cli.service.removed_older_autostart", map[string]any{"Path": e.autostartPath()})
				}
			}
			return joinLines(append(notes, msg)...), nil
		}
		notes = append(notes, words("cli.service.note_unit_refused", map[string]any{"Error": err}))
	}
	msg, err := e.installAutostart(exe)
	if err != nil {
		return joinLines(notes...), err
	}
	// A unit from an earlier install would start a second copy at login.
	if _, statErr := os.Stat(e.unitPath()); statErr == nil {
		if rm := e.removeUnit(exe); rm == nil {
			msg += "\n" + words("cli.service.removed_older_unit", map[string]any{"Path": e.unitPath()})
		}
	}
	return joinLines(append(notes, msg)...), nil
}

func (e *env) installUnit(exe string) (string, error) {
	path := e.unitPath()
	want := systemdUnitText(exe)
	if cur, err := os.ReadFile(path); err == nil {
		if string(cur) == want {
			if out, _, _ := e.systemctlUser("is-enabled", unitName); out == "enabled" {
				return words("cli.service.already_unit", map[string]any{"Path": path}), nil
			}
		}
		// Another binary, an older template or not enabled: replace it
		// (kardianos refuses to overwrite an existing file).
		if err := e.removeUnit(exe); err != nil {
			return "", err
		}
	}
	svc, err := e.kardianosUnit(exe)
	if err != nil {
		return "", err
	}
	if err := withTimeout(commandTimeout, "systemctl --user enable", svc.Install); err != nil {
		// kardianos leaves the file behind when enabling fails, and would
		// then refuse the next install with "Init already exists".
		e.cleanUnitFiles()
		return "", err
	}
	return words("cli.service.installed_unit", map[string]any{"Path": path}), nil
}

// removeUnit disables and deletes the unit, through kardianos when the user
// manager answers and by hand otherwise.
func (e *env) removeUnit(exe string) error {
	svc, err := e.kardianosUnit(exe)
	if err == nil {
		err = withTimeout(commandTimeout, "systemctl --user disable", svc.Uninstall)
	}
	if err != nil {
		// No manager to talk to: systemctl disables offline too, and the
		// files go by hand below.
		_, _, _ = e.systemctlUser("disable", unitName)
	}
	e.cleanUnitFiles()
	if _, err := os.Lstat(e.unitPath()); err == nil {
		return fmt.Errorf("could not remove %s", e.unitPath())
	}
	return nil
}

// cleanUnitFiles deletes the unit file and any enablement symlinks to it,
// and the .wants folders if that leaves them empty.
func (e *env) cleanUnitFiles() {
	_ = os.Remove(e.unitPath())
	for _, t := range []string{"default.target.wants", "graphical-session.target.wants"} {
		dir := filepath.Join(e.unitDir(), t)
		link := filepath.Join(dir, unitName)
		if fi, err := os.Lstat(link); err == nil && fi.Mode()&os.ModeSymlink != 0 {
			_ = os.Remove(link)
		}
		_ = os.Remove(dir) // only succeeds when empty
	}
}

func (e *env) installAutostart(exe string) (string, error) {
	path := e.autostartPath()
	want := autostartEntry(exe)
	if cur, err := os.ReadFile(path); err == nil && string(cur) == want {
		return words("cli.service.already_autostart", map[string]any{"Path": path}), nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	// Write then rename, so a desktop reading the folder never sees half.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(want), 0o644); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return "", err
	}
	return words("cli.service.installed_autostart", map[string]any{"Path": path}), nil
}

func (e *env) uninstall() (string, error) {
	exe, _ := e.exe()
	var done []string
	if _, err := os.Lstat(e.unitPath()); err == nil {
		if err := e.removeUnit(exe); err != nil {
			return joinLines(done...), err
		}
		done = append(done, words("cli.service.removed_unit", map[string]any{"Path": e.unitPath()}))
	}
	if _, err := os.Lstat(e.autostartPath()); err == nil {
		if err := os.Remove(e.autostartPath()); err != nil {
			return joinLines(done...), err
		}
		done = append(done, words("cli.service.removed_autostart", map[string]any{"Path": e.autostartPath()}))
	}
	return e.uninstalled(done), nil
}

func (e *env) status() (Status, error) {
	exe, err := e.exe()
	if err != nil {
		return Status{}, err
	}
	useSystemd := e.systemdUser()
	st := Status{Mechanism: MechAutostart, Location: e.autostartPath()}
	if useSystemd {
		st.Mechanism, st.Location = MechSystemd, e.unitPath()
	}
	unit, unitErr := os.ReadFile(e.unitPath())
	entry, entryErr := os.ReadFile(e.autostartPath())
	if !useSystemd && unitErr != nil && entryErr != nil {
		st.addNote("cli.service.note.no_systemd_would_autostart", nil)
	}
	switch {
	case unitErr == nil:
		st.Installed, st.Mechanism, st.Location = true, MechSystemd, e.unitPath()
		st.Command = unitExecStart(string(unit))
		st.Stale = string(unit) != systemdUnitText(exe)
		out, _, err := e.systemctlUser("is-enabled", unitName)
		switch {
		case out == "enabled" || out == "enabled-runtime":
			st.Enabled = true
		case out != "":
			st.addNote("cli.service.note.systemctl_says", map[string]any{"Out": out})
		default:
			st.addNote("cli.service.note.systemd_unknown", map[string]any{"Error": err})
		}
		if entryErr == nil {
			st.addNote("cli.service.note.autostart_too", map[string]any{"Path": e.autostartPath()})
		}
		if !useSystemd {
			st.addNote("cli.service.note.unit_will_not_start", nil)
		}
	case entryErr == nil:
		kv := desktopGroup(string(entry))
		st.Installed, st.Mechanism, st.Location = true, MechAutostart, e.autostartPath()
		st.Command = strings.Join(desktopExecUnquote(desktopUnescape(kv["Exec"])), " ")
		st.Stale = string(entry) != autostartEntry(exe)
		off := autostartDisabled(kv)
		if off != "" {
			st.addNote("cli.service.note.switched_off", map[string]any{"Key": off})
		}
		st.Enabled = off == ""
	}

	var details []string
	if useSystemd {
		if out, _, _ := e.systemctlUser("is-active", unitName); out != "" {
			details = append(details, "systemd: "+out)
			if out == "active" || out == "activating" || out == "reloading" {
				st.Running = true
			}
		}
	}
	in, err := e.probeLock()
	if err != nil {
		details = append(details, err.Error())
	} else if in.running {
		st.Running = true
		if in.pid > 0 {
			details = append(details, fmt.Sprintf("pid %d", in.pid))
		} else {
			details = append(details, "single-instance lock held")
		}
	}
	st.RunDetail = strings.Join(details, ", ")
	return st, nil
}

func (e *env) unitInstalled() bool {
	_, err := os.Stat(e.unitPath())
	return err == nil
}

func (e *env) start() (string, error) {
	in, err := e.probeLock()
	if err != nil {
		return "", err
	}
	if in.running {
		return words("cli.service.already_running", map[string]any{"PID": in.pid}), nil
	}
	if e.systemdUser() && e.unitInstalled() {
		if _, _, err := e.systemctlUser("start", unitName); err != nil {
			return "", err
		}
		after, err := e.waitInstance(true, startWait)
		if err != nil {
			return "", err
		}
		if !after.running {
			return "", fmt.Errorf("systemd started %s, but the tray did not come up within %s; see `journalctl --user -u %s`", unitName, startWait, unitName)
		}
		return words("cli.service.started_unit", map[string]any{"Unit": unitName, "PID": after.pid}), nil
	}
	return e.launchTray()
}

func (e *env) stop() (string, error) {
	var msgs []string
	if e.systemdUser() && e.unitInstalled() {
		if out, _, _ := e.systemctlUser("is-active", unitName); out == "active" || out == "activating" {
			if _, _, err := e.systemctlUser("stop", unitName); err != nil {
				return "", err
			}
			msgs = append(msgs, words("cli.service.stopped_unit", map[string]any{"Unit": unitName}))
		}
	}
	// A tray started by hand or by XDG autostart is not systemd's to stop.
	msg, err := e.stopInstance()
	if err != nil {
		return joinLines(msgs...), err
	}
	msgs = append(msgs, msg)
	if out := joinLines(msgs...); out != "" {
		return out, nil
	}
	return words("cli.service.not_running", nil), nil
}
