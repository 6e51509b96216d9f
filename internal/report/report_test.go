package report

import (
	"strings"
	"testing"
	"time"

	"github.com/trustwatch/trustwatch/watcher"
	"github.com/trustwatch/trustwatch/watcher/engine"
)

func TestLooksSecret(t *testing.T) {
	for _, c := range []struct {
		line   string
		strict bool
		want   bool
	}{
		{"-----BEGIN RSA PRIVATE KEY-----", false, true},
		{"\t<key>EscrowBag</key>", false, true},
		{"\t<data>", false, true},
		{"MIIEowIBAAKCAQEAvJ8gq3nW0C0s9yE2m2Xx1cJkN7s3p1Ykq2m6q+Yh0mX2Q8ZtQ1dE", true, true},
		{"MIIEowIBAAKCAQEAvJ8gq3nW0C0s9yE2m2Xx1cJkN7s3p1Ykq2m6q+Yh0mX2Q8ZtQ1dE", false, false},
		{"  executable:    /home/anna/.local/bin/trustwatch", true, false},
		{`time=2026-11-27T10:00:00Z level=INFO msg="trustwatch starting" log=/home/anna/.local/state/trustwatch/trustwatch.log`, true, false},
		{"  state:         trust-revoked (trust was reset) since 10:00:00.000", true, false},
		{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", true, false},
	} {
		if got := looksSecret(c.line, c.strict); got != c.want {
			t.Errorf("looksSecret(%q, %v) = %v", c.line, c.strict, got)
		}
	}
}

func TestWriteRedactsAndScrubs(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	in := Info{
		Time: t0, Version: "v1", Commit: "0123456789abcdef0123456789abcdef01234567",
		Usbmux: engine.Usbmux{Address: "unix:///var/run/usbmuxd", Reachable: true, State: engine.MuxRunning},
		Devices: []engine.Device{
			{Key: "00008030001A2B3C4D5E6F70", UDID: "00008030-001A2B3C4D5E6F70", Name: "Anna", State: engine.StateReady, Since: t0},
			{Key: "00008030001A2B3C4D5E6F71", UDID: "00008030-001A2B3C4D5E6F71", Name: "Anna 2", State: engine.StateError,
				Detail: "-----BEGIN CERTIFICATE----- MIIB…", Since: t0},
		},
		History: []watcher.Entry{
			{Time: t0, Key: "00008030001A2B3C4D5E6F70", UDID: "00008030-001A2B3C4D5E6F70", Name: "Anna", State: engine.StateReady, Previous: engine.StateProbing},
			{Time: t0, Usbmux: &engine.Usbmux{State: engine.MuxNotRunning, Error: "gone"}},
		},
		HistoryOf: "a test",
		LogWhere:  "/log",
		LogTail: []string{
			`time=x level=INFO msg="menu click" device=00008030001A2B3C4D5E6F70`,
			`time=x level=INFO msg="notified" title="Zoe's iPhone is locked" device=00008030FFFFFFFFFFFFFFFF`,
			`<string>not a record line</string>`,
		},
	}
	var b strings.Builder
	if err := Write(&b, in, true); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, leak := range []string{"Anna", "001A2B3C4D5E6F7", "Zoe", "FFFFFFFF", "BEGIN", "not a record line"} {
		if strings.Contains(out, leak) {
			t.Errorf("report holds %q:\n%s", leak, out)
		}
	}
	// "Anna 2" is one phone, not "Anna" followed by " 2".
	for _, want := range []string{"  iPhone-1\n", "  iPhone-2\n", "UDID-1", "UDID-2", "device=UDID-1", "title=[redacted]", "device=UDID-?",
		"usbmuxd: not-running (gone)", "iPhone-1: probing → ready", "[line removed: it looked like key material]", "[line removed: not a log record]",
		"commit:        0123456789abcdef0123456789abcdef01234567"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}
