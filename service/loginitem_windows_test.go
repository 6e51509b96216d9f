package service

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/windows/registry"
)

func regString(t *testing.T, e *env, path, name string) (string, bool) {
	t.Helper()
	k, err := registry.OpenKey(e.os.root, path, registry.QUERY_VALUE)
	if err != nil {
		return "", false
	}
	defer k.Close()
	v, _, err := k.GetStringValue(name)
	return v, err == nil
}

func regBinary(t *testing.T, e *env, path, name string) ([]byte, bool) {
	t.Helper()
	k, err := registry.OpenKey(e.os.root, path, registry.QUERY_VALUE)
	if err != nil {
		return nil, false
	}
	defer k.Close()
	v, _, err := k.GetBinaryValue(name)
	return v, err == nil
}

func setApproved(t *testing.T, e *env, b []byte) {
	t.Helper()
	k, _, err := registry.CreateKey(e.os.root, e.approvedKey(), registry.SET_VALUE)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	if err := k.SetBinaryValue(Name, b); err != nil {
		t.Fatal(err)
	}
}

func winVerb(t *testing.T, e *env, verb string, asJSON bool) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := e.main(verb, false, asJSON, &out, &errb)
	return out.String(), errb.String(), code
}

// HKCU Run + StartupApproved: install writes the quoted exe, status reads it,
// Task Manager's "Disable" shows as disabled, install re-approves it (the
// user asked), uninstall removes both values.
func TestRegistryRunRoundTrip(t *testing.T) {
	e, _ := testEnv(t)
	exe, _ := e.exe()

	if st, err := e.status(); err != nil || st.Installed || st.Mechanism != MechRegistryRun {
		t.Fatalf("fresh status = %+v, %v", st, err)
	}
	out, errs, code := winVerb(t, e, "install", false)
	if code != 0 {
		t.Fatalf("install: %d %q %q", code, out, errs)
	}
	v, ok := regString(t, e, e.runKey(), Name)
	if !ok || v != `"C:\Program Files\trust watch\trustwatch.exe"` {
		t.Fatalf("Run value = %q (%v)", v, ok)
	}
	st, err := e.status()
	if err != nil || !st.Installed || !st.Enabled || st.Stale || st.Command != v || !strings.HasSuffix(st.Location, `\CurrentVersion\Run\trustwatch`) {
		t.Fatalf("status = %+v, %v", st, err)
	}
	if out, _, _ := winVerb(t, e, "install", false); !strings.Contains(out, "already installed") {
		t.Errorf("second install: %q", out)
	}

	// Disabled by the user in Task Manager (odd first byte).
	setApproved(t, e, []byte{0x03, 0, 0, 0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x01})
	st, _ = e.status()
	if st.Enabled || !strings.Contains(st.Note, "disabled in Task Manager") {
		t.Fatalf("status when disabled = %+v", st)
	}
	if text, _, _ := winVerb(t, e, "status", false); !strings.Contains(text, "disabled in Task Manager") {
		t.Errorf("status text:\n%s", text)
	}
	// Enabled again (even byte 0x06) counts as enabled.
	setApproved(t, e, []byte{0x06, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	if st, _ := e.status(); !st.Enabled {
		t.Fatalf("0x06 should be enabled: %+v", st)
	}
	setApproved(t, e, []byte{0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	out, _, code = winVerb(t, e, "install", false)
	if code != 0 || !strings.Contains(out, "re-enabled") {
		t.Fatalf("install over disabled: %d %q", code, out)
	}
	b, ok := regBinary(t, e, e.approvedKey(), Name)
	if !ok || len(b) != 12 || b[0] != 0x02 {
		t.Fatalf("StartupApproved after install = % x", b)
	}
	jout, _, _ := winVerb(t, e, "status", true)
	var js Status
	if err := json.Unmarshal([]byte(jout), &js); err != nil || !js.Enabled || !js.Installed {
		t.Fatalf("status --json = %s (%v)", jout, err)
	}

	// A Run value for another path is reported as stale and replaced.
	k, _, _ := registry.CreateKey(e.os.root, e.runKey(), registry.SET_VALUE)
	_ = k.SetStringValue(Name, `"C:\old\trustwatch.exe"`)
	k.Close()
	if st, _ := e.status(); !st.Stale {
		t.Errorf("old path not stale: %+v", st)
	}
	if _, _, code := winVerb(t, e, "install", false); code != 0 {
		t.Fatal("install over a stale value failed")
	}
	if v, _ := regString(t, e, e.runKey(), Name); v != `"`+exe+`"` {
		t.Errorf("Run value after reinstall = %q", v)
	}

	out, errs, code = winVerb(t, e, "uninstall", false)
	if code != 0 || !strings.Contains(out, "removed") {
		t.Fatalf("uninstall: %d %q %q", code, out, errs)
	}
	if _, ok := regString(t, e, e.runKey(), Name); ok {
		t.Error("Run value left behind")
	}
	if _, ok := regBinary(t, e, e.approvedKey(), Name); ok {
		t.Error("StartupApproved value left behind")
	}
	if out, _, code := winVerb(t, e, "uninstall", false); code != 0 || !strings.Contains(out, "not installed") {
		t.Errorf("second uninstall: %d %q", code, out)
	}
	if st, _ := e.status(); st.Installed {
		t.Errorf("status after uninstall = %+v", st)
	}
}

// The test keys really are a private subtree, never the user's Run key.
func TestRegistryTestIsolation(t *testing.T) {
	e, _ := testEnv(t)
	if !strings.HasPrefix(e.runKey(), `Software\trustwatch-test-`) {
		t.Fatalf("runKey %q", e.runKey())
	}
	d, _ := defaultEnv()
	if d.runKey() != runKeyPath || d.os.root != registry.CURRENT_USER {
		t.Fatalf("default runKey %q", d.runKey())
	}
}

func TestRefuseRootAllowsDesktopUser(t *testing.T) {
	if err := RefuseRoot(); err != nil && !strings.Contains(err.Error(), "SYSTEM") {
		t.Fatal(err)
	}
}

// start launches the tray detached and waits for its mutex; stop ends it
// through the pid file. The "tray" is this test binary as a helper, which
// inherits the helper variables set here.
func TestStartStopWindows(t *testing.T) {
	e, vars := testEnv(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	e.exe = func() (string, error) { return self, nil }
	t.Setenv("TW_SERVICE_HELPER", "tray")
	for _, v := range vars {
		k, val, _ := strings.Cut(v, "=")
		t.Setenv(k, val)
	}
	t0 := time.Now()
	out, errs, code := winVerb(t, e, "start", false)
	if code != 0 || !strings.Contains(out, "started") {
		t.Fatalf("start: %d %q %q", code, out, errs)
	}
	t.Logf("start took %s", time.Since(t0))
	t.Cleanup(func() {
		if in, _ := e.probeLock(); in.running && in.pid > 0 {
			_ = forceKill(in.pid)
		}
	})
	if _, err := e.acquireLock(); !errors.Is(err, ErrAlreadyRunning) {
		t.Fatalf("acquire while the started tray runs: %v", err)
	}
	if out, _, _ := winVerb(t, e, "start", false); !strings.Contains(out, "already running") {
		t.Errorf("second start: %q", out)
	}
	if st, _ := e.status(); !st.Running || !strings.Contains(st.RunDetail, "pid") {
		t.Errorf("status while running: %+v", st)
	}
	t0 = time.Now()
	out, errs, code = winVerb(t, e, "stop", false)
	if code != 0 || !strings.Contains(out, "stopped") {
		t.Fatalf("stop: %d %q %q", code, out, errs)
	}
	t.Logf("stop took %s: %s", time.Since(t0), strings.TrimSpace(out))
	if in, _ := e.probeLock(); in.running {
		t.Fatal("still running after stop")
	}
	if out, _, _ := winVerb(t, e, "stop", false); !strings.Contains(out, "not running") {
		t.Errorf("second stop: %q", out)
	}
}
