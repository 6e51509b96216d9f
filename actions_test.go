package main

import (
	"strings"
	"testing"

	"github.com/trustwatch/trustwatch/tray"
)

func TestTrayAction(t *testing.T) {
	for url, want := range map[string]tray.Action{
		"trustwatch:fix/00008030001A2B3C4D5E6F70":  {Op: tray.OpFixTrust, Key: "00008030001A2B3C4D5E6F70"},
		"trustwatch:fix/00008030-001a2b3c4d5e6f70": {Op: tray.OpFixTrust, Key: "00008030001A2B3C4D5E6F70"},
		"trustwatch:fix/usb:1-5":                   {Op: tray.OpFixTrust, Key: "usb:1-5"},
		"trustwatch:guide/step-6":                  {Op: tray.OpShowGuide, Anchor: "step-6"},
	} {
		if got, err := trayAction(url); err != nil || got != want {
			t.Errorf("%s: %+v %v", url, got, err)
		}
	}
	for _, url := range []string{"trustwatch:quit/now", "trustwatch:fix/a b", "status"} {
		if a, err := trayAction(url); err == nil {
			t.Errorf("%s accepted as %+v", url, a)
		}
	}
}

// A malformed action URL is a usage error with one line, and opens nothing.
func TestRunActionURLRejects(t *testing.T) {
	var out, errb strings.Builder
	if code := run([]string{"trustwatch:quit/now"}, &out, &errb); code != exitUsage {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
	if n := strings.Count(errb.String(), "\n"); n != 1 || out.Len() != 0 {
		t.Fatalf("stdout %q, stderr %q", out.String(), errb.String())
	}
}
