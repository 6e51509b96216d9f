package lockdown_test

// Cross-checks with libimobiledevice (Debian: libimobiledevice-utils,
// libusbmuxd-tools): a pair record made by NewPairRecord must work for
// libimobiledevice's OpenSSL session TLS, and one made by idevicepair must
// work for ours.

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/trustwatch/trustwatch/internal/sim"
	"github.com/trustwatch/trustwatch/internal/simtest"
	"github.com/trustwatch/trustwatch/watcher/lockdown"
	"github.com/trustwatch/trustwatch/watcher/usbmux"
)

func needTool(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			msg := "*** " + n + " not installed (apt-get install libimobiledevice-utils libusbmuxd-tools): pair-record interop with libimobiledevice NOT tested ***"
			if os.Getenv("CI") == "true" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
}

func runTool(t *testing.T, s *sim.Server, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	// A private HOME: libimobiledevice keeps a SystemConfiguration there.
	cmd.Env = append(os.Environ(), "USBMUXD_SOCKET_ADDRESS="+s.Address(), "HOME="+t.TempDir(), "XDG_CONFIG_HOME="+t.TempDir())
	cmd.WaitDelay = 2 * time.Second
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("%s timed out: %s", strings.Join(args, " "), out)
	}
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: %v", strings.Join(args, " "), err)
	}
	t.Logf("$ %s (exit %d)\n%s", strings.Join(args, " "), code, out)
	return string(out), code
}

// Our record, libimobiledevice's TLS.
func TestInteropOurRecordWithLibimobiledevice(t *testing.T) {
	needTool(t, "ideviceinfo")
	s, addr := simtest.StartAddr(t, sim.Options{}, usbmux.ParseAddress)
	d := s.AddDevice(sim.DeviceConfig{Name: "Interop Phone"})
	ctx := simtest.Ctx(t, 10*time.Second)
	c, info, err := dial(ctx, addr, d.UDID())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	pub, err := c.GetValue(ctx, "", "DevicePublicKey")
	if err != nil {
		t.Fatal(err)
	}
	pem, _ := pub.([]byte)
	buid, err := usbmux.ReadBUID(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := lockdown.NewPairRecord(pem, buid)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Pair(ctx, rec); !errors.Is(err, lockdown.ErrPairingDialogResponsePending) {
		t.Fatalf("first Pair: %v", err)
	}
	d.TapTrust()
	if _, err := c.Pair(ctx, rec); err != nil {
		t.Fatal(err)
	}
	data, err := rec.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := usbmux.SavePairRecord(ctx, addr, d.UDID(), info.DeviceID, data); err != nil {
		t.Fatal(err)
	}
	before := d.Stats().TLSHandshakes
	// Without -s ideviceinfo reads the record from usbmuxd and starts a
	// TLS session with it (OpenSSL, PEM keys as we wrote them).
	out, code := runTool(t, s, "ideviceinfo", "-u", d.UDID(), "-k", "DeviceName")
	if code != 0 || strings.TrimSpace(out) != "Interop Phone" {
		t.Fatalf("ideviceinfo with our record: exit %d, %q", code, out)
	}
	if d.Stats().TLSHandshakes <= before {
		t.Fatal("ideviceinfo did not open a TLS session")
	}
}

// libimobiledevice's record, our TLS.
func TestInteropLibimobiledeviceRecordWithUs(t *testing.T) {
	needTool(t, "idevicepair")
	s, addr := simtest.StartAddr(t, sim.Options{}, usbmux.ParseAddress)
	d := s.AddDevice(sim.DeviceConfig{})
	out, code := runTool(t, s, "idevicepair", "-u", d.UDID(), "pair")
	if code == 0 || !strings.Contains(out, "trust dialog") {
		t.Fatalf("first idevicepair pair should wait for the dialog: exit %d %q", code, out)
	}
	d.TapTrust()
	if out, code := runTool(t, s, "idevicepair", "-u", d.UDID(), "pair"); code != 0 || !strings.Contains(out, "SUCCESS") {
		t.Fatalf("idevicepair pair after Trust: exit %d %q", code, out)
	}
	ctx := simtest.Ctx(t, 10*time.Second)
	data, err := usbmux.ReadPairRecord(ctx, addr, d.UDID())
	if err != nil {
		t.Fatal(err)
	}
	rec, err := lockdown.ParsePairRecord(data)
	if err != nil {
		t.Fatalf("libimobiledevice's record: %v", err)
	}
	if rec.SystemBUID != s.SystemBUID() || len(rec.RootPrivateKey) == 0 || len(rec.DeviceCertificate) == 0 {
		t.Fatalf("record fields: %v", rec)
	}
	state, _, err := diagnose(ctx, addr, d.UDID(), false)
	if err != nil || state != "ready" {
		t.Fatalf("our session with libimobiledevice's record: %q %v", state, err)
	}
}
