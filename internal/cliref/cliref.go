// Package cliref is the one description of trustwatch's command line:
// verbs, synopses, flags, exit codes and examples. `trustwatch --help`,
// every `trustwatch VERB --help`, the verb table in README.md and
// docs/cli.md are all rendered from it (the docs by `go generate`, checked
// by a test), so they cannot drift apart. The verbs' flag sets are checked
// against it whenever they parse.
package cliref

// Exit codes. 0–3 are the contract's; 4–7 are fix's and forget's outcomes.
const (
	ExitOK          = 0
	ExitFailure     = 1
	ExitUsage       = 2
	ExitUnreachable = 3
	ExitNoPhone     = 4
	ExitDenied      = 5
	ExitLocked      = 6
	ExitTimedOut    = 7
	ExitInterrupted = 130 // 128 + SIGINT
	ExitTerminated  = 143 // 128 + SIGTERM
)

// Flag is one flag of a verb, as people type it: --Name ARG.
type Flag struct {
	Name    string // without dashes
	Arg     string // "DUR", "N"; "" for a switch
	Default string // shown as "(default …)"; "" for none
	Help    string
}

// Exit is what an exit code means for one verb.
type Exit struct {
	Code    int
	Meaning string
}

// Verb is one command. The tray itself is the verb with the empty name.
type Verb struct {
	Name     string
	Synopsis string // after "trustwatch NAME"
	Summary  string // one line, for the verb table
	About    string // a paragraph for VERB --help and docs/cli.md
	Flags    []Flag
	Exits    []Exit
	Examples []string // whole command lines
	// OwnHelp: the verb's package prints its own --help (guide, service);
	// this entry documents it.
	OwnHelp bool
}

// Command is "trustwatch NAME".
func (v Verb) Command() string {
	if v.Name == "" {
		return "trustwatch"
	}
	return "trustwatch " + v.Name
}

// Line is the verb's synopsis line: "trustwatch status [--json] …".
func (v Verb) Line() string {
	if v.Synopsis == "" {
		return v.Command()
	}
	return v.Command() + " " + v.Synopsis
}

// Flag returns the verb's flag called name.
func (v Verb) Flag(name string) (Flag, bool) {
	for _, f := range v.Flags {
		if f.Name == name {
			return f, true
		}
	}
	return Flag{}, false
}

// Lookup returns the verb called name ("" is the tray).
func Lookup(name string) (Verb, bool) {
	for _, v := range Verbs {
		if v.Name == name {
			return v, true
		}
	}
	return Verb{}, false
}

const durHelp = "a duration such as 10s, 1m or 1m30s"

// GlobalFlags work with every verb, before or after it
// ("trustwatch --lang ru status", "trustwatch status --lang ru").
var GlobalFlags = []Flag{
	{Name: "lang", Arg: "LANG", Help: "speak LANG (en, ru, or a locale such as ru_RU.UTF-8) instead of the system's language; others give English"},
}

// EnvVar is an environment variable trustwatch reads.
type EnvVar struct {
	Name, Meaning string
}

// Environment is what trustwatch reads from its environment.
var Environment = []EnvVar{
	{"USBMUXD_SOCKET_ADDRESS", "where usbmuxd listens when not at the default (/var/run/usbmuxd; 127.0.0.1:27015 on Windows): UNIX:///path, unix:///path, /path, host:port or tcp://host:port"},
	{"TRUSTWATCH_LANG", "the language, like --lang (which wins over it); without either, the system's: LANGUAGE, LC_ALL, LC_MESSAGES, LANG on Linux, the Windows display language, macOS's preferred languages"},
}

var (
	exitUsage       = Exit{ExitUsage, "usage error: an unknown flag or verb, a bad value, a stray argument"}
	exitUnreachable = Exit{ExitUnreachable, "usbmuxd could not be reached (not installed, not running, refused, or answering garbage); the reason is printed on stderr"}
)

// Verbs is the command line, in the order --help lists it.
var Verbs = []Verb{
	{
		Name:     "",
		Synopsis: "[--allow-root]",
		Summary:  "the tray app: icon, menu, notifications and the watcher (the main job)",
		About:    "Start the tray icon. It watches USB and usbmuxd, notifies you when a plugged-in iPhone cannot sync and why, and offers Fix trust, the guide, Copy support report, Open at login, the Notifications switch (all, problems only, off) and Mute this iPhone in its menu. Only one tray runs per user. It refuses to run as root, because the tray, the notifications and the session bus belong to your desktop user.",
		Flags: []Flag{
			{Name: "allow-root", Help: "run even as root (tests and CI)"},
		},
		Exits: []Exit{
			{ExitOK, "quit from the menu, or stopped by SIGINT/SIGTERM"},
			{ExitFailure, "could not start: another tray already runs, it was started as root, or the tray failed"},
			exitUsage,
		},
		Examples: []string{"trustwatch", "trustwatch service install"},
	},
	{
		Name:     "status",
		Synopsis: "[--json] [--no-pair] [--timeout DUR]",
		Summary:  "diagnose every connected iPhone once, print, exit",
		About:    "Find every iPhone connected over USB, diagnose each, print one line per phone (or one JSON object), and exit. When a trustwatch tray runs, status asks it instead of probing. It waits until every phone has a final state or the timeout passes; the timeout bounds the whole run. It never saves a pairing; for a phone this computer has no pairing with, at most one Pair request is sent per plug by all trustwatch processes together, because only the phone's answer tells locked, waiting for Trust and \"Don't Trust\" apart. When usbmuxd cannot be reached, stderr says why in plain words with the next step.",
		Flags: []Flag{
			{Name: "json", Help: "print one JSON object instead of lines (its fields are in docs/cli.md)"},
			{Name: "no-pair", Help: "send no Pair request; a phone without a pairing is reported as untrusted"},
			{Name: "timeout", Arg: "DUR", Default: "10s", Help: "give up on phones without a final state after DUR, " + durHelp},
		},
		Exits: []Exit{
			{ExitOK, "it ran, whatever the phones' states (also when none is connected)"},
			exitUsage,
			exitUnreachable,
			{ExitInterrupted, "interrupted by Ctrl-C (SIGINT), 143 for SIGTERM; no verdict is printed"},
		},
		Examples: []string{"trustwatch status", "trustwatch status --json --timeout 30s"},
	},
	{
		Name:     "watch",
		Synopsis: "[--json] [--no-pair]",
		Summary:  "stream every state change until interrupted (no tray, no notifications)",
		About:    "Print a line for every state change of every phone, and for every change of usbmuxd's state, until interrupted. Like the tray it follows each phone: it waits for the unlock and the Trust tap and saves a pairing the user approved on the phone.",
		Flags: []Flag{
			{Name: "json", Help: "one JSON object per line, per change, flushed at once"},
			{Name: "no-pair", Help: "send no Pair request when a phone is plugged in"},
		},
		Exits: []Exit{
			{ExitOK, "stopped by SIGINT (Ctrl-C) or SIGTERM"},
			exitUsage,
		},
		Examples: []string{"trustwatch watch", "trustwatch watch --json | jq -r .state"},
	},
	{
		Name:     "fix",
		Synopsis: "[UDID] [--timeout DUR]",
		Summary:  "what the tray's Fix trust does: one Pair, you tap Trust, the pairing is saved",
		About:    "Ask the iPhone to trust this computer, from a terminal: trustwatch sends one Pair request (after removing a pairing the phone no longer accepts), tells you to unlock the phone and tap Trust, waits for your answer, and saves the approved pairing through usbmuxd so every program on this computer can use it. UDID may be left out when one iPhone is connected. Ctrl-C stops waiting; nothing is saved then.",
		Flags: []Flag{
			{Name: "timeout", Arg: "DUR", Default: "2m", Help: "wait at most DUR for the unlock and the Trust tap, " + durHelp},
		},
		Exits: []Exit{
			{ExitOK, "the iPhone trusts this computer and the pairing is saved (or it already did)"},
			{ExitFailure, "another problem stands in the way (no data link, recovery mode, an error); the reason is printed"},
			{ExitUsage, "usage error, or several iPhones are connected and no UDID was given (they are listed)"},
			exitUnreachable,
			{ExitNoPhone, "no iPhone is connected, or none with that UDID"},
			{ExitDenied, "\"Don't Trust\" was tapped (unplug the iPhone and plug it in again to be asked again)"},
			{ExitLocked, "the iPhone stayed locked, so it could not show the Trust question"},
			{ExitTimedOut, "nobody tapped Trust before the timeout"},
			{ExitInterrupted, "interrupted by Ctrl-C (SIGINT); 143 for SIGTERM"},
		},
		Examples: []string{"trustwatch fix", "trustwatch fix 00008030-001A2B3C4D5E6F70 --timeout 5m"},
	},
	{
		Name:     "forget",
		Synopsis: "[UDID] [--yes]",
		Summary:  "remove this computer's pairing with an iPhone (asks first unless --yes)",
		About:    "Remove the pairing between this computer and the iPhone, on both sides: the iPhone is asked to forget this computer and usbmuxd deletes its pair record. The iPhone asks \"Trust This Computer?\" again the next time it is plugged in. UDID may be left out when one iPhone is connected.",
		Flags: []Flag{
			{Name: "yes", Help: "do not ask for confirmation (for scripts)"},
		},
		Exits: []Exit{
			{ExitOK, "the pairing is gone (or there was none)"},
			{ExitFailure, "not confirmed, or it could not be removed; the reason is printed"},
			{ExitUsage, "usage error, or several iPhones are connected and no UDID was given (they are listed)"},
			exitUnreachable,
			{ExitNoPhone, "no iPhone is connected, or none with that UDID"},
			{ExitInterrupted, "interrupted by Ctrl-C (SIGINT); 143 for SIGTERM"},
		},
		Examples: []string{"trustwatch forget", "trustwatch forget 00008030-001A2B3C4D5E6F70 --yes"},
	},
	{
		Name:     "report",
		Synopsis: "[--redact]",
		Summary:  "a plain-text support report: versions, usbmuxd, USB, login item, each phone's state and history, log tail",
		About:    "Print a support report to send to whoever helps you: trustwatch's version and build, the OS and language, where usbmuxd is and its state, the USB layer, the login item, the notification server, each phone's state with what happened to it (times, states, lockdown error names), and the end of the log. It never contains a key, a pair record or an escrow bag, and sends no Pair request. The tray's menu has the same report under Copy support report, with the history since the tray started.",
		Flags: []Flag{
			{Name: "redact", Help: "replace UDIDs and phone names by placeholders (iPhone-1, UDID-1)"},
		},
		Exits: []Exit{
			{ExitOK, "the report was printed (parts that could not be read say so inside)"},
			exitUsage,
			{ExitInterrupted, "interrupted by Ctrl-C before it was printed; 143 for SIGTERM"},
		},
		Examples: []string{"trustwatch report > report.txt", "trustwatch report --redact"},
	},
	{
		Name:     "guide",
		Synopsis: "[ANCHOR] [--print]",
		Summary:  "open the built-in guide at ANCHOR; --print writes it as text",
		About:    "Open trustwatch's built-in guide in the web browser, at ANCHOR if given (the anchors are listed by trustwatch guide --help and in docs/cli.md). The page works offline.",
		Flags: []Flag{
			{Name: "print", Help: "write the guide (or ANCHOR's section) to stdout as plain text"},
		},
		Exits: []Exit{
			{ExitOK, "opened or printed"},
			{ExitFailure, "the browser could not be opened"},
			{ExitUsage, "unknown anchor or flag"},
		},
		Examples: []string{"trustwatch guide step-3", "trustwatch guide issue-cable --print"},
		OwnHelp:  true,
	},
	{
		Name:     "service",
		Synopsis: "install|uninstall|start|stop|status [--json] [--allow-root]",
		Summary:  "the login item: start the tray at login, or not",
		About:    "Manage the login item that starts the tray when you log in: a systemd user unit or an XDG autostart entry on Linux, a LaunchAgent on macOS, the Run registry value on Windows.",
		Flags: []Flag{
			{Name: "json", Help: "(status) print one JSON object"},
			{Name: "allow-root", Help: "do it even as root"},
		},
		Exits: []Exit{
			{ExitOK, "done"},
			{ExitFailure, "it could not be done; the reason is printed"},
			exitUsage,
		},
		Examples: []string{"trustwatch service install", "trustwatch service status --json"},
		OwnHelp:  true,
	},
	{
		Name:     "demo",
		Synopsis: "[--allow-root] [--speed N]",
		Summary:  "the tray and notifications against a built-in simulated iPhone, playing a one-minute story",
		About:    "Show the tray and its notifications with simulated iPhones: Anna's phone is plugged in locked and untrusted, unlocked, trusted; Ben's only charges; Chris taps \"Don't Trust\". The real usbmuxd is not touched.",
		Flags: []Flag{
			{Name: "allow-root", Help: "run even as root (tests and CI)"},
			{Name: "speed", Arg: "N", Default: "1", Help: "play the story N times faster (a number above 0, e.g. 2 or 0.5)"},
		},
		Exits: []Exit{
			{ExitOK, "quit from the menu"},
			{ExitFailure, "the tray or the simulator could not start"},
			exitUsage,
		},
		Examples: []string{"trustwatch demo", "trustwatch demo --speed 4"},
	},
	{
		Name:     "version",
		Synopsis: "",
		Summary:  "version, commit, date, Go version, OS/arch and which optional parts this build has",
		About:    "Print trustwatch's version, commit and date (stamped by the release; a plain go build shows what Go recorded), the Go version and OS/arch, and which optional parts this build has: the USB layer (libusb) and the tray.",
		Exits: []Exit{
			{ExitOK, "printed"},
			exitUsage,
		},
		Examples: []string{"trustwatch version"},
	},
}
