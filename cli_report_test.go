//go:build unix

package main

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	speak "github.com/trustwatch/trustwatch/internal/say"
	"github.com/trustwatch/trustwatch/internal/sim"
	"github.com/trustwatch/trustwatch/watcher/engine"
	"github.com/trustwatch/trustwatch/watcher/lockdown"
)

// secretsOf lists every piece of key material in a pair record: each line
// of each PEM body (keys and certificates) and the escrow bag in base64,
// cut into pieces so that a fragment would be caught too.
func secretsOf(t *testing.T, raw []byte) []string {
	t.Helper()
	rec, err := lockdown.ParsePairRecord(raw)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, pem := range [][]byte{rec.HostPrivateKey, rec.RootPrivateKey, rec.HostCertificate, rec.RootCertificate, rec.DeviceCertificate} {
		for _, l := range strings.Split(string(pem), "\n") {
			if len(l) >= 24 && !strings.HasPrefix(l, "-----") {
				out = append(out, l[:24])
			}
		}
	}
	if len(rec.EscrowBag) == 0 {
		t.Fatal("the planted record has no escrow bag")
	}
	bag := base64.StdEncoding.EncodeToString(rec.EscrowBag)
	for i := 0; i+24 <= len(bag); i += 24 {
		out = append(out, bag[i:i+24])
	}
	return append(out, string(rec.EscrowBag[:16]))
}

// The report shows every phone's state, what happened to it and the log,
// and never a key, a pair record or an escrow bag, even when the log holds
// one. --redact leaves no UDID or phone name behind.
func TestReportHasEveryStateAndNoSecret(t *testing.T) {
	t.Parallel()
	s := startSim(t)
	devs := map[string]*sim.Device{
		"ready":                s.AddDevice(sim.DeviceConfig{Name: "Anna's iPhone", Trusted: true}),
		"locked":               s.AddDevice(sim.DeviceConfig{Name: "Ben's iPhone", Trusted: true, Locked: true}),
		"locked-since-restart": s.AddDevice(sim.DeviceConfig{Name: "Chris's iPhone", Trusted: true, BFU: true}),
		"untrusted":            s.AddDevice(sim.DeviceConfig{Name: "Dana's iPhone"}),
		"trust-revoked":        s.AddDevice(sim.DeviceConfig{Name: "Eve's iPhone", Revoked: true}),
		"error":                s.AddDevice(sim.DeviceConfig{Name: "Finn's iPhone", Trusted: true, Fault: sim.FaultLockdownGarbage}),
	}
	var secrets []string
	var planted []byte
	for _, st := range []string{"ready", "locked", "locked-since-restart", "trust-revoked"} {
		raw, ok := s.PairRecord(devs[st].UDID())
		if !ok {
			t.Fatalf("%s: no record planted", st)
		}
		secrets = append(secrets, secretsOf(t, raw)...)
		planted = raw
	}
	// A log that holds everything it never should: a whole pair record and
	// a key, besides ordinary lines and a phone this report never saw.
	home := t.TempDir()
	logDir := filepath.Join(home, "state", "trustwatch")
	os.MkdirAll(logDir, 0o700)
	rec, _ := lockdown.ParsePairRecord(planted)
	logText := "time=2026-11-27T10:00:00Z level=INFO msg=\"trustwatch starting\" version=dev\n" +
		string(planted) + "\n" + string(rec.HostPrivateKey) +
		"time=2026-11-27T10:00:01Z level=INFO msg=\"menu click\" op=fix-trust device=00008030AAAABBBBCCCCDDDD title=\"Zoe's iPhone is locked\"\n" +
		"time=2026-11-27T10:00:02Z level=INFO msg=\"last line\"\n"
	if err := os.WriteFile(filepath.Join(logDir, "trustwatch.log"), []byte(logText), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"HOME=" + home, "XDG_STATE_HOME=" + filepath.Join(home, "state"), "XDG_CONFIG_HOME=" + filepath.Join(home, "config"), "USBMUXD_SOCKET_ADDRESS=" + s.Address()}

	r := run2{env: env}.do(t, "report")
	t.Logf("trustwatch report (exit %d):\n%s", r.code, r.stdout)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d stderr %q", r.code, r.stderr)
	}
	for state, d := range devs {
		words := speak.StateWords(speak.English, engine.State(state))
		want := "state:         " + state
		if words != state {
			want += " (" + words + ")"
		}
		shown := d.Name()
		if state == "error" { // the name could not be read: the UDID's end
			shown = engine.Device{UDID: d.UDID()}.DisplayName()
		}
		if !strings.Contains(r.stdout, "\n  "+shown+"\n    udid:          "+d.UDID()+"\n    "+want+" since ") {
			t.Errorf("no %q for %s", want, shown)
		}
		if state == "error" {
			shown = d.UDID()
		}
		if !strings.Contains(r.stdout, shown+": probing → "+state) {
			t.Errorf("history lacks %s's probing → %s", shown, state)
		}
		if d.Stats().PairRequests != 0 {
			t.Errorf("the report sent a Pair to %s", d.Name())
		}
	}
	for _, want := range []string{
		"trustwatch support report, ", "It holds no keys, pairing records or escrow bags.",
		"  state:         running\n", "  socket:        " + s.SocketPath() + " S",
		"phones (6)", "lockdown:      InvalidHostID", "[InvalidHostID]", "[PasswordProtected]",
		"log (" + filepath.Join(home, "state", "trustwatch", "trustwatch.log") + "; last ",
		"msg=\"last line\"", "[line removed: not a log record]", "  login item:    not installed", "  usb layer:     ",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	noSecret := func(out string) {
		t.Helper()
		for _, bad := range append([]string{"BEGIN", "PRIVATE KEY", "EscrowBag", "HostPrivateKey", "<data>"}, secrets...) {
			if strings.Contains(out, bad) {
				t.Errorf("the report holds key material: %q", bad)
			}
		}
	}
	noSecret(r.stdout)

	r = run2{env: env}.do(t, "report", "--redact")
	if r.code != 0 {
		t.Fatalf("--redact: exit %d", r.code)
	}
	noSecret(r.stdout)
	for _, d := range devs {
		for _, leak := range []string{d.UDID(), d.USBSerial(), strings.ToLower(d.USBSerial()), d.Name()} {
			if strings.Contains(r.stdout, leak) {
				t.Errorf("--redact left %q", leak)
			}
		}
	}
	for _, want := range []string{"(redacted: ", "iPhone-1", "UDID-6", "device=UDID-?", "title=[redacted]"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("--redact: lacks %q", want)
		}
	}
	if strings.Contains(r.stdout, "Zoe") || strings.Contains(r.stdout, "AAAABBBB") {
		t.Error("--redact left a phone from the log")
	}
	if regexp.MustCompile(`[0-9A-F]{8}-?[0-9A-F]{16}`).MatchString(r.stdout) {
		t.Error("--redact left something shaped like a UDID")
	}
}

// Without usbmuxd the report still comes, exit 0, and says why.
func TestReportWithoutUsbmuxd(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	r := run2{env: []string{"HOME=" + home, "XDG_STATE_HOME=" + home, "USBMUXD_SOCKET_ADDRESS=UNIX://" + filepath.Join(home, "nothing")}}.do(t, "report")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{"phones (0)", "No iPhone connected.", "  in words:      usbmuxd is not ", ": no such file or directory", "usbmuxd: not-"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("lacks %q:\n%s", want, r.stdout)
		}
	}
}
