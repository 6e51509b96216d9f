package main

import (
	"strings"
	"testing"
)

func TestDeviceKey(t *testing.T) {
	for arg, want := range map[string]string{
		"00008030001A2B3C4D5E6F70":  "00008030001A2B3C4D5E6F70",
		"00008030-001a2b3c4d5e6f70": "00008030001A2B3C4D5E6F70",
		"usb:1-5":                   "usb:1-5",
	} {
		if got := deviceKey(arg); got != want {
			t.Errorf("deviceKey(%q) = %q, want %q", arg, got, want)
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
