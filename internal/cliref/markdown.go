package cliref

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/trustwatch/trustwatch/guide"
	"github.com/trustwatch/trustwatch/watcher/engine"

	"github.com/trustwatch/trustwatch/internal/say"
)

// en is the documents' language: the generated docs stay English.
var en = say.English

// Regions are the generated parts of README.md and docs/cli.md, by name.
// In a document each sits between "<!-- generated: NAME -->" and
// "<!-- end generated: NAME -->" (`go generate` rewrites them).
func Regions() map[string]string {
	return map[string]string{
		"verbs":         verbTable(),
		"reference":     reference(),
		"exit-codes":    exitTable(),
		"states":        stateTable(),
		"usbmux-states": muxTable(),
		"anchors":       anchorTable(),
		"global":        globalTable(),
	}
}

var regionRE = regexp.MustCompile(`(?s)<!-- generated: ([a-z-]+) -->\n.*?<!-- end generated: ([a-z-]+) -->`)

// Apply replaces every generated region of doc with its current text. A
// region that Regions does not know, or markers that do not pair up, are
// errors, so a typo cannot leave a stale table behind.
func Apply(doc string) (string, error) {
	regions := Regions()
	var err error
	out := regionRE.ReplaceAllStringFunc(doc, func(m string) string {
		sub := regionRE.FindStringSubmatch(m)
		if sub[1] != sub[2] {
			err = fmt.Errorf("region %q is closed as %q", sub[1], sub[2])
			return m
		}
		text, ok := regions[sub[1]]
		if !ok {
			err = fmt.Errorf("unknown generated region %q", sub[1])
			return m
		}
		return "<!-- generated: " + sub[1] + " -->\n" + text + "<!-- end generated: " + sub[1] + " -->"
	})
	if err != nil {
		return "", err
	}
	opens := strings.Count(doc, "<!-- generated: ")
	if n := len(regionRE.FindAllString(doc, -1)); n != opens || strings.Count(doc, "<!-- end generated: ") != opens {
		return "", fmt.Errorf("%d generated regions open, %d pair up", opens, n)
	}
	return out, nil
}

func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

func code(s string) string { return "`" + cell(s) + "`" }

func verbTable() string {
	var b strings.Builder
	b.WriteString("| command | does |\n|---|---|\n")
	for _, v := range Verbs {
		fmt.Fprintf(&b, "| %s | %s |\n", code(v.Line()), cell(v.Summary(en)))
	}
	return b.String()
}

func reference() string {
	var b strings.Builder
	for _, v := range Verbs {
		fmt.Fprintf(&b, "### %s\n\n", code(v.Line()))
		b.WriteString(v.About(en) + "\n\n")
		if len(v.Flags) > 0 {
			b.WriteString("| flag | meaning |\n|---|---|\n")
			for _, f := range v.Flags {
				fmt.Fprintf(&b, "| %s | %s |\n", code(FlagSpelling(f)), cell(FlagHelp(en, f)))
			}
			b.WriteString("\n")
		}
		b.WriteString("| exit | meaning |\n|---|---|\n")
		for _, e := range v.Exits {
			fmt.Fprintf(&b, "| %d | %s |\n", e.Code, cell(e.Meaning(en)))
		}
		b.WriteString("\nExamples:\n\n```sh\n")
		for _, ex := range v.Examples {
			b.WriteString(ex + "\n")
		}
		b.WriteString("```\n\n")
	}
	return b.String()
}

func exitTable() string {
	var b strings.Builder
	b.WriteString("| code | name | used by |\n|---|---|---|\n")
	names := map[int]string{
		ExitOK: "done", ExitFailure: "failed", ExitUsage: "usage error", ExitUnreachable: "usbmuxd could not be reached",
		ExitNoPhone: "no such iPhone", ExitDenied: "\"Don't Trust\" tapped", ExitLocked: "locked", ExitTimedOut: "timed out",
		ExitInterrupted: "interrupted",
	}
	for _, c := range []int{ExitOK, ExitFailure, ExitUsage, ExitUnreachable, ExitNoPhone, ExitDenied, ExitLocked, ExitTimedOut, ExitInterrupted} {
		var users []string
		for _, v := range Verbs {
			for _, e := range v.Exits {
				if e.Code == c {
					users = append(users, code(v.Command()))
				}
			}
		}
		fmt.Fprintf(&b, "| %d | %s | %s |\n", c, cell(names[c]), strings.Join(users, ", "))
	}
	return b.String()
}

func stateTable() string {
	var b strings.Builder
	b.WriteString("| state | in the menu | guide | what trustwatch says |\n|---|---|---|---|\n")
	for _, s := range engine.AllStates {
		a := s.Anchor()
		if a == "" {
			a = "—"
		} else {
			a = code(a)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", code(string(s)), cell(say.StateWords(say.English, s)), a, cell(say.StateSummary(say.English, s)))
	}
	return b.String()
}

// muxTable shows each usbmuxd state as a Debian user sees it.
func muxTable() string {
	env := engine.MuxEnv{GOOS: "linux", Install: "sudo apt install usbmuxd", USBVisible: true}
	var b strings.Builder
	b.WriteString("| `usbmux.state` | an iPhone on USB? | what trustwatch says (Debian) | guide | alarm |\n|---|---|---|---|---|\n")
	for _, s := range engine.AllMuxStates {
		phones := []bool{false}
		switch s {
		case engine.MuxNotRunning:
			phones = []bool{false, true}
		case engine.MuxDisabled, engine.MuxStarting:
			env := engine.MuxEnv{GOOS: "windows"}
			t := engine.DescribeMux(engine.Usbmux{Address: "127.0.0.1:27015", State: s}, env, true)
			fmt.Fprintf(&b, "| %s | Windows only | %s | %s | %s |\n", code(string(s)), cell(say.MuxLine(say.English, t)), anchorCell(t.Anchor), yesNo(t.Problem))
			continue
		}
		for _, p := range phones {
			t := engine.DescribeMux(engine.Usbmux{Address: "unix:///var/run/usbmuxd", State: s}, env, p)
			on := "either"
			if s == engine.MuxNotRunning {
				on = yesNo(p)
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", code(string(s)), on, cell(say.MuxLine(say.English, t)), anchorCell(t.Anchor), yesNo(t.Problem))
		}
	}
	return b.String()
}

func anchorCell(a string) string {
	if a == "" {
		return "—"
	}
	return code(a)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func anchorTable() string {
	var b strings.Builder
	b.WriteString("| anchor | section |\n|---|---|\n")
	for _, a := range guide.Anchors() {
		fmt.Fprintf(&b, "| %s | %s |\n", code(a), cell(guide.TitleIn("en", a)))
	}
	return b.String()
}

// globalTable lists the flags every verb takes and the environment.
func globalTable() string {
	var b strings.Builder
	b.WriteString("| flag or variable | meaning |\n|---|---|\n")
	for _, f := range GlobalFlags {
		fmt.Fprintf(&b, "| %s | %s |\n", code(FlagSpelling(f)), cell(FlagHelp(en, f)))
	}
	for _, e := range Environment {
		fmt.Fprintf(&b, "| %s | %s |\n", code(e.Name), cell(e.Meaning(en)))
	}
	return b.String()
}

// Documents are the files with generated regions, relative to the
// repository root.
var Documents = []string{"README.md", "docs/cli.md"}
