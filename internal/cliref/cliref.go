// Package cliref is the one description of trustwatch's command line:
// verbs, synopses, flags, exit codes and examples. `trustwatch --help`,
// every `trustwatch VERB --help`, the verb table in README.md and
// docs/cli.md are all rendered from it (the docs by `go generate`, checked
// by a test), so they cannot drift apart. The verbs' flag sets are checked
// against it whenever they parse. The words are in internal/catalog
// (messages/*/cli.toml): --help speaks the user's language, the generated
// documents are rendered in English.
package cliref

import (
	"fmt"

	"github.com/trustwatch/trustwatch/internal/catalog"
	"github.com/trustwatch/trustwatch/service"
)

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
	msg     string // catalog id of its help, set by init
}

// Help is what the flag does, in w's language.
func (f Flag) Help(w catalog.Words) string { return w.T(f.msg, nil) }

// Exit is what an exit code means for one verb.
type Exit struct {
	Code int
	msg  string // catalog id, set by init unless shared
}

// Meaning is what the code means, in w's language.
func (e Exit) Meaning(w catalog.Words) string { return w.T(e.msg, nil) }

// Verb is one command. The tray itself is the verb with the empty name.
// Its words (summary, about, flag help, exit meanings) are in the catalog
// under cli.verb.KEY.*, cli.flag.KEY.*, cli.exit.KEY.* (KEY is the name,
// "tray" for the tray).
type Verb struct {
	Name     string
	Synopsis string // after "trustwatch NAME"
	Flags    []Flag
	Exits    []Exit
	Examples []string // whole command lines
	// Subcommands are the words that may follow the verb (service's
	// install, uninstall…); their help is cli.sub.KEY.WORD.
	Subcommands []string
	// ListsAnchors: its --help lists the guide's anchors (guide).
	ListsAnchors bool
}

func (v Verb) key() string {
	if v.Name == "" {
		return "tray"
	}
	return v.Name
}

// Summary is the verb's one line for the verb table, in w's language.
func (v Verb) Summary(w catalog.Words) string { return w.T("cli.verb."+v.key()+".summary", nil) }

// About is the verb's paragraph for VERB --help and docs/cli.md.
func (v Verb) About(w catalog.Words) string { return w.T("cli.verb."+v.key()+".about", nil) }

// SubcommandHelp is what a subcommand does, in w's language.
func (v Verb) SubcommandHelp(w catalog.Words, sub string) string {
	return w.T("cli.sub."+v.key()+"."+sub, nil)
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

// GlobalFlags work with every verb, before or after it
// ("trustwatch --lang ru status", "trustwatch status --lang ru").
var GlobalFlags = []Flag{
	{Name: "lang", Arg: "LANG", msg: "cli.flag.global.lang"},
}

// EnvVar is an environment variable trustwatch reads.
type EnvVar struct {
	Name string
}

// Meaning is what the variable does, in w's language.
func (e EnvVar) Meaning(w catalog.Words) string { return w.T("cli.env."+e.Name, nil) }

// Environment is what trustwatch reads from its environment.
var Environment = []EnvVar{
	{"USBMUXD_SOCKET_ADDRESS"},
	{"TRUSTWATCH_LANG"},
}

var (
	exitUsage       = Exit{ExitUsage, "cli.exit.usage"}
	exitUnreachable = Exit{ExitUnreachable, "cli.exit.unreachable"}
)

// Verbs is the command line, in the order --help lists it.
var Verbs = []Verb{
	{
		Name:     "",
		Synopsis: "[--allow-root]",
		Flags: []Flag{
			{Name: "allow-root"},
		},
		Exits: []Exit{
			{Code: ExitOK},
			{Code: ExitFailure},
			exitUsage,
		},
		Examples: []string{"trustwatch", "trustwatch service install"},
	},
	{
		Name:     "status",
		Synopsis: "[--json] [--no-pair] [--timeout DUR]",
		Flags: []Flag{
			{Name: "json"},
			{Name: "no-pair"},
			{Name: "timeout", Arg: "DUR", Default: "10s"},
		},
		Exits: []Exit{
			{Code: ExitOK},
			exitUsage,
			exitUnreachable,
			{Code: ExitInterrupted},
		},
		Examples: []string{"trustwatch status", "trustwatch status --json --timeout 30s"},
	},
	{
		Name:     "watch",
		Synopsis: "[--json] [--no-pair]",
		Flags: []Flag{
			{Name: "json"},
			{Name: "no-pair"},
		},
		Exits: []Exit{
			{Code: ExitOK},
			exitUsage,
		},
		Examples: []string{"trustwatch watch", "trustwatch watch --json | jq -r .state"},
	},
	{
		Name:     "fix",
		Synopsis: "[UDID] [--timeout DUR]",
		Flags: []Flag{
			{Name: "timeout", Arg: "DUR", Default: "2m"},
		},
		Exits: []Exit{
			{Code: ExitOK},
			{Code: ExitFailure},
			{Code: ExitUsage},
			exitUnreachable,
			{Code: ExitNoPhone},
			{Code: ExitDenied},
			{Code: ExitLocked},
			{Code: ExitTimedOut},
			{Code: ExitInterrupted},
		},
		Examples: []string{"trustwatch fix", "trustwatch fix 00008030-001A2B3C4D5E6F70 --timeout 5m"},
	},
	{
		Name:     "forget",
		Synopsis: "[UDID] [--yes]",
		Flags: []Flag{
			{Name: "yes"},
		},
		Exits: []Exit{
			{Code: ExitOK},
			{Code: ExitFailure},
			{Code: ExitUsage},
			exitUnreachable,
			{Code: ExitNoPhone},
			{Code: ExitInterrupted},
		},
		Examples: []string{"trustwatch forget", "trustwatch forget 00008030-001A2B3C4D5E6F70 --yes"},
	},
	{
		Name:     "report",
		Synopsis: "[--redact]",
		Flags: []Flag{
			{Name: "redact"},
		},
		Exits: []Exit{
			{Code: ExitOK},
			exitUsage,
			{Code: ExitInterrupted},
		},
		Examples: []string{"trustwatch report > report.txt", "trustwatch report --redact"},
	},
	{
		Name:         "guide",
		Synopsis:     "[ANCHOR] [--print]",
		ListsAnchors: true,
		Flags: []Flag{
			{Name: "print"},
		},
		Exits: []Exit{
			{Code: ExitOK},
			{Code: ExitFailure},
			{Code: ExitUsage},
		},
		Examples: []string{"trustwatch guide step-3", "trustwatch guide issue-cable --print"},
	},
	{
		Name:        "service",
		Synopsis:    "install|uninstall|start|stop|status [--json] [--allow-root]",
		Subcommands: service.Verbs,
		Flags: []Flag{
			{Name: "json"},
			{Name: "allow-root"},
		},
		Exits: []Exit{
			{Code: ExitOK},
			{Code: ExitFailure},
			exitUsage,
		},
		Examples: []string{"trustwatch service install", "trustwatch service status --json"},
	},
	{
		Name:     "demo",
		Synopsis: "[--allow-root] [--speed N]",
		Flags: []Flag{
			{Name: "allow-root"},
			{Name: "speed", Arg: "N", Default: "1"},
		},
		Exits: []Exit{
			{Code: ExitOK},
			{Code: ExitFailure},
			exitUsage,
		},
		Examples: []string{"trustwatch demo", "trustwatch demo --speed 4"},
	},
	{
		Name:     "version",
		Synopsis: "",
		Exits: []Exit{
			{Code: ExitOK},
			exitUsage,
		},
		Examples: []string{"trustwatch version"},
	},
}

// init names each flag's and exit code's message after its verb.
func init() {
	for i := range Verbs {
		v := &Verbs[i]
		for j := range v.Flags {
			v.Flags[j].msg = "cli.flag." + v.key() + "." + v.Flags[j].Name
		}
		for j := range v.Exits {
			if v.Exits[j].msg == "" {
				v.Exits[j].msg = fmt.Sprintf("cli.exit.%s.%d", v.key(), v.Exits[j].Code)
			}
		}
	}
}
