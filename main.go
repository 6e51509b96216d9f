// trustwatch tells people why the iPhone they just plugged in does not show
// up (locked, not trusted, "Don't Trust" tapped, charge-only link, usbmuxd
// missing) and what to do about it. See README.md and docs/cli.md.
package main

//go:generate go run ./internal/cliref/cmd/gendocs

import (
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/trustwatch/trustwatch/guide"
	"github.com/trustwatch/trustwatch/internal/actionurl"
	"github.com/trustwatch/trustwatch/internal/catalog"
	"github.com/trustwatch/trustwatch/internal/cliref"
	"github.com/trustwatch/trustwatch/service"
)

// Exit codes (docs/cli.md; cliref holds their descriptions).
const (
	exitOK          = cliref.ExitOK
	exitFailure     = cliref.ExitFailure
	exitUsage       = cliref.ExitUsage
	exitUnreachable = cliref.ExitUnreachable
	exitNoPhone     = cliref.ExitNoPhone
	exitDenied      = cliref.ExitDenied
	exitLocked      = cliref.ExitLocked
	exitTimedOut    = cliref.ExitTimedOut
	exitInterrupted = cliref.ExitInterrupted
	exitTerminated  = cliref.ExitTerminated
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run takes the global --lang off the arguments (lang.go), then runs the
// verb.
func run(args []string, stdout, stderr io.Writer) int {
	rest, err := takeLang(args)
	if err != nil {
		usageError(stderr, "", catalog.Current().T("cli.usage.lang_needs_value", nil))
		return exitUsage
	}
	return runVerb(rest, stdout, stderr)
}

// runVerb dispatches to the verb that cliref describes: each one call,
// with the arguments after the verb. No verb (or a flag first) is the tray.
func runVerb(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (len(args[0]) > 1 && args[0][0] == '-') {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
			cliref.Usage(stdout)
			return exitOK
		}
		return runTray(args, stdout, stderr)
	}
	if actionurl.IsActionURL(args[0]) && len(args) == 1 {
		return runActionURL(args[0], stderr) // a toast button (Windows)
	}
	verb, rest := args[0], args[1:]
	switch verb {
	case "help":
		return runHelp(rest, stdout, stderr)
	case "status":
		return runStatus(rest, stdout, stderr)
	case "watch":
		return runWatch(rest, stdout, stderr)
	case "fix":
		return runFix(rest, stdout, stderr)
	case "forget":
		return runForget(rest, stdout, stderr)
	case "report":
		return runReport(rest, stdout, stderr)
	case "guide":
		return runGuide(rest, stdout, stderr)
	case "service":
		return runService(rest, stdout, stderr)
	case "demo":
		return runDemo(rest, stdout, stderr)
	case "version":
		return runVersion(rest, stdout, stderr)
	}
	usageError(stderr, "", unknownCommand(verb))
	return exitUsage
}

// runHelp is `trustwatch help [VERB]`.
func runHelp(args []string, stdout, stderr io.Writer) int {
	switch {
	case len(args) == 0:
		cliref.Usage(stdout)
		return exitOK
	case len(args) > 1:
		usageError(stderr, "", catalog.Current().T("cli.usage.help_one_verb", map[string]any{"First": strconv.Quote(args[0]), "Second": strconv.Quote(args[1])}))
		return exitUsage
	}
	if v, ok := cliref.Lookup(args[0]); ok && v.Name != "" {
		cliref.Help(stdout, v)
		return exitOK
	}
	usageError(stderr, "", unknownCommand(args[0]))
	return exitUsage
}

// unknownCommand is the usage error for a verb that does not exist, with
// the verb one or two typos away from it.
func unknownCommand(name string) string {
	best, bestD := "", 3
	for _, v := range cliref.Verbs {
		if v.Name == "" {
			continue
		}
		if d := editDistance(name, v.Name); d < bestD {
			best, bestD = v.Name, d
		}
	}
	data := map[string]any{"Name": strconv.Quote(name), "Verb": best}
	if best == "" {
		return catalog.Current().T("cli.usage.unknown_command", data)
	}
	return catalog.Current().T("cli.usage.did_you_mean", data)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// runGuide is `trustwatch guide [ANCHOR] [--print]`.
func runGuide(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("guide")
	print := fs.Bool("print")
	pos, code, ok := fs.parse(args, 1, stdout, stderr)
	if !ok {
		return code
	}
	anchor := ""
	if len(pos) == 1 {
		anchor = strings.TrimPrefix(pos[0], "#") // what people copy from a URL
		if !guide.Has(anchor) {
			usageError(stderr, "guide", catalog.Current().T("cli.guide.unknown_anchor", map[string]any{
				"Anchor": strconv.Quote(anchor), "Anchors": strings.Join(guide.Anchors(), ", "),
			}))
			return exitUsage
		}
	}
	return guide.Show(anchor, *print, stdout, stderr)
}

// runService is `trustwatch service VERB [--json] [--allow-root]`.
func runService(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("service")
	asJSON := fs.Bool("json")
	allowRoot := fs.Bool("allow-root")
	pos, code, ok := fs.parse(args, 1, stdout, stderr)
	if !ok {
		return code
	}
	w := catalog.Current()
	switch {
	case len(pos) == 0:
		usageError(stderr, "service", w.T("cli.service.missing_verb", nil))
		return exitUsage
	case pos[0] == "help":
		cliref.Help(stdout, fs.verb)
		return exitOK
	case !slices.Contains(service.Verbs, pos[0]):
		usageError(stderr, "service", w.T("cli.service.unknown_verb", map[string]any{"Verb": strconv.Quote(pos[0])}))
		return exitUsage
	case *asJSON && pos[0] != "status":
		usageError(stderr, "service", w.T("cli.service.json_only_status", nil))
		return exitUsage
	}
	return service.Run(pos[0], *allowRoot, *asJSON, stdout, stderr)
}
