package cliref

import (
	"fmt"
	"io"
	"strings"
)

// width is where help text wraps: readable in an 80-column terminal.
const width = 78

// Tagline is the one-line description of trustwatch.
const Tagline = "trustwatch — why your iPhone does not show up on this computer, and what to do."

// Usage writes `trustwatch --help`.
func Usage(w io.Writer) {
	var b strings.Builder
	b.WriteString(Tagline + "\n\nUsage:\n")
	for _, v := range Verbs {
		fmt.Fprintf(&b, "  %s\n", v.Line())
		b.WriteString(wrap(v.Summary, "      ", width))
	}
	b.WriteString("\nExit codes: 0 done, 1 failed, 2 usage error, 3 usbmuxd could not be reached;\n")
	b.WriteString("fix and forget add 4 no such iPhone, 5 \"Don't Trust\" tapped, 6 locked,\n")
	b.WriteString("7 timed out, 130 interrupted. Each verb's --help lists its own.\n")
	b.WriteString("\nGlobal flags (before or after the verb):\n")
	for _, f := range GlobalFlags {
		b.WriteString(wrapHanging(fmt.Sprintf("  %-24s", FlagSpelling(f)), FlagHelp(f), width))
	}
	b.WriteString("\nEnvironment:\n")
	for _, e := range Environment {
		b.WriteString(wrapHanging(fmt.Sprintf("  %-24s", e.Name), e.Meaning, width))
	}
	b.WriteString("\nRun 'trustwatch VERB --help' (or 'trustwatch help VERB') for a verb's flags.\n")
	_, _ = io.WriteString(w, b.String())
}

// Help writes `trustwatch VERB --help`.
func Help(w io.Writer, v Verb) {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: %s\n\n", v.Line())
	b.WriteString(wrap(v.About, "", width))
	b.WriteString("\nFlags:\n")
	rows := make([][2]string, 0, len(v.Flags)+1)
	for _, f := range v.Flags {
		rows = append(rows, [2]string{FlagSpelling(f), FlagHelp(f)})
	}
	for _, f := range GlobalFlags {
		rows = append(rows, [2]string{FlagSpelling(f), FlagHelp(f)})
	}
	rows = append(rows, [2]string{"-h, --help", "show this help"})
	col := 0
	for _, r := range rows {
		col = max(col, len(r[0]))
	}
	for _, r := range rows {
		pad := strings.Repeat(" ", col-len(r[0])+3)
		b.WriteString(wrapHanging("  "+r[0]+pad, r[1], width))
	}
	if len(v.Exits) > 0 {
		b.WriteString("\nExit codes:\n")
		for _, e := range v.Exits {
			b.WriteString(wrapHanging(fmt.Sprintf("  %-5d", e.Code), e.Meaning, width))
		}
	}
	if len(v.Examples) > 0 {
		b.WriteString("\nExamples:\n")
		for _, ex := range v.Examples {
			fmt.Fprintf(&b, "  %s\n", ex)
		}
	}
	_, _ = io.WriteString(w, b.String())
}

// FlagSpelling is "--timeout DUR" or "--json".
func FlagSpelling(f Flag) string {
	if f.Arg == "" {
		return "--" + f.Name
	}
	return "--" + f.Name + " " + f.Arg
}

// FlagHelp is the flag's help with its default.
func FlagHelp(f Flag) string {
	if f.Default == "" {
		return f.Help
	}
	return f.Help + " (default " + f.Default + ")"
}

// wrap breaks text into lines of at most w columns, each starting with indent.
func wrap(text, indent string, w int) string {
	return wrapHanging(indent, text, w)
}

// wrapHanging writes first followed by text, wrapped; continuation lines
// are indented to where text started.
func wrapHanging(first, text string, w int) string {
	var b strings.Builder
	hang := strings.Repeat(" ", len([]rune(first)))
	line := first
	empty := true
	for _, word := range strings.Fields(text) {
		if !empty && len([]rune(line))+1+len([]rune(word)) > w {
			b.WriteString(strings.TrimRight(line, " ") + "\n")
			line, empty = hang, true
		}
		if !empty {
			line += " "
		}
		line += word
		empty = false
	}
	b.WriteString(strings.TrimRight(line, " ") + "\n")
	return b.String()
}
