// trustwatch tells people why the iPhone they just plugged in does not show
// up (locked, not trusted, "Don't Trust" tapped, charge-only link, usbmuxd
// missing) and what to do about it. See README.md.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/trustwatch/trustwatch/internal/actionurl"
	"github.com/trustwatch/trustwatch/watcher/usbmux"
)

// Exit codes of the contract.
const (
	exitOK          = 0
	exitFailure     = 1
	exitUsage       = 2
	exitUnreachable = 3
)

type verb struct {
	name, args, help string
	run              func(args []string, stdout, stderr io.Writer) int
}

// verbs is the command table; `trustwatch` alone runs the tray.
var verbs []verb

func init() {
	verbs = []verb{
		{"status", "[--json] [--no-pair] [--timeout DUR]", "diagnose every connected device once, print, exit", runStatus},
		{"watch", "[--json]", "stream every state change until interrupted (no tray, no notifications)", runWatch},
		{"guide", "[ANCHOR] [--print]", "open the built-in guide at ANCHOR; --print writes it as text", runGuide},
		{"service", "install|uninstall|start|stop|status", "the login item", runService},
		{"demo", "[--allow-root]", "the tray and notifications against a built-in simulated iPhone", runDemo},
		{"version", "", "version, build and which optional parts this build has", runVersion},
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		if len(args) > 0 && isHelp(args[0]) {
			usage(stdout)
			return exitOK
		}
		return runTray(args, stdout, stderr)
	}
	if actionurl.IsActionURL(args[0]) && len(args) == 1 {
		return runActionURL(args[0], stderr)
	}
	if args[0] == "help" {
		usage(stdout)
		return exitOK
	}
	for _, v := range verbs {
		if v.name == args[0] {
			return v.run(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "trustwatch: unknown command %q (try trustwatch --help)\n", args[0])
	return exitUsage
}

func isHelp(a string) bool { return a == "-h" || a == "--help" || a == "-help" }

func usage(w io.Writer) {
	fmt.Fprintln(w, "trustwatch — why your iPhone does not show up on this computer, and what to do.")
	fmt.Fprintln(w, "\nUsage:\n  trustwatch [--allow-root]                                  the tray app (the main job)")
	for _, v := range verbs {
		fmt.Fprintf(w, "  trustwatch %-8s %-38s %s\n", v.name, v.args, v.help)
	}
	fmt.Fprintln(w, "\nEnvironment: USBMUXD_SOCKET_ADDRESS overrides where usbmuxd listens.")
	fmt.Fprintln(w, "Run 'trustwatch VERB --help' for a verb's flags.")
}

// newFlags makes a verb's flag set that reports problems in one line.
func newFlags(name, synopsis string, stdout io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fmt.Fprintf(stdout, "Usage: trustwatch %s %s\n", name, synopsis)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return fs
}

// parseFlags parses; ok false means return code (0 for --help, 2 for errors).
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer) (code int, ok bool) {
	err := fs.Parse(args)
	switch {
	case err == nil:
		return 0, true
	case errors.Is(err, flag.ErrHelp):
		fs.Usage()
		return exitOK, false
	default:
		fmt.Fprintf(stderr, "trustwatch %s: %v\n", fs.Name(), err)
		return exitUsage, false
	}
}

// parseVerb parses a verb's flags, rejects stray arguments and reads where
// usbmuxd is; ok false means return code.
func parseVerb(fs *flag.FlagSet, args []string, stderr io.Writer) (addr usbmux.Address, code int, ok bool) {
	if code, ok := parseFlags(fs, args, stderr); !ok {
		return addr, code, false
	}
	if !noArgs(fs, stderr) {
		return addr, exitUsage, false
	}
	addr, err := usbmux.AddressFromEnv()
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", strings.TrimSpace("trustwatch "+fs.Name()), err)
		return addr, exitUsage, false
	}
	return addr, 0, true
}

// noArgs rejects stray positional arguments.
func noArgs(fs *flag.FlagSet, stderr io.Writer) bool {
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "trustwatch %s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return false
	}
	return true
}
