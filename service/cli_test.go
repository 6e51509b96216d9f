//go:build linux || darwin || windows

package service

import (
	"bytes"
	"strings"
	"testing"
)

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
