package guide

import (
	"bytes"
	"strings"
	"testing"
)

func runMain(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = Main(args, &o, &e)
	return code, o.String(), e.String()
}

func TestMainHelp(t *testing.T) {
	for _, h := range []string{"--help", "-h", "-help"} {
		code, out, errOut := runMain("step-1", h)
		if code != 0 || errOut != "" {
			t.Errorf("%s: code %d, stderr %q", h, code, errOut)
		}
		if !strings.Contains(out, "Usage: trustwatch guide [ANCHOR] [--print]") || !strings.Contains(out, "--print") {
			t.Errorf("%s: usage text is %q", h, out)
		}
		for _, a := range Anchors() {
			if !strings.Contains(out, "  "+a+" ") {
				t.Errorf("%s: help does not list anchor %s", h, a)
			}
		}
	}
}

func TestMainUsageErrors(t *testing.T) {
	got := recordOpener(t, nil)
	withCache(t)
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"nope"}, append([]string{`unknown anchor "nope"`, "valid anchors:"}, contractAnchors...)},
		{[]string{"nope", "--print"}, []string{`unknown anchor "nope"`}},
		{[]string{"--bogus"}, []string{"unknown flag --bogus"}},
		{[]string{"--print=yes"}, []string{"unknown flag --print"}},
		{[]string{"step-1", "--verbose"}, []string{"unknown flag --verbose"}},
		{[]string{"step-1", "step-2"}, []string{"one ANCHOR at most"}},
		{[]string{"--", "--print"}, []string{`unknown anchor "--print"`}},
	}
	for _, c := range cases {
		code, out, errOut := runMain(c.args...)
		if code != 2 {
			t.Errorf("%q: exit %d, want 2", c.args, code)
		}
		if out != "" {
			t.Errorf("%q: wrote to stdout: %q", c.args, out)
		}
		if strings.Count(errOut, "\n") != 1 || !strings.HasSuffix(errOut, "\n") {
			t.Errorf("%q: want exactly one line on stderr, got %q", c.args, errOut)
		}
		for _, w := range c.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("%q: stderr %q lacks %q", c.args, errOut, w)
			}
		}
	}
	if len(*got) != 0 {
		t.Errorf("usage errors opened a browser: %q", *got)
	}
}

func TestMainPrint(t *testing.T) {
	got := recordOpener(t, nil)
	whole, _ := Text("")
	code, out, errOut := runMain("--print")
	if code != 0 || errOut != "" || out != whole {
		t.Fatalf("--print: code %d, stderr %q, output matches Text(\"\"): %v", code, errOut, out == whole)
	}
	for _, a := range Anchors() {
		if !strings.Contains(out, Title(a)+"\n") {
			t.Errorf("--print lacks the heading of %s", a)
		}
	}
	s3, _ := Text("step-3")
	for _, args := range [][]string{{"step-3", "--print"}, {"--print", "step-3"}, {"-print", "#step-3"}} {
		code, out, errOut := runMain(args...)
		if code != 0 || errOut != "" || out != s3 {
			t.Errorf("%q: code %d, stderr %q, output %q", args, code, errOut, out)
		}
	}
	if !strings.HasPrefix(s3, "Step 3: Tap Trust, then enter your passcode\n---") || strings.Contains(s3, "Step 4:") {
		t.Errorf("step-3 text: %q", s3)
	}
	if len(*got) != 0 {
		t.Errorf("--print opened a browser: %q", *got)
	}
}

func TestMainOpens(t *testing.T) {
	withCache(t)
	got := recordOpener(t, nil)
	code, out, errOut := runMain("step-3")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if len(*got) != 1 || !strings.HasSuffix((*got)[0], "/trustwatch/guide.html#step-3") {
		t.Fatalf("Opener got %q", *got)
	}
	if out != "Opened the guide: "+(*got)[0]+"\n" {
		t.Errorf("stdout %q", out)
	}
	code, _, _ = runMain()
	if code != 0 || len(*got) != 2 || strings.Contains((*got)[1], "#") {
		t.Errorf("no anchor: exit %d, opened %q", code, *got)
	}
}

func TestMainOpenFailure(t *testing.T) {
	withCache(t)
	recordOpener(t, errBrowser)
	code, out, errOut := runMain("issue-cable")
	if code != 1 || out != "" {
		t.Errorf("exit %d, stdout %q; want 1 and nothing", code, out)
	}
	if !strings.Contains(errOut, "no display") || !strings.Contains(errOut, "guide.html#issue-cable") ||
		!strings.Contains(errOut, "trustwatch guide issue-cable --print") {
		t.Errorf("stderr %q should give the cause, the URL and the --print fallback", errOut)
	}
}

type browserError struct{}

func (browserError) Error() string { return "no display" }

var errBrowser = browserError{}
