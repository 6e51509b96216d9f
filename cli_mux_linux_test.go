package main

// usbmuxd's states, as the real binary reports them in `status` (text and
// JSON) and `watch`: not installed, not running without a phone (no alarm),
// permission denied (a socket of mode 0600 owned by root, the binary run as
// nobody), garbage from a fake daemon, a daemon that does not answer.

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/trustwatch/trustwatch/internal/sim"
	"github.com/trustwatch/trustwatch/watcher"
)

// noUsbmuxdPath is a PATH without any usbmuxd program on it.
func noUsbmuxdPath() string {
	var keep []string
	for _, d := range filepath.SplitList(os.Getenv("PATH")) {
		if _, err := os.Stat(filepath.Join(d, "usbmuxd")); err != nil {
			keep = append(keep, d)
		}
	}
	return strings.Join(keep, ":")
}

// hideInstalledUsbmuxd returns a wrapper that runs the binary where no
// usbmuxd is installed: a private mount namespace with tmpfs over the
// folders that hold one (needs root and unshare); nil when none is there.
func hideInstalledUsbmuxd(t *testing.T) []string {
	var dirs []string
	for _, p := range []string{"/usr/sbin/usbmuxd", "/sbin/usbmuxd", "/usr/local/sbin/usbmuxd", "/usr/bin/usbmuxd"} {
		if _, err := os.Stat(p); err == nil {
			d, _ := filepath.EvalSymlinks(filepath.Dir(p))
			dirs = append(dirs, d)
		}
	}
	if len(dirs) == 0 {
		return nil
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil || os.Geteuid() != 0 {
		t.Skip("SKIPPING: usbmuxd is installed here and hiding it needs root and unshare")
	}
	script := ""
	for _, d := range dirs {
		script += "mount -t tmpfs tmpfs " + d + " && "
	}
	return []string{unshare, "-m", "sh", "-c", script + `exec "$0" "$@"`}
}

func TestStatusSaysWhyUsbmuxdIsUnreachable(t *testing.T) {
	osRelease, _ := os.ReadFile("/etc/os-release")
	install := watcher.InstallCommand(string(osRelease), func(tool string) bool { _, err := exec.LookPath(tool); return err == nil })
	fakeBin := t.TempDir()
	if err := os.WriteFile(filepath.Join(fakeBin, "usbmuxd"), []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	missing := "UNIX://" + filepath.Join(t.TempDir(), "usbmuxd")

	type tc struct {
		name     string
		opts     func(t *testing.T) (run2, string) // how to run, usbmuxd address
		state    string
		stderr   []string // fragments of the text output's stderr, in order
		calm     bool     // no alarm: one line, no guide, no raw error
		noStderr []string
	}
	cases := []tc{
		{
			name: "not installed",
			opts: func(t *testing.T) (run2, string) {
				return run2{env: []string{"PATH=" + noUsbmuxdPath()}, wrap: hideInstalledUsbmuxd(t)}, missing
			},
			state:  "not-installed",
			stderr: []string{"usbmuxd is not installed.\n", "  Install it with: " + install + "\n", "  More: trustwatch guide issue-drivers --print\n"},
		},
		{
			name: "installed, not running, no phone: no alarm",
			opts: func(t *testing.T) (run2, string) {
				return run2{env: []string{"PATH=" + fakeBin + ":" + os.Getenv("PATH")}}, missing
			},
			state:  "not-running",
			stderr: []string{"usbmuxd is not running, as usual while no iPhone is plugged in. It starts by itself when one is.\n"},
			calm:   true,
		},
		{
			name: "permission denied",
			opts: func(t *testing.T) (run2, string) {
				if os.Geteuid() != 0 {
					t.Skip("SKIPPING: a socket another user may not use needs root to set up")
				}
				dir := t.TempDir()
				os.Chmod(dir, 0o755)
				s, err := sim.Start(sim.Options{SocketPath: filepath.Join(dir, "usbmuxd")})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { s.Close() })
				s.AddDevice(sim.DeviceConfig{Trusted: true})
				if err := os.Chmod(s.SocketPath(), 0o600); err != nil { // root's socket, for root only
					t.Fatal(err)
				}
				os.Chmod(filepath.Dir(binary), 0o755)
				return run2{cred: &syscall.Credential{Uid: 65534, Gid: 65534}, env: []string{"HOME=/nonexistent"}}, s.Address()
			},
			state:  "permission-denied",
			stderr: []string{"usbmuxd refuses this user (permission denied).\n", "must be readable and writable by every user", "ls -l ", "  More: trustwatch guide issue-permissions --print\n", "permission denied)\n"},
		},
		{
			name: "garbage",
			opts: func(t *testing.T) (run2, string) {
				s := startSim(t)
				s.SetMuxFault(sim.MuxFaultJunk)
				return run2{}, s.Address()
			},
			state:  "unreadable",
			stderr: []string{"usbmuxd answered something trustwatch cannot read.\n", "Another program may be listening at ", "  More: trustwatch guide issue-drivers --print\n", "protocol error"},
		},
		{
			name: "silent",
			opts: func(t *testing.T) (run2, string) {
				s := startSim(t)
				s.SetMuxFault(sim.MuxFaultSilent)
				return run2{}, s.Address()
			},
			state:  "not-responding",
			stderr: []string{"usbmuxd does not answer.\n", "Restart it: sudo systemctl restart usbmuxd", "  More: trustwatch guide issue-drivers --print\n", "timed out"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			o, addr := c.opts(t)
			o.env = append(o.env, "USBMUXD_SOCKET_ADDRESS="+addr)
			r := o.do(t, "status")
			t.Logf("trustwatch status (exit %d)\nstdout:\n%sstderr:\n%s", r.code, r.stdout, r.stderr)
			if r.code != 3 || r.stdout != "No iPhone connected.\n" {
				t.Errorf("exit %d stdout %q; want 3, \"No iPhone connected.\"", r.code, r.stdout)
			}
			at := 0
			for _, f := range c.stderr {
				i := strings.Index(r.stderr[at:], f)
				if i < 0 {
					t.Errorf("stderr lacks %q (in order):\n%s", f, r.stderr)
					break
				}
				at += i + len(f)
			}
			if c.calm && (strings.Count(r.stderr, "\n") != 1 || strings.Contains(r.stderr, "guide") || strings.Contains(r.stderr, "usbmux:")) {
				t.Errorf("not calm: %q", r.stderr)
			}
			if strings.Contains(r.stderr, "usbmux: daemon not reachable: usbmux:") {
				t.Errorf("the raw client error, unshortened: %q", r.stderr)
			}
			r = o.do(t, "status", "--json")
			var st muxJSON
			if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
				t.Fatalf("status --json: %v %q", err, r.stdout)
			}
			t.Logf("trustwatch status --json (exit %d): %s", r.code, strings.TrimSpace(r.stdout))
			if r.code != 3 || st.Usbmux.Reachable || st.Usbmux.State != c.state || st.Usbmux.Error == "" || st.Usbmux.Advice == "" || st.Devices == nil || len(st.Devices) != 0 {
				t.Errorf("exit %d, %+v", r.code, st.Usbmux)
			}
			if !strings.HasPrefix(st.Usbmux.Advice, strings.TrimSuffix(strings.SplitN(c.stderr[0], "\n", 2)[0], ".")) {
				t.Errorf("advice %q does not say what stderr says", st.Usbmux.Advice)
			}
		})
	}
}

// A running usbmuxd without a phone: exit 0, nothing on stderr.
func TestStatusNoPhoneUsbmuxdRunning(t *testing.T) {
	s := startSim(t)
	r := tw(t, s.Address(), "status")
	if r.code != 0 || r.stdout != "No iPhone connected.\n" || r.stderr != "" {
		t.Fatalf("exit %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	st, _ := statusOf(t, s.Address())
	var raw map[string]map[string]any
	json.Unmarshal([]byte(tw(t, s.Address(), "status", "--json").stdout), &raw)
	if raw["usbmux"]["state"] != "running" || raw["usbmux"]["advice"] != "" || !st.Usbmux.Reachable {
		t.Fatalf("usbmux %v", raw["usbmux"])
	}
}

// watch tells usbmuxd's state in its lines too, and the JSON line carries
// the identifier and the advice.
func TestWatchSaysUsbmuxdState(t *testing.T) {
	w := startWatch(t, "UNIX://"+filepath.Join(t.TempDir(), "usbmuxd"))
	l := w.waitFor("usbmuxd unreachable", 5*time.Second, muxReachable(false))
	u := l["usbmux"].(map[string]any)
	if s, _ := u["state"].(string); s != "not-installed" && s != "not-running" {
		t.Fatalf("state %v", u)
	}
	if a, _ := u["advice"].(string); !strings.HasPrefix(a, "usbmuxd is not") {
		t.Fatalf("advice %v", u)
	}
}
