package service

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/trustwatch/trustwatch/internal/catalog"
)

// Mechanism identifiers, as shown by `service status --json`.
const (
	MechSystemd     = "systemd-user"  // ~/.config/systemd/user/trustwatch.service
	MechAutostart   = "xdg-autostart" // $XDG_CONFIG_HOME/autostart/trustwatch.desktop
	MechLaunchAgent = "launch-agent"  // ~/Library/LaunchAgents/<label>.plist
	MechRegistryRun = "registry-run"  // HKCU\...\CurrentVersion\Run\trustwatch
)

// mechWords names a mechanism for people (cli.service.mech.* in the
// catalog).
func mechWords(w catalog.Words, mech string) string { return w.T("cli.service.mech."+mech, nil) }

// Status describes the login item and whether the tray runs now.
type Status struct {
	Installed bool   `json:"installed"`
	Mechanism string `json:"mechanism"` // Mech*; when not installed, the one install would use
	Location  string `json:"location"`  // file or registry path
	Command   string `json:"command"`   // what starts at login, as written there ("" when not installed)
	Enabled   bool   `json:"enabled"`   // installed and not switched off by the user
	Stale     bool   `json:"stale"`     // installed, but for a different executable than this one
	Note      string `json:"note"`      // e.g. "disabled in Task Manager"
	Running   bool   `json:"running"`
	RunDetail string `json:"running_detail"` // how that was found (systemd state, pid)
	notes     []note // Note's parts, to be said in the reader's language
}

// note is one remark on the status, as a catalog message: the JSON's Note
// carries it in English, people read it in their language.
type note struct {
	id   string
	data map[string]any
}

// addNote adds a remark to the status.
func (s *Status) addNote(id string, data map[string]any) {
	s.notes = append(s.notes, note{id, data})
	if s.Note != "" {
		s.Note += "; "
	}
	s.Note += catalog.In("en").T(id, data)
}

// noteIn is Note in w's language.
func (s Status) noteIn(w catalog.Words) string {
	if len(s.notes) == 0 {
		return s.Note
	}
	parts := make([]string, len(s.notes))
	for i, n := range s.notes {
		parts[i] = w.T(n.id, n.data)
	}
	return strings.Join(parts, "; ")
}

// LoginItemEnabled reports whether trustwatch starts at login (installed and
// not disabled by the user, e.g. in Task Manager). For the tray's checkbox.
func LoginItemEnabled() (bool, error) {
	e, err := defaultEnv()
	if err != nil {
		return false, err
	}
	st, err := e.status()
	if err != nil {
		return false, err
	}
	return st.Installed && st.Enabled, nil
}

// LoginItemStatus is what `trustwatch service status` reports, for support
// reports.
func LoginItemStatus() (Status, error) {
	e, err := defaultEnv()
	if err != nil {
		return Status{}, err
	}
	return e.status()
}

// SetLoginItem installs (true) or removes (false) the login item, exactly as
// `trustwatch service install|uninstall` does. Switching it on re-enables an
// item the user had disabled elsewhere, because this call is the user's
// explicit request.
func SetLoginItem(enabled bool) error {
	e, err := defaultEnv()
	if err != nil {
		return err
	}
	if enabled {
		_, err = e.install()
	} else {
		_, err = e.uninstall()
	}
	return err
}

// words is message id of the catalog in the user's language: what the
// verbs tell people they did.
func words(id string, data map[string]any) string { return catalog.Current().T(id, data) }

// Verbs are what `trustwatch service` does, in the order its help lists
// them.
var Verbs = []string{"install", "uninstall", "start", "stop", "status"}

// Run runs `trustwatch service VERB` once the command line has read its
// arguments (verb is one of Verbs). It returns the exit code: 0 done,
// 1 failed.
func Run(verb string, allowRoot, asJSON bool, stdout, stderr io.Writer) int {
	e, err := defaultEnv()
	if err != nil {
		fmt.Fprintln(stderr, catalog.Current().T("cli.service.failed", map[string]any{"Verb": verb, "Error": err}))
		return 1
	}
	return e.main(verb, allowRoot, asJSON, stdout, stderr)
}

// main runs one verb against e; split from Run so tests can inject e.
func (e *env) main(verb string, allowRoot, asJSON bool, stdout, stderr io.Writer) int {
	e.allowRoot = allowRoot
	w := catalog.Current()
	if verb != "status" && !allowRoot && e.euid() == 0 {
		fmt.Fprintln(stderr, w.T("cli.service.refuse_root", map[string]any{"Verb": verb}))
		return 1
	}
	var msg string
	var err error
	switch verb {
	case "install":
		msg, err = e.install()
	case "uninstall":
		msg, err = e.uninstall()
	case "start":
		msg, err = e.start()
	case "stop":
		msg, err = e.stop()
	case "status":
		st, serr := e.status()
		if serr != nil {
			fmt.Fprintln(stderr, w.T("cli.service.failed", map[string]any{"Verb": verb, "Error": serr}))
			return 1
		}
		if asJSON {
			b, _ := json.Marshal(st)
			fmt.Fprintln(stdout, string(b))
		} else {
			fmt.Fprint(stdout, st.Text(w))
		}
		return 0
	}
	if msg != "" {
		fmt.Fprintln(stdout, msg)
	}
	if err != nil {
		fmt.Fprintln(stderr, w.T("cli.service.failed", map[string]any{"Verb": verb, "Error": err}))
		return 1
	}
	return 0
}

// String renders the status for people, in English: what the support
// report carries.
func (s Status) String() string { return s.Text(catalog.In("en")) }

// Text renders the status for people in w's language: what, where, and
// whether it runs. (Note and RunDetail are the JSON's own text.)
func (s Status) Text(w catalog.Words) string {
	labels := []string{w.T("cli.service.status.login_item", nil), w.T("cli.service.status.starts", nil), w.T("cli.service.status.running", nil)}
	col := 0
	for _, l := range labels {
		col = max(col, len([]rune(l))+2)
	}
	indent := strings.Repeat(" ", col)
	var b strings.Builder
	line := func(label int, text string) {
		l := labels[label] + ":"
		b.WriteString(l + strings.Repeat(" ", col-len([]rune(l))) + text + "\n")
	}
	if s.Installed {
		state := w.T("cli.service.status.enabled", nil)
		if !s.Enabled {
			state = w.T("cli.service.status.disabled", nil)
		}
		text := w.T("cli.service.status.installed", map[string]any{"Mechanism": mechWords(w, s.Mechanism), "Location": s.Location, "State": state})
		if s.Note != "" {
			text += ": " + s.noteIn(w)
		}
		line(0, text)
		line(1, s.Command)
		if s.Stale {
			b.WriteString(indent + w.T("cli.service.status.stale", nil) + "\n")
		}
	} else {
		line(0, w.T("cli.service.status.not_installed", map[string]any{"Mechanism": mechWords(w, s.Mechanism), "Location": s.Location}))
		if s.Note != "" {
			b.WriteString(indent + s.noteIn(w) + "\n")
		}
	}
	switch {
	case s.Running:
		line(2, w.T("cli.service.status.running_yes", map[string]any{"Detail": s.RunDetail}))
	case s.RunDetail != "":
		line(2, w.T("cli.service.status.running_no_because", map[string]any{"Detail": s.RunDetail}))
	default:
		line(2, w.T("cli.service.status.running_no", nil))
	}
	return b.String()
}
