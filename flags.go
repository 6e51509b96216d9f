package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/trustwatch/trustwatch/internal/catalog"
	"github.com/trustwatch/trustwatch/internal/cliref"
	"github.com/trustwatch/trustwatch/watcher/usbmux"
)

// cmdFlags is a verb's flag set. Flags are declared by name only: help
// text and defaults come from the verb's entry in cliref, and parse checks
// that the set and the entry name the same flags, so --help and the docs
// cannot describe a flag that does not exist (or miss one that does).
type cmdFlags struct {
	fs   *flag.FlagSet
	verb cliref.Verb
}

func newFlags(name string) *cmdFlags {
	v, ok := cliref.Lookup(name)
	if !ok {
		panic("trustwatch: verb " + name + " is not described in internal/cliref")
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {} // parse prints the help, once
	return &cmdFlags{fs: fs, verb: v}
}

func (c *cmdFlags) doc(name string) cliref.Flag {
	f, ok := c.verb.Flag(name)
	if !ok {
		panic(fmt.Sprintf("trustwatch: flag --%s of %q is not described in internal/cliref", name, c.verb.Line()))
	}
	return f
}

// Bool declares a switch.
func (c *cmdFlags) Bool(name string) *bool {
	c.doc(name)
	return c.fs.Bool(name, false, "") // the help is cliref's, in the catalog
}

// Duration declares a positive duration flag with its cliref default.
func (c *cmdFlags) Duration(name string) *time.Duration {
	f := c.doc(name)
	d, err := time.ParseDuration(f.Default)
	if err != nil {
		panic(fmt.Sprintf("trustwatch: --%s default %q: %v", name, f.Default, err))
	}
	v := durationValue(d)
	c.fs.Var(&v, name, "")
	return (*time.Duration)(&v)
}

// Float declares a positive number flag with its cliref default.
func (c *cmdFlags) Float(name string) *float64 {
	f := c.doc(name)
	x, err := strconv.ParseFloat(f.Default, 64)
	if err != nil {
		panic(fmt.Sprintf("trustwatch: --%s default %q: %v", name, f.Default, err))
	}
	v := floatValue(x)
	c.fs.Var(&v, name, "")
	return (*float64)(&v)
}

// errNotPositive is a value that must be above zero.
var errNotPositive = errors.New("not above zero")

type durationValue time.Duration

func (d *durationValue) String() string { return time.Duration(*d).String() }
func (d *durationValue) Set(s string) error {
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	if v <= 0 {
		return errNotPositive
	}
	*d = durationValue(v)
	return nil
}

type floatValue float64

func (f *floatValue) String() string { return strconv.FormatFloat(float64(*f), 'g', -1, 64) }
func (f *floatValue) Set(s string) error {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return err
	}
	if v <= 0 {
		return errNotPositive
	}
	*f = floatValue(v)
	return nil
}

// parse reads flags and up to maxArgs positional arguments, in any order
// ("fix UDID --timeout 5m" and "fix --timeout 5m UDID" alike). ok false
// means: return code (0 after --help, 2 after a usage error, already
// printed on stderr as one line).
func (c *cmdFlags) parse(args []string, maxArgs int, stdout, stderr io.Writer) (pos []string, code int, ok bool) {
	c.checkAgainstDoc()
	for {
		err := c.fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			cliref.Help(stdout, c.verb)
			return nil, exitOK, false
		}
		if err != nil {
			usageError(stderr, c.verb.Name, c.explain(err))
			return nil, exitUsage, false
		}
		rest := c.fs.Args()
		// The flag package swallows the "--" that ends the flags: what
		// follows it is all arguments, even if it starts with a dash.
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		if len(rest) == 0 {
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	if len(pos) > maxArgs {
		usageError(stderr, c.verb.Name, unexpectedArg(pos[maxArgs]))
		return nil, exitUsage, false
	}
	return pos, 0, true
}

// parseAddr is parse for verbs that talk to usbmuxd: it also reads
// USBMUXD_SOCKET_ADDRESS.
func (c *cmdFlags) parseAddr(args []string, maxArgs int, stdout, stderr io.Writer) (addr usbmux.Address, pos []string, code int, ok bool) {
	if pos, code, ok = c.parse(args, maxArgs, stdout, stderr); !ok {
		return addr, nil, code, false
	}
	addr, err := usbmux.AddressFromEnv()
	if err != nil {
		usageError(stderr, c.verb.Name, "USBMUXD_SOCKET_ADDRESS: "+err.Error())
		return addr, nil, exitUsage, false
	}
	return addr, pos, 0, true
}

// checkAgainstDoc panics when the flag set and cliref disagree: a
// programming error that every --help test run catches.
func (c *cmdFlags) checkAgainstDoc() {
	var have, want []string
	c.fs.VisitAll(func(f *flag.Flag) { have = append(have, f.Name) })
	for _, f := range c.verb.Flags {
		want = append(want, f.Name)
	}
	sort.Strings(have)
	sort.Strings(want)
	if strings.Join(have, ",") != strings.Join(want, ",") {
		panic(fmt.Sprintf("trustwatch: %q declares flags %v but internal/cliref describes %v", c.verb.Line(), have, want))
	}
}

var (
	undefinedRE = regexp.MustCompile(`^flag provided but not defined: -+(.*)$`)
	invalidRE   = regexp.MustCompile(`^invalid (?:boolean )?value "(.*)" for (?:flag )?-+([^:]+): (.*)$`)
	needsArgRE  = regexp.MustCompile(`^flag needs an argument: -+(.*)$`)
)

// explain turns the flag package's error into words that name the flag as
// it is spelled in the synopsis and say what a good value looks like.
func (c *cmdFlags) explain(err error) string {
	w := catalog.Current()
	msg := err.Error()
	if m := undefinedRE.FindStringSubmatch(msg); m != nil {
		return w.T("cli.usage.unknown_flag", map[string]any{"Flag": m[1]})
	}
	if m := needsArgRE.FindStringSubmatch(msg); m != nil {
		return w.T("cli.usage.needs_value", map[string]any{"Flag": m[1], "Hint": valueHint(w, c.doc(m[1]))})
	}
	if m := invalidRE.FindStringSubmatch(msg); m != nil {
		value, name, why := strconv.Quote(m[1]), m[2], m[3]
		f := c.doc(name)
		data := map[string]any{"Flag": name, "Value": value, "Hint": valueHint(w, f)}
		switch {
		case f.Arg == "":
			return w.T("cli.usage.switch_no_value", data)
		case why == errNotPositive.Error():
			return w.T("cli.usage.not_positive", data)
		}
		return w.T("cli.usage.wants", data)
	}
	return msg
}

// valueHint says what a flag's value looks like, with an example.
func valueHint(w catalog.Words, f cliref.Flag) string {
	switch f.Arg {
	case "DUR":
		return w.T("cli.usage.hint_duration", nil)
	case "N":
		return w.T("cli.usage.hint_number", nil)
	}
	return w.T("cli.usage.hint_value", nil)
}

// usageError prints one line: what is wrong, and where help is.
func usageError(stderr io.Writer, verb, problem string) {
	cmd := strings.TrimSpace("trustwatch " + verb)
	fmt.Fprintln(stderr, catalog.Current().T("cli.usage.line", map[string]any{"Command": cmd, "Problem": problem}))
}

// unexpectedArg is the usage error for a stray argument.
func unexpectedArg(arg string) string {
	return catalog.Current().T("cli.usage.unexpected_arg", map[string]any{"Arg": strconv.Quote(arg)})
}
