//go:build linux || darwin || windows

package service

import (
	"bytes"
	"strings"
	"testing"
)

func TestMainUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		out  string // substring of stdout
		err  string // substring of stderr
	}{
		{nil, 2, "", "missing verb"},
		{[]string{"frobnicate"}, 2, "", `unknown verb "frobnicate"`},
		{[]string{"--bogus"}, 2, "", `unknown flag "--bogus"`},
		{[]string{"install", "--bogus"}, 2, "", "flag provided but not defined: -bogus"},
		{[]string{"install", "--json"}, 2, "", "-json"},
		{[]string{"status", "extra"}, 2, "", `unexpected argument "extra"`},
		{[]string{"--help"}, 0, "Usage: trustwatch service", ""},
		{[]string{"-h"}, 0, "Usage: trustwatch service", ""},
		{[]string{"status", "--help"}, 0, "Usage: trustwatch service", ""},
		{[]string{"install", "-h"}, 0, "Verbs:", ""},
	} {
		var out, errb bytes.Buffer
		code := Main(tc.args, &out, &errb)
		if code != tc.code || !strings.Contains(out.String(), tc.out) || !strings.Contains(errb.String(), tc.err) {
			t.Errorf("Main(%q) = %d, stdout %q, stderr %q; want %d, %q, %q", tc.args, code, out.String(), errb.String(), tc.code, tc.out, tc.err)
		}
		if tc.code == 2 && strings.Count(strings.TrimSpace(errb.String()), "\n") > 0 {
			t.Errorf("Main(%q): usage error is not one line: %q", tc.args, errb.String())
		}
	}
}

// As root the verbs that change things are refused with the reason, unless
// --allow-root; status still works.
func TestMainRefusesRoot(t *testing.T) {
	e, _ := testEnv(t)
	e.euid = func() int { return 0 }
	for _, verb := range []string{"install", "uninstall", "start", "stop"} {
		var out, errb bytes.Buffer
		if code := e.main(verb, false, false, &out, &errb); code != 1 || !strings.Contains(errb.String(), "refusing to run as root") {
			t.Errorf("%s as root: %d %q", verb, code, errb.String())
		}
	}
	var out, errb bytes.Buffer
	if code := e.main("status", false, false, &out, &errb); code != 0 || !strings.Contains(out.String(), "Login item: not installed") {
		t.Errorf("status as root: %d %q %q", code, out.String(), errb.String())
	}
	out.Reset()
	errb.Reset()
	if code := e.main("uninstall", true, false, &out, &errb); code != 0 || !strings.Contains(out.String(), "not installed") {
		t.Errorf("uninstall --allow-root: %d %q %q", code, out.String(), errb.String())
	}
}
