package main

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A help text is read as a few kinds of block; anything not recognised is
// kept as a paragraph, so a new help layout degrades to plain text rather
// than getting lost.
type blockKind int

const (
	para    blockKind = iota // running text
	usage                    // "Usage: trustwatch status [--json]"
	heading                  // "Flags:" alone on its line
	item                     // "  term    description" (a definition list entry)
	example                  // an indented line with no description: kept verbatim
)

type block struct {
	kind       blockKind
	term, text string
}

var (
	// Go's flag.PrintDefaults: "  -name type" then "    \tusage", or
	// "  -x\tusage" for one-letter names.
	goFlag       = regexp.MustCompile(`^  (-[A-Za-z0-9][A-Za-z0-9-]*)(?: ([a-z]+))?(?:\t(.*))?$`)
	goFlagUsage  = regexp.MustCompile(`^    \t(.*)$`)
	definition   = regexp.MustCompile(`^( +)(\S.*?)  +(\S.*)$`)
	headingLine  = regexp.MustCompile(`^[A-Z][A-Za-z ]*:$`)
	optionLike   = regexp.MustCompile(`(^|[\s\[(|,])(-{1,2}[A-Za-z][A-Za-z0-9-]*)`)
	usagePrefix  = "Usage:"
	trayVerbName = "" // the tray's own usage line names no verb
)

// parseHelp splits a help text into blocks. A repeated "Usage:" line ends
// the text (some verbs print their usage twice).
func parseHelp(text string) []block {
	var out []block
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	last := func() *block {
		if len(out) == 0 {
			return nil
		}
		return &out[len(out)-1]
	}
	inPara := false // the previous line was running text
	indent := 0     // indentation of the current item's description
	seenUsage := ""
	for i := 0; i < len(lines); i++ {
		line := strings.TrimRight(lines[i], " \t")
		switch {
		case line == "":
			inPara, indent = false, 0
		case strings.HasPrefix(line, usagePrefix) && strings.TrimSpace(line[len(usagePrefix):]) != "":
			if seenUsage == line {
				return out
			}
			seenUsage = line
			out = append(out, block{kind: usage, text: strings.TrimSpace(line[len(usagePrefix):])})
			inPara, indent = false, 0
		case headingLine.MatchString(line):
			out = append(out, block{kind: heading, text: strings.TrimSuffix(line, ":")})
			inPara, indent = false, 0
		case goFlag.MatchString(line):
			m := goFlag.FindStringSubmatch(line)
			term := "-" + m[1] // Go accepts -name and --name; people type --name
			if len(m[1]) == 2 {
				term = m[1]
			}
			if m[2] != "" {
				term += " " + m[2]
			}
			desc := m[3]
			for i+1 < len(lines) && goFlagUsage.MatchString(lines[i+1]) {
				i++
				desc = strings.TrimSpace(desc + " " + goFlagUsage.FindStringSubmatch(lines[i])[1])
			}
			out = append(out, block{kind: item, term: term, text: desc})
			inPara, indent = false, 0
		case indent > 0 && leading(line) >= indent && last() != nil && last().kind == item:
			// a wrapped description
			last().text += " " + strings.TrimSpace(line)
		case definition.MatchString(line) && leading(line) > 0:
			m := definition.FindStringSubmatchIndex(line)
			term, desc := line[m[4]:m[5]], line[m[6]:m[7]]
			// "trustwatch status   [--json] [--timeout DUR]   diagnose ...":
			// the last gap separates the description, the rest is the term.
			if idx := lastGap(desc); idx >= 0 {
				term += " " + strings.TrimSpace(desc[:idx])
				desc = strings.TrimSpace(desc[idx:])
			}
			out = append(out, block{kind: item, term: strings.Join(strings.Fields(term), " "), text: desc})
			indent = m[6]
			inPara = false
		case leading(line) > 0 && !inPara:
			out = append(out, block{kind: example, text: strings.TrimSpace(line)})
			indent = 0
		default:
			// A line that ends a sentence, followed by one that starts a new
			// one, is read as two paragraphs: help texts rarely wrap there.
			if inPara && last() != nil && strings.HasSuffix(last().text, ".") && startsSentence(line) {
				inPara = false
			}
			if inPara && last() != nil {
				last().text += " " + strings.TrimSpace(line)
			} else {
				out = append(out, block{kind: para, text: strings.TrimSpace(line)})
			}
			inPara, indent = true, 0
		}
	}
	return out
}

func startsSentence(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsUpper(r)
}

func leading(s string) int { return len(s) - len(strings.TrimLeft(s, " ")) }

// lastGap is the index of the last run of two or more spaces in s, or -1.
func lastGap(s string) int {
	idx := strings.LastIndex(s, "  ")
	if idx < 0 {
		return -1
	}
	for idx > 0 && s[idx-1] == ' ' {
		idx--
	}
	return idx
}

// esc makes text safe for roff: backslashes, control characters at the
// start of a line, option dashes (\- so they copy as ASCII hyphen-minus),
// and every non-ASCII character as a named glyph (\[uXXXX]).
func esc(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = optionLike.ReplaceAllStringFunc(s, func(m string) string {
		i := strings.IndexByte(m, '-')
		return m[:i] + strings.ReplaceAll(m[i:], "-", `\-`)
	})
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == utf8.RuneError:
			b.WriteString(`\[uFFFD]`)
		case r >= 0x80:
			fmt.Fprintf(&b, `\[u%04X]`, r)
		default:
			b.WriteRune(r)
		}
	}
	out := b.String()
	if strings.HasPrefix(out, ".") || strings.HasPrefix(out, "'") {
		out = `\&` + out
	}
	return out
}

// quoted is esc for a macro argument.
func quoted(s string) string { return `"` + strings.ReplaceAll(esc(s), `"`, `\(dq`) + `"` }

type page struct {
	version, date string
	top           string
	verbHelp      map[string]string
}

func render(b *bytes.Buffer, p page) {
	top := parseHelp(p.top)
	title, rest := splitTitle(top)

	fmt.Fprintf(b, ".\\\" Generated by internal/mangen from `trustwatch --help`; do not edit.\n")
	// The footer has room for a short version only: a snapshot's long one
	// would run into the date, so it is given in full under VERSION.
	footer := p.version
	if i := strings.IndexAny(footer, "-+"); i > 0 && len(footer) > 20 {
		footer = footer[:i]
	}
	fmt.Fprintf(b, ".TH TRUSTWATCH 1 %s %s \"User Commands\"\n", quoted(p.date), quoted("trustwatch "+footer))
	b.WriteString(".SH NAME\n")
	b.WriteString("trustwatch \\- " + esc(title) + "\n")

	var commands, environment, other []block
	for _, bl := range rest {
		switch {
		case bl.kind == item && strings.HasPrefix(bl.term, "trustwatch"):
			commands = append(commands, bl)
		case bl.kind == para && strings.HasPrefix(bl.text, "Environment:"):
			environment = append(environment, block{kind: para, text: strings.TrimSpace(strings.TrimPrefix(bl.text, "Environment:"))})
		case bl.kind == heading && bl.text == "Usage", bl.kind == usage:
		default:
			other = append(other, bl)
		}
	}

	// A verb's own usage line is the more precise synopsis.
	synopsis := func(c block) (name, args string) {
		name, args = splitCommand(c.term)
		if v := verbOf(name); v != trayVerbName {
			for _, bl := range parseHelp(p.verbHelp[v]) {
				if bl.kind == usage {
					if n, a := splitCommand(bl.text); n == name {
						return name, a
					}
				}
			}
		}
		return name, args
	}

	b.WriteString(".SH SYNOPSIS\n")
	for i, c := range commands {
		if i > 0 {
			b.WriteString(".br\n")
		}
		name, args := synopsis(c)
		fmt.Fprintf(b, ".B %s\n", esc(name))
		if args != "" {
			b.WriteString(esc(args) + "\n")
		}
	}

	b.WriteString(".SH DESCRIPTION\n")
	b.WriteString(".B trustwatch\n\\(em " + esc(title) + ".\n.PP\n")
	b.WriteString("Run without a command, it is a tray utility: it watches the iPhones plugged into this " +
		"computer, says in a desktop notification why one cannot sync and what to do about it, and offers " +
		"Fix trust and the built-in guide from its menu. The commands below do the same from a terminal.\n")
	writeBlocks(b, other)

	b.WriteString(".SH COMMANDS\n")
	for _, c := range commands {
		name, args := synopsis(c)
		fmt.Fprintf(b, ".SS %s\n", quoted(name))
		if args != "" {
			fmt.Fprintf(b, ".B %s\n%s\n.PP\n", esc(name), esc(args))
		}
		b.WriteString(esc(capitalise(c.text)) + ".\n")
		verb := verbOf(name)
		if verb == trayVerbName {
			continue
		}
		var body []block
		for _, bl := range parseHelp(p.verbHelp[verb]) {
			if bl.kind != usage { // the synopsis is above
				body = append(body, bl)
			}
		}
		writeBlocks(b, body)
	}

	if len(environment) > 0 {
		b.WriteString(".SH ENVIRONMENT\n")
		writeBlocks(b, environment)
	}
	b.WriteString(".SH EXIT STATUS\n")
	b.WriteString("0 when the command did its job, 1 when it failed, 2 for a usage error " +
		"(an unknown command or flag); " + esc("`trustwatch status`") + " exits 3 when usbmuxd cannot be reached.\n")
	b.WriteString(".SH VERSION\n")
	b.WriteString("This page describes trustwatch " + esc(p.version) + "; " + esc("`trustwatch version`") +
		" tells which one is installed.\n")
	b.WriteString(".SH SEE ALSO\n")
	b.WriteString(esc("trustwatch guide --print") + " prints the whole built-in guide.\n.PP\n")
	b.WriteString(".BR usbmuxd (8),\n.BR idevicepair (1)\n")
}

// splitTitle takes the first paragraph ("trustwatch — why …") as the
// page's one-line description.
func splitTitle(bs []block) (string, []block) {
	if len(bs) == 0 || bs[0].kind != para {
		return "watches iPhone connections", bs
	}
	t := bs[0].text
	for _, sep := range []string{" — ", " - ", ": "} {
		if i := strings.Index(t, sep); i >= 0 && strings.HasPrefix(t, "trustwatch") {
			t = t[i+len(sep):]
			break
		}
	}
	return strings.TrimSuffix(t, "."), bs[1:]
}

// splitCommand: "trustwatch status [--json]" → "trustwatch status", "[--json]".
func splitCommand(term string) (string, string) {
	f := strings.Fields(term)
	n := 1
	if len(f) > 1 && !strings.HasPrefix(f[1], "-") && !strings.HasPrefix(f[1], "[") {
		n = 2
	}
	return strings.Join(f[:n], " "), strings.Join(f[n:], " ")
}

func verbOf(name string) string {
	f := strings.Fields(name)
	if len(f) < 2 {
		return trayVerbName
	}
	return f[1]
}

func capitalise(s string) string {
	s = strings.TrimSuffix(strings.TrimSpace(s), ".")
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func writeBlocks(b *bytes.Buffer, bs []block) {
	inExample := false
	for _, bl := range bs {
		if bl.kind != example && inExample {
			b.WriteString(".fi\n.RE\n")
			inExample = false
		}
		switch bl.kind {
		case para:
			b.WriteString(".PP\n" + esc(bl.text) + "\n")
		case usage:
			b.WriteString(".PP\n.B " + esc(bl.text) + "\n")
		case heading:
			b.WriteString(".PP\n.I " + quoted(bl.text) + "\n")
		case item:
			b.WriteString(".TP\n.B " + quoted(bl.term) + "\n" + esc(bl.text) + "\n")
		case example:
			if !inExample {
				b.WriteString(".PP\n.RS\n.nf\n")
				inExample = true
			}
			b.WriteString(esc(bl.text) + "\n")
		}
	}
	if inExample {
		b.WriteString(".fi\n.RE\n")
	}
}
