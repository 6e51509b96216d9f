package main

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/trustwatch/trustwatch/internal/cliref"
)

// updateGolden rewrites testdata/cli/*.golden from the binary's output.
var updateGolden = os.Getenv("TRUSTWATCH_UPDATE_GOLDEN") == "1"

// golden compares got with testdata/cli/name.golden.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "cli", name+".golden")
	if updateGolden {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (TRUSTWATCH_UPDATE_GOLDEN=1 go test -run %s . writes it)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("%s differs from %s (TRUSTWATCH_UPDATE_GOLDEN=1 to accept):\n--- got\n%s\n--- want\n%s", name, path, got, want)
	}
}

// Every --help: the usage once, on stdout, exit 0, nothing on stderr; the
// text is the golden file's.
func TestHelpGolden(t *testing.T) {
	cases := map[string][]string{"trustwatch": {"--help"}, "trustwatch-h": {"-h"}, "help": {"help"}}
	for _, v := range cliref.Verbs {
		if v.Name != "" {
			cases[v.Name] = []string{v.Name, "--help"}
			cases["help-"+v.Name] = []string{"help", v.Name}
		}
	}
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			r := tw(t, "/nonexistent", args...)
			if r.code != 0 || r.stderr != "" || r.stdout == "" {
				t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
			}
			if n := strings.Count(r.stdout, "Usage:") + strings.Count(r.stdout, "usage:"); n != 1 {
				t.Errorf("the usage appears %d times", n)
			}
			if strings.Contains(r.stdout, "\n  -json") || strings.Contains(r.stdout, " -timeout") {
				t.Errorf("a flag is spelled with one dash:\n%s", r.stdout)
			}
			g := strings.TrimPrefix(name, "help-")
			if strings.HasPrefix(name, "help-") {
				// `help VERB` is `VERB --help`
				if want := tw(t, "/nonexistent", g, "--help").stdout; r.stdout != want {
					t.Errorf("help %s differs from %s --help", g, g)
				}
				return
			}
			if name == "trustwatch-h" || name == "help" {
				if want := tw(t, "/nonexistent", "--help").stdout; r.stdout != want {
					t.Errorf("%v differs from --help", args)
				}
				return
			}
			golden(t, "help-"+g, r.stdout)
		})
	}
}

// Every flag of the table appears, spelled --name, in its verb's --help,
// and in the top-level usage's synopsis.
func TestEveryFlagInHelp(t *testing.T) {
	top := tw(t, "/nonexistent", "--help").stdout
	for _, v := range cliref.Verbs {
		args := []string{"--help"}
		if v.Name != "" {
			args = []string{v.Name, "--help"}
		} else {
			args = []string{"--allow-root", "--help"}
		}
		out := tw(t, "/nonexistent", args...).stdout
		for _, f := range v.Flags {
			if !strings.Contains(out, "--"+f.Name) {
				t.Errorf("%s --help does not mention --%s", v.Command(), f.Name)
			}
		}
		if !strings.Contains(top, v.Line()) {
			t.Errorf("trustwatch --help lacks %q", v.Line())
		}
	}
	for _, want := range []string{"watch [--json] [--no-pair]", "demo [--allow-root] [--speed N]"} {
		if !strings.Contains(top, want) {
			t.Errorf("trustwatch --help lacks %q", want)
		}
	}
}

// Usage errors: one line on stderr naming the problem and where help is,
// nothing on stdout, exit 2. The lines are the golden file's.
func TestUsageErrorsGolden(t *testing.T) {
	cases := [][]string{
		{"--bogus"},
		{"bogus"},
		{"statsu"},
		{"status", "--bogus"},
		{"status", "--timeout", "banana"},
		{"status", "--timeout", "0"},
		{"status", "--timeout"},
		{"status", "--json=yes"},
		{"status", "extra"},
		{"watch", "extra"},
		{"fix", "a", "b"},
		{"fix", "--timeout", "-1s"},
		{"forget", "--yes=no"},
		{"report", "--redact", "x"},
		{"demo", "--speed", "fast"},
		{"demo", "--speed", "0"},
		{"version", "--json"},
		{"help", "bogus"},
		{"guide", "--bogus"},
		{"guide", "nowhere"},
		{"guide", "step-1", "step-2"},
		{"service"},
		{"service", "bogus"},
		{"service", "--bogus"},
		{"service", "install", "--json"},
		{"service", "status", "extra"},
	}
	var all strings.Builder
	for _, args := range cases {
		r := tw(t, "/nonexistent", args...)
		if r.code != 2 || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "trustwatch") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, r.code, r.stdout, r.stderr)
		}
		if strings.Contains(r.stderr, "trustwatch : ") || strings.Contains(r.stderr, "Usage") || strings.Contains(r.stderr, "parse error") {
			t.Errorf("%v: %q", args, r.stderr)
		}
		all.WriteString("$ trustwatch " + strings.Join(args, " ") + "\n" + r.stderr)
	}
	golden(t, "usage-errors", all.String())
}

// guide and service read their arguments like every verb: flags before or
// after the rest, one or two dashes; the guide takes "#ANCHOR" as copied
// from a URL; service takes --allow-root before its verb.
func TestGuideAndServiceArguments(t *testing.T) {
	want := tw(t, "/nonexistent", "guide", "step-3", "--print")
	if want.code != 0 || !strings.HasPrefix(want.stdout, "Step 3: Tap Trust") {
		t.Fatalf("guide step-3 --print: exit %d, %q", want.code, want.stdout)
	}
	for _, args := range [][]string{{"guide", "--print", "step-3"}, {"guide", "-print", "#step-3"}, {"guide", "--print", "--", "step-3"}} {
		if r := tw(t, "/nonexistent", args...); r.code != want.code || r.stdout != want.stdout || r.stderr != "" {
			t.Errorf("%v: exit %d, stdout %.40q, stderr %q", args, r.code, r.stdout, r.stderr)
		}
	}
	// After "--" a flag is an argument: here one too many.
	if r := tw(t, "/nonexistent", "guide", "--", "step-3", "--print"); r.code != exitUsage || !strings.Contains(r.stderr, `unexpected argument "--print"`) {
		t.Errorf("guide -- step-3 --print: exit %d, stderr %q", r.code, r.stderr)
	}
	plain := tw(t, "/nonexistent", "service", "status", "--json")
	if plain.code != 0 || !strings.HasPrefix(plain.stdout, `{"installed":`) {
		t.Fatalf("service status --json: exit %d, %q, %q", plain.code, plain.stdout, plain.stderr)
	}
	for _, args := range [][]string{{"service", "--json", "status"}, {"service", "--allow-root", "status", "--json"}, {"service", "status", "-json"}} {
		if r := tw(t, "/nonexistent", args...); r.code != 0 || r.stdout != plain.stdout {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, r.code, r.stdout, r.stderr)
		}
	}
	if r, h := tw(t, "/nonexistent", "service", "help"), tw(t, "/nonexistent", "service", "--help"); r.code != 0 || r.stdout != h.stdout {
		t.Errorf("service help: exit %d, differs from service --help", r.code)
	}
}

// As root, the tray and the demo refuse once, in one sentence that says
// why, without starting anything.
func TestRootIsRefusedOnce(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("not root: the refusal cannot be seen")
	}
	for _, args := range [][]string{nil, {"demo"}} {
		r := tw(t, "/nonexistent", args...)
		if r.code != 1 || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 {
			t.Fatalf("%v: exit %d stdout %q stderr %q", args, r.code, r.stdout, r.stderr)
		}
		if !strings.HasPrefix(r.stderr, "trustwatch will not run as root: ") || strings.Contains(r.stderr, "trustwatch: trustwatch") || !strings.Contains(r.stderr, "--allow-root") {
			t.Errorf("%v: %q", args, r.stderr)
		}
	}
}

// The verb table in README.md and everything generated in docs/cli.md
// match internal/cliref: `go generate` was run.
func TestDocsUpToDate(t *testing.T) {
	for _, path := range cliref.Documents {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		want, err := cliref.Apply(string(b))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if want != string(b) {
			t.Errorf("%s is stale: run go generate at the repository root", path)
		}
		if !strings.Contains(string(b), "<!-- generated: verbs -->") {
			t.Errorf("%s has no generated verb table", path)
		}
	}
}

var mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// README and docs/cli.md link only to files in the repository.
func TestDocsLinkInsideTheRepository(t *testing.T) {
	for _, path := range []string{"README.md", "docs/cli.md"} {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "shared/contract") {
			t.Errorf("%s refers to a file outside the repository", path)
		}
		for _, m := range mdLink.FindAllStringSubmatch(string(b), -1) {
			target, _, _ := strings.Cut(m[1], "#")
			if strings.Contains(target, "://") {
				t.Errorf("%s links outside the repository: %s", path, m[1])
				continue
			}
			if target == "" {
				continue
			}
			full := filepath.Join(filepath.Dir(path), target)
			abs, _ := filepath.Abs(full)
			root, _ := filepath.Abs(".")
			if !strings.HasPrefix(abs, root+string(filepath.Separator)) {
				t.Errorf("%s links outside the repository: %s", path, m[1])
			} else if _, err := os.Stat(full); err != nil {
				t.Errorf("%s links to a missing file: %s", path, m[1])
			}
		}
	}
}

// `go generate` is wired to the docs generator.
func TestGoGenerateDirective(t *testing.T) {
	b, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "//go:generate go run ./internal/cliref/cmd/gendocs") {
		t.Fatal("main.go lost its go:generate line")
	}
	if testing.Short() {
		return
	}
	// The generator leaves up-to-date documents alone.
	cmd := exec.Command("go", "run", "./internal/cliref/cmd/gendocs")
	out, err := cmd.CombinedOutput()
	if err != nil || len(out) != 0 {
		t.Fatalf("gendocs: %v %s", err, out)
	}
}

var _ = flag.Parse
