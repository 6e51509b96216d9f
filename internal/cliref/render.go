package cliref

import (
	"fmt"
	"io"
	"strings"

	"github.com/trustwatch/trustwatch/guide"
	"github.com/trustwatch/trustwatch/internal/catalog"
)

// width is where help text wraps: readable in an 80-column terminal.
const width = 78

// Tagline is the one-line description of trustwatch.
func Tagline(w catalog.Words) string { return w.T("cli.tagline", nil) }

// Usage writes `trustwatch --help` in the user's language.
func Usage(out io.Writer) { UsageIn(out, catalog.Current()) }

// UsageIn writes `trustwatch --help` in w's language.
func UsageIn(out io.Writer, w catalog.Words) {
	var b strings.Builder
	b.WriteString(Tagline(w) + "\n\n" + w.T("cli.help.usage", nil) + "\n")
	for _, v := range Verbs {
		fmt.Fprintf(&b, "  %s\n", v.Line())
		b.WriteString(wrap(v.Summary(w), "      ", width))
	}
	b.WriteString("\n" + strings.TrimRight(w.T("cli.help.exit_summary", nil), "\n") + "\n")
	b.WriteString("\n" + w.T("cli.help.global_heading", nil) + "\n")
	for _, f := range GlobalFlags {
		b.WriteString(wrapHanging(fmt.Sprintf("  %-24s", FlagSpelling(f)), FlagHelp(w, f), width))
	}
	b.WriteString("\n" + w.T("cli.help.environment_heading", nil) + "\n")
	for _, e := range Environment {
		b.WriteString(wrapHanging(fmt.Sprintf("  %-24s", e.Name), e.Meaning(w), width))
	}
	b.WriteString("\n" + w.T("cli.help.more", nil) + "\n")
	_, _ = io.WriteString(out, b.String())
}

// Help writes `trustwatch VERB --help` in the user's language.
func Help(out io.Writer, v Verb) { helpIn(out, v, catalog.Current()) }

// helpIn writes `trustwatch VERB --help` in w's language.
func helpIn(out io.Writer, v Verb, w catalog.Words) {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n\n", w.T("cli.help.usage", nil), v.Line())
	b.WriteString(wrap(v.About(w), "", width))
	if len(v.Subcommands) > 0 {
		b.WriteString("\n" + w.T("cli.help.subcommands_heading", nil) + "\n")
		rows := make([][2]string, 0, len(v.Subcommands))
		for _, s := range v.Subcommands {
			rows = append(rows, [2]string{s, v.SubcommandHelp(w, s)})
		}
		table(&b, rows)
	}
	b.WriteString("\n" + w.T("cli.help.flags_heading", nil) + "\n")
	rows := make([][2]string, 0, len(v.Flags)+2)
	for _, f := range v.Flags {
		rows = append(rows, [2]string{FlagSpelling(f), FlagHelp(w, f)})
	}
	for _, f := range GlobalFlags {
		rows = append(rows, [2]string{FlagSpelling(f), FlagHelp(w, f)})
	}
	rows = append(rows, [2]string{"-h, --help", w.T("cli.help.help_flag", nil)})
	table(&b, rows)
	if v.ListsAnchors {
		b.WriteString("\n" + w.T("cli.help.anchors_heading", nil) + "\n")
		rows := make([][2]string, 0, len(guide.Anchors()))
		for _, a := range guide.Anchors() {
			rows = append(rows, [2]string{a, guide.TitleIn(w.Lang(), a)})
		}
		table(&b, rows)
	}
	if len(v.Exits) > 0 {
		b.WriteString("\n" + w.T("cli.help.exits_heading", nil) + "\n")
		for _, e := range v.Exits {
			b.WriteString(wrapHanging(fmt.Sprintf("  %-5d", e.Code), e.Meaning(w), width))
		}
	}
	if len(v.Examples) > 0 {
		b.WriteString("\n" + w.T("cli.help.examples_heading", nil) + "\n")
		for _, ex := range v.Examples {
			fmt.Fprintf(&b, "  %s\n", ex)
		}
	}
	_, _ = io.WriteString(out, b.String())
}

// table writes two columns, the second wrapped beside the first.
func table(b *strings.Builder, rows [][2]string) {
	col := 0
	for _, r := range rows {
		col = max(col, len([]rune(r[0])))
	}
	for _, r := range rows {
		pad := strings.Repeat(" ", col-len([]rune(r[0]))+3)
		b.WriteString(wrapHanging("  "+r[0]+pad, r[1], width))
	}
}

// FlagSpelling is "--timeout DUR" or "--json".
func FlagSpelling(f Flag) string {
	if f.Arg == "" {
		return "--" + f.Name
	}
	return "--" + f.Name + " " + f.Arg
}

// FlagHelp is the flag's help with its default, in w's language.
func FlagHelp(w catalog.Words, f Flag) string {
	if f.Default == "" {
		return f.Help(w)
	}
	return w.T("cli.help.with_default", map[string]any{"Help": f.Help(w), "Default": f.Default})
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
