package service

import (
	"fmt"
	"strings"
)

// The systemd user unit. kardianos/service's own template hard-codes
// WantedBy=multi-user.target (absent from the user manager, so the unit would
// never start), Restart=always (which fights the user's Quit) and no ordering
// after the desktop; this replacement fixes all three. It is written in
// kardianos's mini template syntax ({{Key}}, {{range Key}}), not text/template.
// ExecStart is baked in with systemd's own quoting because kardianos's
// cmdEscape only handles spaces, not % or braces.

const (
	unitDescription = "trustwatch: says why a plugged-in iPhone cannot sync, and what to do"
	unitRestart     = "on-failure" // Quit exits 0 and must stay quit
)

// unitDependencies go into [Unit]: stop with the desktop session and start
// after it where the desktop activates graphical-session.target.
var unitDependencies = []string{
	"PartOf=graphical-session.target",
	"After=graphical-session.target",
}

// systemdScript returns the SystemdScript template for exe.
func systemdScript(exe string) string {
	var b strings.Builder
	b.WriteString("# trustwatch login item, written by \"trustwatch service install\".\n")
	b.WriteString("# Remove it with \"trustwatch service uninstall\".\n")
	b.WriteString("[Unit]\nDescription={{Description}}\n")
	b.WriteString("Documentation=https://github.com/trustwatch/trustwatch\n")
	b.WriteString("{{range Dependencies}}{{.}}\n{{end}}")
	// A tray that cannot reach the desktop (e.g. started at an SSH login)
	// fails; give up after a few tries instead of looping all session.
	b.WriteString("StartLimitIntervalSec=300\nStartLimitBurst=5\n")
	// Conditions take a raw path (specifiers only, no quoting); skip the
	// check for the odd path that would confuse the template engine.
	if !strings.Contains(exe, "{{") && !strings.Contains(exe, "}}") {
		b.WriteString("ConditionFileIsExecutable=" + strings.ReplaceAll(exe, "%", "%%") + "\n")
	}
	b.WriteString("\n[Service]\n")
	b.WriteString("ExecStart=" + systemdQuote(exe) + "\n")
	b.WriteString("Restart={{Restart}}\nRestartSec=10\n")
	// Exit 1 is a deliberate refusal ("trustwatch is already running", run
	// as root): retrying cannot help. A crash (Go exits 2) still restarts.
	b.WriteString("RestartPreventExitStatus=1\n")
	// default.target starts it on every desktop; graphical-session.target
	// (GNOME, Plasma) starts it again at a new desktop login after PartOf=
	// stopped it at logout while the user manager stayed up.
	b.WriteString("\n[Install]\nWantedBy=default.target graphical-session.target\n")
	return b.String()
}

// systemdUnitText is what kardianos renders from systemdScript(exe) with our
// Config; install and status compare the file on disk against it.
func systemdUnitText(exe string) string {
	var deps strings.Builder
	for _, d := range unitDependencies {
		deps.WriteString(d + "\n")
	}
	return strings.NewReplacer(
		"{{Description}}", unitDescription,
		"{{range Dependencies}}{{.}}\n{{end}}", deps.String(),
		"{{Restart}}", unitRestart,
	).Replace(systemdScript(exe))
}

// systemdExecOK reports whether systemd can start exe at all: it refuses
// executable paths with quotes, backslashes or control characters ("Executable
// name contains special characters"), whatever the quoting. Such a path gets
// an XDG autostart entry instead.
func systemdExecOK(exe string) bool {
	for i := 0; i < len(exe); i++ {
		if c := exe[i]; c < 0x20 || c == 0x7f || c == '\\' || c == '"' || c == '\'' {
			return false
		}
	}
	return true
}

// systemdQuote writes the executable as ExecStart's first word: in double
// quotes (spaces), %% for specifiers, and { } as C escapes so a path can never
// open a template action. $ stays single: systemd does not expand variables
// in the executable path itself, only in later arguments.
func systemdQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '%':
			b.WriteString("%%")
		case '{', '}':
			fmt.Fprintf(&b, `\x%02x`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// unitExecStart returns the ExecStart value of a unit file, or "".
func unitExecStart(unit string) string {
	for _, line := range strings.Split(unit, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "ExecStart="); ok {
			return v
		}
	}
	return ""
}
