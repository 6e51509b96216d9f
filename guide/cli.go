package guide

import (
	"fmt"
	"io"
	"strings"

	"github.com/trustwatch/trustwatch/internal/lang"
)

// Exit codes of Main.
const (
	exitOK    = 0
	exitFail  = 1 // the browser could not be opened, or the page written
	exitUsage = 2
)

// Main implements `trustwatch guide [ANCHOR] [--print]`: open the guide in
// the browser at ANCHOR, or with --print write it (or ANCHOR's section) to
// stdout as plain text. args are the arguments after "guide". It returns
// the process exit code: 0 done, 1 the guide could not be opened, 2 usage
// error (unknown flag or anchor, more than one anchor).
func Main(args []string, stdout, stderr io.Writer) int {
	var (
		print  bool
		anchor string
		seen   bool
	)
	flags := true
	for _, a := range args {
		if flags && strings.HasPrefix(a, "-") && a != "-" {
			switch a {
			case "--":
				flags = false
			case "--print", "-print":
				print = true
			case "--help", "-help", "-h":
				usage(stdout)
				return exitOK
			default:
				name, _, _ := strings.Cut(a, "=")
				fmt.Fprintf(stderr, "trustwatch guide: unknown flag %s (see trustwatch guide --help)\n", name)
				return exitUsage
			}
			continue
		}
		if seen {
			fmt.Fprintf(stderr, "trustwatch guide: one ANCHOR at most, got %q and %q\n", anchor, a)
			return exitUsage
		}
		// "#step-3" is what people copy from a URL; accept it.
		anchor, seen = strings.TrimPrefix(a, "#"), true
	}
	if seen && !Has(anchor) {
		fmt.Fprintf(stderr, "trustwatch guide: unknown anchor %q; valid anchors: %s\n", anchor, strings.Join(Anchors(), ", "))
		return exitUsage
	}

	if print {
		t, err := Text(anchor)
		if err != nil {
			fmt.Fprintf(stderr, "trustwatch guide: %v\n", err)
			return exitFail
		}
		if _, err := io.WriteString(stdout, t); err != nil {
			fmt.Fprintf(stderr, "trustwatch guide: %v\n", err)
			return exitFail
		}
		return exitOK
	}

	u, err := open(anchor)
	if err != nil {
		fmt.Fprintf(stderr, "trustwatch guide: %v\n", err)
		if u != "" {
			fmt.Fprintf(stderr, "trustwatch guide: open %s in a browser, or read it here with: trustwatch guide %s --print\n", u, anchor)
		}
		return exitFail
	}
	fmt.Fprintf(stdout, "Opened the guide: %s\n", u)
	return exitOK
}

func usage(w io.Writer) {
	var b strings.Builder
	b.WriteString(`Usage: trustwatch guide [ANCHOR] [--print]

Open trustwatch's built-in guide in your web browser, at ANCHOR if given.
The page is written to your cache directory and works offline.

Flags:
  --print   write the guide (or ANCHOR's section) to standard output as
            plain text instead of opening the browser
  --help    show this help

Anchors:
`)
	for _, a := range Anchors() {
		fmt.Fprintf(&b, "  %-20s %s\n", a, TitleIn(lang.Default, a)) // the help is English until the CLI is translated
	}
	b.WriteString(`
Examples:
  trustwatch guide step-3           open the guide at "Tap Trust"
  trustwatch guide issue-cable --print
`)
	_, _ = io.WriteString(w, b.String())
}
