package desktoptest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// StartXvfb starts a private X server on a free display and returns it
// (":N"). Xvfb picks the number itself and writes it to -displayfd once it
// accepts connections, so there is no guessing and no polling.
func StartXvfb(t testing.TB) string {
	t.Helper()
	bin := Need(t, "Xvfb", "xvfb")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd := exec.Command(bin, "-displayfd", "3", "-screen", "0", "1024x600x24", "-nolisten", "tcp")
	cmd.ExtraFiles = []*os.File{w} // fd 3 in the child
	p := start(t, cmd)
	w.Close()
	n, err := readLine(r, 10*time.Second)
	if err != nil || n == "" {
		t.Fatalf("Xvfb did not report a display: %v; stderr: %s", err, p.stderr)
	}
	return ":" + n
}

// StartDunst starts dunst with env (which must hold DISPLAY and
// DBUS_SESSION_BUS_ADDRESS) and an empty XDG_CONFIG_HOME so a user's
// dunstrc cannot change what the test sees, and waits until it owns
// org.freedesktop.Notifications.
func StartDunst(t testing.TB, env []string) {
	t.Helper()
	bin := Need(t, "dunst", "dunst")
	addr := lookup(env, "DBUS_SESSION_BUS_ADDRESS")
	if addr == "" || lookup(env, "DISPLAY") == "" {
		t.Fatal("StartDunst: env needs DISPLAY and DBUS_SESSION_BUS_ADDRESS")
	}
	cfg := t.TempDir()
	if err := os.MkdirAll(filepath.Join(cfg, "dunst"), 0o700); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin)
	cmd.Env = append(append([]string{}, env...), "XDG_CONFIG_HOME="+cfg)
	p := start(t, cmd)
	WaitForName(t, addr, "org.freedesktop.Notifications", 10*time.Second, func() error {
		select {
		case <-p.exited:
			return fmt.Errorf("dunst exited (%v); stderr: %s", p.err, p.stderr)
		default:
			return nil
		}
	})
}
