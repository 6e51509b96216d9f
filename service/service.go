package service

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// Mechanism identifiers, as shown by `service status --json`.
const (
	MechSystemd     = "systemd-user"  // ~/.config/systemd/user/trustwatch.service
	MechAutostart   = "xdg-autostart" // $XDG_CONFIG_HOME/autostart/trustwatch.desktop
	MechLaunchAgent = "launch-agent"  // ~/Library/LaunchAgents/<label>.plist
	MechRegistryRun = "registry-run"  // HKCU\...\CurrentVersion\Run\trustwatch
)

// mechWords names a mechanism for people.
var mechWords = map[string]string{
	MechSystemd:     "a systemd user unit",
	MechAutostart:   "an XDG autostart entry",
	MechLaunchAgent: "a LaunchAgent",
	MechRegistryRun: "the Run registry value",
}

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

const usageText = `Usage: trustwatch service <verb> [flags]

Manage trustwatch's login item: the tray starts when you log in, as you (never
as root, never as a Windows system service).

Verbs:
  install     start trustwatch at login (and re-enable it if you had switched it off)
  uninstall   stop starting trustwatch at login (a running tray keeps running)
  start       start the tray now, if it is not already running
  stop        stop the running tray
  status      say whether the login item is installed, how, and whether the tray runs

Flags:
  --json         (status) print one JSON object
  --allow-root   do it even as root (normally refused: the login item belongs to
                 your desktop user)
  -h, --help     show this help
`

// Main runs `trustwatch service <verb>`; args are the arguments after
// "service". It returns the exit code: 0 done, 1 failed, 2 usage error.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "trustwatch service: missing verb (install, uninstall, start, stop or status); see trustwatch service --help")
		return 2
	}
	// --allow-root may come before the verb too (the main binary's habit).
	var leadingAllowRoot bool
	for len(args) > 0 && (args[0] == "--allow-root" || args[0] == "-allow-root") {
		leadingAllowRoot, args = true, args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(stderr, "trustwatch service: missing verb (install, uninstall, start, stop or status); see trustwatch service --help")
		return 2
	}
	verb := args[0]
	if verb == "-h" || verb == "--help" || verb == "help" {
		fmt.Fprint(stdout, usageText)
		return 0
	}
	switch verb {
	case "install", "uninstall", "start", "stop", "status":
	default:
		if strings.HasPrefix(verb, "-") {
			fmt.Fprintf(stderr, "trustwatch service: unknown flag %q before the verb; see trustwatch service --help\n", verb)
		} else {
			fmt.Fprintf(stderr, "trustwatch service: unknown verb %q (want install, uninstall, start, stop or status)\n", verb)
		}
		return 2
	}

	fs := flag.NewFlagSet("trustwatch service "+verb, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported below in one line
	allowRoot := fs.Bool("allow-root", false, "")
	var asJSON *bool
	if verb == "status" {
		asJSON = fs.Bool("json", false, "")
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usageText)
			return 0
		}
		fmt.Fprintf(stderr, "trustwatch service %s: %v\n", verb, err)
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "trustwatch service %s: unexpected argument %q\n", verb, fs.Arg(0))
		return 2
	}

	e, err := defaultEnv()
	if err != nil {
		fmt.Fprintf(stderr, "trustwatch service %s: %v\n", verb, err)
		return 1
	}
	return e.main(verb, *allowRoot || leadingAllowRoot, asJSON != nil && *asJSON, stdout, stderr)
}

// main runs one verb against e; split from Main so tests can inject e.
func (e *env) main(verb string, allowRoot, asJSON bool, stdout, stderr io.Writer) int {
	e.allowRoot = allowRoot
	if verb != "status" && !allowRoot && e.euid() == 0 {
		fmt.Fprintf(stderr, "trustwatch service %s: refusing to run as root: the login item, the tray and its notifications belong to your desktop user, and root would write root-owned files into the wrong account. Run it as yourself, without sudo (or pass --allow-root if you really mean root's own login).\n", verb)
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
			fmt.Fprintf(stderr, "trustwatch service status: %v\n", serr)
			return 1
		}
		if asJSON {
			b, _ := json.Marshal(st)
			fmt.Fprintln(stdout, string(b))
		} else {
			fmt.Fprint(stdout, st.String())
		}
		return 0
	}
	if msg != "" {
		fmt.Fprintln(stdout, msg)
	}
	if err != nil {
		fmt.Fprintf(stderr, "trustwatch service %s: %v\n", verb, err)
		return 1
	}
	return 0
}

// String renders the status for people: what, where, and whether it runs.
func (s Status) String() string {
	var b strings.Builder
	if s.Installed {
		state := "enabled"
		if !s.Enabled {
			state = "disabled"
		}
		fmt.Fprintf(&b, "Login item: installed as %s (%s), %s", mechWords[s.Mechanism], s.Location, state)
		if s.Note != "" {
			fmt.Fprintf(&b, ": %s", s.Note)
		}
		b.WriteString("\n")
		fmt.Fprintf(&b, "Starts:     %s\n", s.Command)
		if s.Stale {
			b.WriteString("            (not this trustwatch executable; run `trustwatch service install` to update it)\n")
		}
	} else {
		fmt.Fprintf(&b, "Login item: not installed (install would use %s: %s)\n", mechWords[s.Mechanism], s.Location)
		if s.Note != "" {
			fmt.Fprintf(&b, "            %s\n", s.Note)
		}
	}
	if s.Running {
		fmt.Fprintf(&b, "Running:    yes (%s)\n", s.RunDetail)
	} else if s.RunDetail != "" {
		fmt.Fprintf(&b, "Running:    no (%s)\n", s.RunDetail)
	} else {
		b.WriteString("Running:    no\n")
	}
	return b.String()
}
