package guide

import (
	"bytes"
	"strings"
	"testing"
)

func runShow(anchor string, print bool) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = Show(anchor, print, &o, &e)
	return code, o.String(), e.String()
}

func TestShowPrint(t *testing.T) {
	got := recordOpener(t, nil)
	whole, _ := Text("")
	code, out, errOut := runShow("", true)
	if code != 0 || errOut != "" || out != whole {
		t.Fatalf("--print: code %d, stderr %q, output matches Text(\"\"): %v", code, errOut, out == whole)
	}
	for _, a := range Anchors() {
		if !strings.Contains(out, Title(a)+"\n") {
			t.Errorf("--print lacks the heading of %s", a)
		}
	}
	s3, _ := Text("step-3")
	if code, out, errOut := runShow("step-3", true); code != 0 || errOut != "" || out != s3 {
		t.Errorf("step-3: code %d, stderr %q, output %q", code, errOut, out)
	}
	if !strings.HasPrefix(s3, "Step 3: Tap Trust, then enter your passcode\n---") || strings.Contains(s3, "Step 4:") {
		t.Errorf("step-3 text: %q", s3)
	}
	if len(*got) != 0 {
		t.Errorf("--print opened a browser: %q", *got)
	}
}

func TestShowOpens(t *testing.T) {
	withCache(t)
	got := recordOpener(t, nil)
	code, out, errOut := runShow("step-3", false)
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if len(*got) != 1 || !strings.HasSuffix((*got)[0], "/trustwatch/guide.html#step-3") {
		t.Fatalf("Opener got %q", *got)
	}
	if out != "Opened the guide: "+(*got)[0]+"\n" {
		t.Errorf("stdout %q", out)
	}
	code, _, _ = runShow("", false)
	if code != 0 || len(*got) != 2 || strings.Contains((*got)[1], "#") {
		t.Errorf("no anchor: exit %d, opened %q", code, *got)
	}
}

func TestShowOpenFailure(t *testing.T) {
	withCache(t)
	recordOpener(t, errBrowser)
	code, out, errOut := runShow("issue-cable", false)
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
