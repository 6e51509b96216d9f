package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestParseHelp(t *testing.T) {
	got := parseHelp(`Usage: trustwatch status [--json] [--timeout DUR]
  -json
    	print one JSON object
  -timeout duration
    	give up after this long (default 10s)
  -x	one-letter flag
Usage: trustwatch status [--json] [--timeout DUR]
  -json
    	printed twice by some verbs: ignored
`)
	want := []block{
		{kind: usage, text: "trustwatch status [--json] [--timeout DUR]"},
		{kind: item, term: "--json", text: "print one JSON object"},
		{kind: item, term: "--timeout duration", text: "give up after this long (default 10s)"},
		{kind: item, term: "-x", text: "one-letter flag"},
	}
	if !equal(got, want) {
		t.Errorf("Go flag help:\n got %+v\nwant %+v", got, want)
	}

	got = parseHelp(`trustwatch — why your iPhone does not show up.

Usage:
  trustwatch [--allow-root]                    the tray app
  trustwatch status   [--json] [--no-pair]     diagnose every device once
  trustwatch version                           version and build

Manage the login item: the tray starts when
you log in.
Run it again to check.

Flags:
  --allow-root   do it even as root (normally refused: the login item belongs to
                 your desktop user)
  -h, --help     show this help

Examples:
  trustwatch guide issue-cable --print
`)
	want = []block{
		{kind: para, text: "trustwatch — why your iPhone does not show up."},
		{kind: heading, text: "Usage"},
		{kind: item, term: "trustwatch [--allow-root]", text: "the tray app"},
		{kind: item, term: "trustwatch status [--json] [--no-pair]", text: "diagnose every device once"},
		{kind: item, term: "trustwatch version", text: "version and build"},
		{kind: para, text: "Manage the login item: the tray starts when you log in."},
		{kind: para, text: "Run it again to check."},
		{kind: heading, text: "Flags"},
		{kind: item, term: "--allow-root", text: "do it even as root (normally refused: the login item belongs to your desktop user)"},
		{kind: item, term: "-h, --help", text: "show this help"},
		{kind: heading, text: "Examples"},
		{kind: example, text: "trustwatch guide issue-cable --print"},
	}
	if !equal(got, want) {
		t.Errorf("hand-written help:\n got %+v\nwant %+v", got, want)
	}
	if v := listedVerbs("Usage:\n  trustwatch [--allow-root]  tray\n  trustwatch status [--json]  s\n  trustwatch guide  g\nnot trustwatch x\n"); strings.Join(v, ",") != "status,guide" {
		t.Errorf("listedVerbs = %v", v)
	}
}

func equal(a, b []block) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		`.starts with a dot`:            `\&.starts with a dot`,
		`'starts with a quote`:          `\&'starts with a quote`,
		`a \ backslash`:                 `a \e backslash`,
		`use --no-pair or -h, [--json]`: `use \-\-no\-pair or \-h, [\-\-json]`,
		`well-known, step-3`:            `well-known, step-3`,
		`iPhone’s — “Trust”`:            `iPhone\[u2019]s \[u2014] \[u201C]Trust\[u201D]`,
	} {
		if got := esc(in); got != want {
			t.Errorf("esc(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestPageCoversTheCLI builds the real binary, generates the page from its
// help and checks that every verb, every flag and every description the
// help prints is in it, and that man renders it without a warning.
func TestPageCoversTheCLI(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "trustwatch")
	build := exec.Command("go", "build", "-o", bin, "github.com/trustwatch/trustwatch")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	page, err := Generate(bin, "9.8.7", "2025-06-01")
	if err != nil {
		t.Fatal(err)
	}
	src := string(page)
	top, err := help(bin)
	if err != nil {
		t.Fatal(err)
	}
	verbs := listedVerbs(top)
	if len(verbs) < 5 {
		t.Fatalf("only %d verbs read from --help: %v", len(verbs), verbs)
	}
	for _, v := range verbs {
		if !strings.Contains(src, `.SS "trustwatch `+v+`"`) {
			t.Errorf("no section for %q", v)
		}
		h, err := help(bin, v)
		if err != nil {
			t.Fatal(err)
		}
		for _, bl := range parseHelp(h) {
			if bl.kind == item && !strings.Contains(src, esc(bl.text)) {
				t.Errorf("%s: %q (%s) missing from the page", v, bl.text, bl.term)
			}
			if bl.kind == item && !strings.Contains(src, quoted(bl.term)) {
				t.Errorf("%s: flag or entry %q missing from the page", v, bl.term)
			}
		}
		// every flag the help mentions, in any layout
		for _, f := range regexp.MustCompile(`(?m)^\s+(--?[a-z][a-z-]*)`).FindAllStringSubmatch(h, -1) {
			name := strings.TrimLeft(f[1], "-")
			if !strings.Contains(src, `\-`+strings.ReplaceAll(name, "-", `\-`)) {
				t.Errorf("%s: flag %s missing from the page", v, f[1])
			}
		}
	}
	if !strings.Contains(src, `"trustwatch 9.8.7"`) || !strings.Contains(src, `"2025-06-01"`) {
		t.Error("version or date missing from .TH")
	}
	// A snapshot's long version stays out of the footer, where it would
	// overprint the date, and is given in full under VERSION.
	long, err := Generate(bin, "0.0.1-snapshot.20261130221951.ea237ac", "2025-06-01")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(long), `.TH TRUSTWATCH 1 "2025-06-01" "trustwatch 0.0.1"`) ||
		!strings.Contains(string(long), "trustwatch 0.0.1-snapshot.20261130221951.ea237ac;") {
		t.Errorf("long version: %s", long[:300])
	}

	man, err := exec.LookPath("man")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("man not found (apt-get install man-db); CI=true makes this a failure")
		}
		t.Skip("SKIPPED: man not found (apt-get install man-db)")
	}
	file := filepath.Join(dir, "trustwatch.1")
	if err := os.WriteFile(file, page, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(man, "--warnings", "-E", "UTF-8", "-l", "-Tutf8", file)
	cmd.Env = append(os.Environ(), "MANWIDTH=80", "MAN_KEEP_FORMATTING=0")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Fatalf("man: %v\n%s", err, stderr.String())
	}
	text := stripOverstrike(stdout.String())
	for _, want := range append([]string{"NAME", "SYNOPSIS", "COMMANDS", "EXIT STATUS", "USBMUXD_SOCKET_ADDRESS"}, verbs...) {
		if !strings.Contains(text, want) {
			t.Errorf("rendered page lacks %q", want)
		}
	}
}

// stripOverstrike removes the backspace bold/underline of nroff output.
func stripOverstrike(s string) string {
	return regexp.MustCompile(".\b").ReplaceAllString(s, "")
}
