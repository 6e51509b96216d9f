package sim

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// needTool skips (or, with CI=true, fails) when a libimobiledevice tool is
// missing. Debian packages: libimobiledevice-utils libusbmuxd-tools.
func needTool(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			msg := "*** " + n + " not installed (apt-get install libimobiledevice-utils libusbmuxd-tools): libimobiledevice conformance NOT tested ***"
			if os.Getenv("CI") == "true" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
}

type toolResult struct {
	out  string
	code int
}

// runTool runs one libimobiledevice tool against s with a hard timeout.
func runTool(t *testing.T, s *Server, args ...string) toolResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env = append(os.Environ(), "USBMUXD_SOCKET_ADDRESS="+s.Address())
	// libimobiledevice keeps SystemConfiguration/records under the config
	// dir; point it somewhere private so runs do not see each other.
	cmd.Env = append(cmd.Env, "HOME="+t.TempDir(), "XDG_CONFIG_HOME="+t.TempDir())
	cmd.WaitDelay = 2 * time.Second
	began := time.Now()
	out, err := cmd.CombinedOutput()
	took := time.Since(began)
	if ctx.Err() != nil {
		t.Fatalf("%s timed out: %s", strings.Join(args, " "), out)
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: %v", strings.Join(args, " "), err)
	}
	t.Logf("$ %s  (exit %d, %v)\n%s", strings.Join(args, " "), code, took.Round(time.Millisecond), out)
	return toolResult{string(out), code}
}

func newServer(t *testing.T) *Server {
	t.Helper()
	s, err := Start(Options{Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// failed as a wanted exit code means "any non-zero".
const failed = -2

func mustContain(t *testing.T, r toolResult, want string, wantCode int) {
	t.Helper()
	if !strings.Contains(r.out, want) {
		t.Errorf("output %q does not contain %q", r.out, want)
	}
	if (wantCode >= 0 && r.code != wantCode) || (wantCode == failed && r.code == 0) {
		t.Errorf("exit code %d, want %d (output %q)", r.code, wantCode, r.out)
	}
}

// TestConformanceLibimobiledevice drives libimobiledevice's real tools
// through every trust situation and checks the answers a real phone gives
// (protocol.md §5.3).
func TestConformanceLibimobiledevice(t *testing.T) {
	needTool(t, "idevice_id", "ideviceinfo", "idevicepair")
	t.Parallel()

	t.Run("list", func(t *testing.T) {
		s := newServer(t)
		a := s.AddDevice(DeviceConfig{Trusted: true})
		b := s.AddDevice(DeviceConfig{Network: true})
		s.AddDevice(DeviceConfig{Detached: true})
		r := runTool(t, s, "idevice_id", "-l")
		mustContain(t, r, a.UDID(), 0)
		mustContain(t, r, b.UDID(), 0)
		if n := strings.Count(r.out, b.UDID()); n != 1 {
			t.Errorf("network duplicate listed: %d lines for %s", n, b.UDID())
		}
		if got := strings.Count(strings.TrimSpace(r.out), "\n") + 1; got != 2 {
			t.Errorf("idevice_id -l listed %d devices, want 2 (detached one hidden)", got)
		}
		r = runTool(t, s, "idevice_id", a.UDID())
		mustContain(t, r, "Anna's iPhone", 0)
	})

	t.Run("trusted-unlocked", func(t *testing.T) {
		s := newServer(t)
		d := s.AddDevice(DeviceConfig{Trusted: true})
		mustContain(t, runTool(t, s, "ideviceinfo", "-s", "-k", "ProductType"), "iPhone15,2", 0)
		mustContain(t, runTool(t, s, "ideviceinfo", "-s", "-k", "ProductVersion"), "17.5", 0)
		mustContain(t, runTool(t, s, "ideviceinfo", "-s"), "UniqueDeviceID: "+d.UDID(), 0)
		// With a session: real TLS through libimobiledevice's TLS library.
		mustContain(t, runTool(t, s, "ideviceinfo", "-k", "PasswordProtected"), "false", 0)
		full := runTool(t, s, "ideviceinfo")
		mustContain(t, full, "ActivationState: Activated", 0)
		mustContain(t, full, "DeviceName: Anna's iPhone", 0)
		mustContain(t, runTool(t, s, "idevicepair", "validate"), "SUCCESS: Validated pairing with device "+d.UDID(), 0)
		st := d.Stats()
		if st.TLSHandshakes < 3 || st.TLSFailures != 0 {
			t.Errorf("TLS handshakes %d failures %d, want >=3 and 0", st.TLSHandshakes, st.TLSFailures)
		}
		if st.PairRequests != 0 || st.DialogShows != 0 {
			t.Errorf("trusted device got Pair requests: %+v", st)
		}
	})

	t.Run("trusted-locked", func(t *testing.T) {
		s := newServer(t)
		d := s.AddDevice(DeviceConfig{Trusted: true, Locked: true})
		mustContain(t, runTool(t, s, "ideviceinfo", "-k", "PasswordProtected"), "true", 0)
		mustContain(t, runTool(t, s, "idevicepair", "validate"), "SUCCESS: Validated pairing", 0)
		d.Unlock()
		mustContain(t, runTool(t, s, "ideviceinfo", "-k", "PasswordProtected"), "false", 0)
	})

	t.Run("bfu", func(t *testing.T) {
		s := newServer(t)
		d := s.AddDevice(DeviceConfig{Trusted: true, BFU: true})
		mustContain(t, runTool(t, s, "ideviceinfo", "-k", "DeviceName"), "Could not connect to lockdownd: Password protected (-17)", failed)
		mustContain(t, runTool(t, s, "idevicepair", "validate"), "because a passcode is set", 1)
		// Session-less values still work before first unlock.
		mustContain(t, runTool(t, s, "ideviceinfo", "-s", "-k", "DeviceName"), "Anna's iPhone", 0)
		d.Unlock()
		mustContain(t, runTool(t, s, "idevicepair", "validate"), "SUCCESS: Validated pairing", 0)
	})

	t.Run("untrusted-locked", func(t *testing.T) {
		s := newServer(t)
		d := s.AddDevice(DeviceConfig{Locked: true})
		// An untrusted, locked phone still tells its name and model without a session.
		mustContain(t, runTool(t, s, "ideviceinfo", "-s", "-k", "DeviceName"), "Anna's iPhone", 0)
		mustContain(t, runTool(t, s, "ideviceinfo", "-s"), "ProductVersion: 17.5", 0)
		if st := d.Stats(); st.PairRequests != 0 || st.StartSessions != 0 {
			t.Errorf("ideviceinfo -s paired or started a session: %+v", st)
		}
		mustContain(t, runTool(t, s, "idevicepair", "pair"), "because a passcode is set", 1)
		mustContain(t, runTool(t, s, "idevicepair", "validate"), "because a passcode is set", 1)
		if st := d.Stats(); st.DialogShows != 0 || st.PairRequests != 2 {
			t.Errorf("locked: %d dialog shows, %d Pair requests; want 0, 2", st.DialogShows, st.PairRequests)
		}
		if _, ok := s.PairRecord(d.UDID()); ok {
			t.Error("a record was stored for a locked untrusted phone")
		}
	})

	t.Run("pending-then-trust", func(t *testing.T) {
		s := newServer(t)
		d := s.AddDevice(DeviceConfig{})
		mustContain(t, runTool(t, s, "idevicepair", "pair"), "Please accept the trust dialog on the screen of device "+d.UDID(), 1)
		if !d.DialogShowing() {
			t.Fatal("dialog not showing after Pair")
		}
		// validate with no record pairs as well: a second Pair while the
		// alert is up is a flash.
		mustContain(t, runTool(t, s, "idevicepair", "validate"), "Please accept the trust dialog", 1)
		st := d.Stats()
		if st.DialogShows != 1 || st.DialogFlashes != 1 || st.PairRequests != 2 {
			t.Errorf("shows %d flashes %d pairs %d; want 1 1 2", st.DialogShows, st.DialogFlashes, st.PairRequests)
		}
		d.TapTrust()
		lm := dialMux(t, s)
		lm.send(map[string]any{"MessageType": "Listen"})
		lm.read(time.Second) // Result
		lm.read(time.Second) // Attached
		mustContain(t, runTool(t, s, "idevicepair", "pair"), "SUCCESS: Paired with device "+d.UDID(), 0)
		// libimobiledevice saves with DeviceID, so Listen clients hear Paired.
		if _, ev, err := lm.read(2 * time.Second); err != nil || str(ev, "MessageType") != "Paired" {
			t.Errorf("want a Paired event after idevicepair pair, got %v %v", ev, err)
		} else if id, _ := num(ev, "DeviceID"); int(id) != d.DeviceID() {
			t.Errorf("Paired for DeviceID %d, want %d", id, d.DeviceID())
		}
		rec, ok := s.PairRecord(d.UDID())
		if !ok {
			t.Fatal("idevicepair pair left no record in the sim's usbmuxd")
		}
		if st := d.Stats(); st.SavePairRecords != 1 {
			t.Errorf("SavePairRecords = %d, want 1", st.SavePairRecords)
		}
		hostID := recordHostID(t, rec)
		if !d.Trusts(hostID) {
			t.Errorf("device does not trust the HostID %s that libimobiledevice paired with", hostID)
		}
		mustContain(t, runTool(t, s, "idevicepair", "validate"), "SUCCESS: Validated pairing with device "+d.UDID(), 0)
		mustContain(t, runTool(t, s, "ideviceinfo", "-k", "PasswordProtected"), "false", 0)
		// Unpair forgets the host on the phone and the record on the host.
		mustContain(t, runTool(t, s, "idevicepair", "unpair"), "SUCCESS: Unpaired with device "+d.UDID(), 0)
		if d.Trusts(hostID) {
			t.Error("device still trusts the host after unpair")
		}
		if _, ok := s.PairRecord(d.UDID()); ok {
			t.Error("record still stored after unpair")
		}
	})

	t.Run("denied", func(t *testing.T) {
		s := newServer(t)
		d := s.AddDevice(DeviceConfig{})
		mustContain(t, runTool(t, s, "idevicepair", "pair"), "Please accept the trust dialog", 1)
		d.TapDontTrust()
		mustContain(t, runTool(t, s, "idevicepair", "pair"), "said that the user denied the trust dialog", 1)
		mustContain(t, runTool(t, s, "idevicepair", "pair"), "said that the user denied the trust dialog", 1)
		d.Detach()
		d.Attach()
		mustContain(t, runTool(t, s, "idevicepair", "pair"), "Please accept the trust dialog", 1)
		if st := d.Stats(); st.DialogShows != 2 {
			t.Errorf("dialog shows %d, want 2 (once per attach)", st.DialogShows)
		}
		s2 := newServer(t)
		s2.AddDevice(DeviceConfig{Denied: true})
		mustContain(t, runTool(t, s2, "idevicepair", "validate"), "user denied the trust dialog", 1)
	})

	t.Run("revoked", func(t *testing.T) {
		s := newServer(t)
		d := s.AddDevice(DeviceConfig{Revoked: true})
		mustContain(t, runTool(t, s, "idevicepair", "validate"), "is not paired with this host", 1)
		mustContain(t, runTool(t, s, "ideviceinfo", "-k", "DeviceName"), "Could not connect to lockdownd: Invalid HostID (-21)", failed)
		// Trust reset on a trusted phone looks the same.
		s2 := newServer(t)
		d2 := s2.AddDevice(DeviceConfig{Trusted: true})
		mustContain(t, runTool(t, s2, "idevicepair", "validate"), "SUCCESS", 0)
		d2.ResetTrust()
		mustContain(t, runTool(t, s2, "idevicepair", "validate"), "is not paired with this host", 1)
		_ = d
	})

	t.Run("preflight", func(t *testing.T) {
		s, err := Start(Options{Logf: t.Logf, Preflight: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		d := s.AddDevice(DeviceConfig{})
		// Preflight already showed the alert; a tool's Pair is a flash.
		mustContain(t, runTool(t, s, "idevicepair", "validate"), "Please accept the trust dialog", 1)
		if st := d.Stats(); st.DialogShows != 1 || st.DialogFlashes != 1 {
			t.Errorf("shows %d flashes %d, want 1 1", st.DialogShows, st.DialogFlashes)
		}
		d.TapTrust()
		waitFor(t, "preflight to save a record", 5*time.Second, func() bool { _, ok := s.PairRecord(d.UDID()); return ok })
		mustContain(t, runTool(t, s, "idevicepair", "validate"), "SUCCESS: Validated pairing with device "+d.UDID(), 0)
		mustContain(t, runTool(t, s, "ideviceinfo", "-k", "PasswordProtected"), "false", 0)
	})

	t.Run("bad-record", func(t *testing.T) {
		s := newServer(t)
		d := s.AddDevice(DeviceConfig{BadRecord: true})
		r := runTool(t, s, "ideviceinfo", "-k", "DeviceName")
		if r.code == 0 {
			t.Errorf("ideviceinfo succeeded with a mismatched record: %q", r.out)
		}
		mustContain(t, r, "SSL", -1)
		st := d.Stats()
		if st.TLSHandshakes != 0 || st.TLSFailures == 0 {
			t.Errorf("TLS handshakes %d failures %d; want 0 and >0", st.TLSHandshakes, st.TLSFailures)
		}
	})
}

func recordHostID(t *testing.T, rec []byte) string {
	t.Helper()
	m, err := decodeDict(rec, true)
	if err != nil {
		t.Fatalf("stored record: %v", err)
	}
	h := str(m, "HostID")
	if h == "" {
		t.Fatal("stored record has no HostID")
	}
	return h
}
