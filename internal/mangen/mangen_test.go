package main

import (
	"github.com/trustwatch/trustwatch/internal/cliref"

	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		`.starts with a dot`:            `\&.starts with a dot`,
		`'starts with a quote`:          `\&'starts with a quote`,
		`a \ backslash`:                 `a \e backslash`,
		`use --no-pair or -h, [--json]`: `use \-\-no\-pair or \-h, [\-\-json]`,
		`well-known, step-3, 1.2-rc.1`:  `well-known, step-3, 1.2-rc.1`,
		`iPhone’s — “Trust”`:            `iPhone\[u2019]s \[u2014] \[u201C]Trust\[u201D]`,
		"Exit codes: 0 done, 1 failed.": "Exit codes: 0 done, 1 failed.",
	} {
		if got := esc(in); got != want {
			t.Errorf("esc(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestPageSaysWhatTheHelpSays builds the real binary and checks that every
// verb its --help lists, and every flag each VERB --help lists, is in the
// page; that a snapshot's long version stays out of the footer; and that
// man renders the page without a warning.
func TestPageSaysWhatTheHelpSays(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "trustwatch")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/trustwatch/trustwatch").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	var page bytes.Buffer
	render(&page, "0.0.1-snapshot.20261130221951.ea237ac", "2025-06-01")
	src := page.String()

	top := help(t, bin)
	verbs := regexp.MustCompile(`(?m)^  trustwatch ([a-z]+)`).FindAllStringSubmatch(top, -1)
	if len(verbs) < 6 {
		t.Fatalf("only %d verbs in --help:\n%s", len(verbs), top)
	}
	flagRE := regexp.MustCompile(`(?m)^\s+(?:-h, )?--([a-z][a-z-]*)`)
	for _, m := range verbs {
		v := m[1]
		if !strings.Contains(src, `.SS "trustwatch `+v+`"`) {
			t.Errorf("no section for %q", v)
			continue
		}
		section := src[strings.Index(src, `.SS "trustwatch `+v+`"`):]
		if i := strings.Index(section[1:], ".SS "); i >= 0 {
			section = section[:i+1]
		}
		for _, f := range flagRE.FindAllStringSubmatch(help(t, bin, v), -1) {
			if f[1] == "help" || isGlobal(f[1]) {
				continue // global flags have their own section
			}
			if !strings.Contains(section, `.B "\-\-`+strings.ReplaceAll(f[1], "-", `\-`)) {
				t.Errorf("%s: --%s is in its --help but not in its section", v, f[1])
			}
		}
	}
	if !strings.Contains(src, `.TH TRUSTWATCH 1 "2025-06-01" "trustwatch 0.0.1"`) ||
		!strings.Contains(src, "describes trustwatch 0.0.1-snapshot.20261130221951.ea237ac;") {
		t.Error("version: the footer should have 0.0.1, VERSION the whole snapshot version")
	}
	for _, want := range []string{`.B "trust-revoked"`, `.B "step-6"`, `.B USBMUXD_SOCKET_ADDRESS`, `.B TRUSTWATCH_LANG`, `.SH GLOBAL OPTIONS`, `.B "\-\-lang LANG"`, "3 usbmuxd could not be reached"} {
		if !strings.Contains(src, want) {
			t.Errorf("page lacks %s", want)
		}
	}

	man, err := exec.LookPath("man")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("man not found (apt-get install man-db); CI=true makes this a failure")
		}
		t.Skip("SKIPPED: man not found (apt-get install man-db)")
	}
	file := filepath.Join(dir, "trustwatch.1")
	if err := os.WriteFile(file, page.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(man, "--warnings", "-E", "UTF-8", "-l", "-Tutf8", file)
	cmd.Env = append(os.Environ(), "MANWIDTH=80")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Fatalf("man: %v\n%s", err, stderr.String())
	}
	text := regexp.MustCompile(".\b").ReplaceAllString(stdout.String(), "")
	for _, want := range []string{"NAME", "SYNOPSIS", "COMMANDS", "STATES", "GUIDE", "EXIT STATUS", "trustwatch fix"} {
		if !strings.Contains(text, want) {
			t.Errorf("rendered page lacks %q", want)
		}
	}
}

// help runs `bin [verb] --help` in English with a private HOME.
func help(t *testing.T, bin string, verb ...string) string {
	t.Helper()
	cmd := exec.Command(bin, append(verb, "--help")...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "LANG=C", "LC_ALL=C"}
	out, err := cmd.Output()
	if err != nil || len(out) == 0 {
		t.Fatalf("%v --help: %v", verb, err)
	}
	return string(out)
}

func isGlobal(name string) bool {
	for _, f := range cliref.GlobalFlags {
		if f.Name == name {
			return true
		}
	}
	return false
}
