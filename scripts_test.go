package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// scripts/test.sh --help and scripts/run.sh --help say what the script does
// and exit before anything is installed or built: every tool the scripts
// could call first is replaced by one that records being called.
func TestScriptsHelpInstallsNothing(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	bin := t.TempDir()
	calls := filepath.Join(t.TempDir(), "calls")
	for _, tool := range []string{"apt-get", "sudo", "dpkg-query", "go", "gofmt", "pkg-config"} {
		script := "#!/bin/sh\necho " + tool + " >> " + calls + "\nexit 1\n"
		if err := os.WriteFile(filepath.Join(bin, tool), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		script, arg, says string
		code              int
	}{
		{"scripts/test.sh", "--help", "usage: scripts/test.sh", 0},
		{"scripts/test.sh", "-h", "PKGS", 0},
		{"scripts/test.sh", "--bogus", "unknown argument: --bogus", 2},
		{"scripts/run.sh", "--help", "usage: scripts/run.sh", 0},
		{"scripts/run.sh", "-h", "usbmuxd", 0},
	}
	for _, c := range cases {
		cmd := exec.Command(bash, c.script, c.arg)
		// Our tools first; /usr/local/go/bin (which the scripts append) last.
		cmd.Env = append(os.Environ(), "PATH="+bin+":/usr/bin:/bin")
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != c.code || !strings.Contains(string(out), c.says) {
			t.Errorf("%s %s: exit %d (want %d), output lacks %q:\n%s", c.script, c.arg, code, c.code, c.says, out)
		}
		if b, err := os.ReadFile(calls); err == nil {
			t.Errorf("%s %s ran %s before exiting", c.script, c.arg, strings.Fields(string(b)))
			os.Remove(calls)
		}
	}
}
