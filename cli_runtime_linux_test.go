//go:build linux

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/trustwatch/trustwatch/internal/privbus"
	"github.com/trustwatch/trustwatch/internal/sim"
)

type runtimeTray struct {
	cmd    *exec.Cmd
	stderr *strings.Builder
	done   chan struct{}
}

// startTray runs the real tray with env and waits for its IPC endpoint.
func startRuntimeTray(t *testing.T, env []string, run string) *runtimeTray {
	t.Helper()
	cmd := exec.Command(binary, "--allow-root")
	cmd.Env = env
	p := &runtimeTray{cmd: cmd, stderr: &strings.Builder{}, done: make(chan struct{})}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-p.done
		}
	})
	sock := filepath.Join(run, "trustwatch.sock")
	deadline := time.Now().Add(15 * time.Second)
	for {
		if _, err := os.Stat(sock); err == nil {
			return p
		}
		select {
		case <-p.done:
			t.Fatalf("the tray exited early: %s", p.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			if os.Getenv("TRUSTWATCH_TEST_BINARY") != "" {
				time.Sleep(2 * time.Second) // an older build without the endpoint
				return p
			}
			t.Fatalf("no IPC endpoint after 15 s: %s", p.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The session bus dies under a running tray: it quits (with an error, so
// a service manager can restart it) and releases the lock, so the next
// tray starts.
func TestTrayQuitsWhenSessionBusDies(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("dbus-daemon"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("dbus-daemon missing in CI")
		}
		t.Skip("SKIPPING: dbus-daemon not installed")
	}
	s := startSim(t)
	run, home := shortTempDir(t), shortTempDir(t)
	base := append(os.Environ(), "USBMUXD_SOCKET_ADDRESS="+s.Address(), "XDG_RUNTIME_DIR="+run, "HOME="+home,
		"XDG_STATE_HOME="+filepath.Join(home, "state"), "XDG_CACHE_HOME="+filepath.Join(home, "cache"), "DISPLAY=")
	bus, err := privbus.Start()
	if err != nil {
		t.Fatal(err)
	}
	first := startRuntimeTray(t, append(base, "DBUS_SESSION_BUS_ADDRESS="+bus.Addr), run)
	// The endpoint comes up before the tray's icon: wait until the tray is
	// on the bus (its StatusNotifierItem name), then kill the bus.
	waitBusName(t, bus.Addr, fmt.Sprintf("org.kde.StatusNotifierItem-%d-1", first.cmd.Process.Pid))
	bus.Close()
	killed := time.Now()
	select {
	case <-first.done:
		t.Logf("figures: tray exited %v after its session bus died (exit %d)", time.Since(killed).Round(time.Millisecond), first.cmd.ProcessState.ExitCode())
	case <-time.After(10 * time.Second):
		t.Fatalf("the tray still runs 10 s after its session bus died:\n%s", first.stderr.String())
	}
	if code := first.cmd.ProcessState.ExitCode(); code == 0 {
		t.Errorf("exit code 0; a lost bus is a failure (so Restart=on-failure restarts it)")
	}
	bus2, err := privbus.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer bus2.Close()
	second := startRuntimeTray(t, append(base, "DBUS_SESSION_BUS_ADDRESS="+bus2.Addr), run)
	if strings.Contains(second.stderr.String(), "already running") {
		t.Fatal("the dead tray's lock was kept")
	}
}

// A read-only $XDG_RUNTIME_DIR (a read-only tmpfs in a private mount
// namespace, since root ignores permission bits): the tray falls back to
// the next dir, serves its endpoint there, and status finds it.
func TestTrayFallsBackFromReadOnlyRuntimeDir(t *testing.T) {
	t.Parallel()
	unshare, err := exec.LookPath("unshare")
	if err != nil || os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("unshare and root are needed in CI")
		}
		t.Skip("SKIPPING: needs root and unshare (util-linux) for a read-only mount")
	}
	s := startSim(t)
	phone := s.AddDevice(sim.DeviceConfig{})
	run, home := shortTempDir(t), shortTempDir(t)
	cache := filepath.Join(home, "c")
	script := `mount -t tmpfs -o ro,mode=0700 tmpfs "$XDG_RUNTIME_DIR" && exec "$@"`
	cmd := exec.Command(unshare, "-m", "--propagation", "private", "sh", "-c", script, "sh", binary, "--allow-root")
	cmd.Env = append(os.Environ(), "USBMUXD_SOCKET_ADDRESS="+s.Address(), "XDG_RUNTIME_DIR="+run, "HOME="+home,
		"XDG_STATE_HOME="+filepath.Join(home, "state"), "XDG_CACHE_HOME="+cache, "DBUS_SESSION_BUS_ADDRESS=", "DISPLAY=")
	var errb strings.Builder
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	defer func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}()
	sock := filepath.Join(cache, "trustwatch", "trustwatch.sock")
	deadline := time.Now().Add(15 * time.Second)
	for {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		select {
		case <-done:
			t.Fatalf("the tray exited: %s", errb.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no endpoint in the fallback dir: %s", errb.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("figures: tray running with its lock and endpoint in %s", filepath.Dir(sock))
	// status, outside the namespace, finds the tray there and asks it: the
	// phone sees the tray's one Pair only.
	sc := exec.Command(binary, "status", "--json")
	sc.Env = cmd.Env
	out, err := sc.Output()
	var st statusJSON
	if err := jsonUnmarshal(out, &st); err != nil {
		t.Fatalf("status: %v %s", err, out)
	}
	if len(st.Devices) != 1 || st.Devices[0]["state"] != "trust-pending" || phone.Stats().PairRequests != 1 {
		t.Errorf("status beside the fallen-back tray: %+v, %d Pair requests", st.Devices, phone.Stats().PairRequests)
	}
}

// waitBusName polls the bus at addr until name has an owner.
func waitBusName(t *testing.T, addr, name string) {
	t.Helper()
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var has bool
		if err := conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, name).Store(&has); err == nil && has {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never appeared on the bus", name)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
