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
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("%s timed out: %s", strings.Join(args, " "), out)
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: %v", strings.Join(args, " "), err)
	}
	t.Logf("$ %s  (exit %d)\n%s", strings.Join(args, " "), code, out)
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

func TestConformanceSmoke(t *testing.T) {
	needTool(t, "idevice_id", "ideviceinfo", "idevicepair")
	s := newServer(t)
	d := s.AddDevice(DeviceConfig{Trusted: true})
	runTool(t, s, "idevice_id", "-l")
	runTool(t, s, "ideviceinfo", "-s", "-k", "ProductType")
	runTool(t, s, "ideviceinfo", "-k", "PasswordProtected")
	runTool(t, s, "idevicepair", "validate")
	t.Logf("%+v", d.Stats())
}
