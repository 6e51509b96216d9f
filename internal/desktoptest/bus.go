package desktoptest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// busConfig is a session bus with no service directories, so nothing is
// ever auto-activated (dunst and xfce4-notifyd install activation files that
// would otherwise race the server a test starts itself).
const busConfig = `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=%s</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`

// StartBus starts a private dbus-daemon and returns its address, for
// DBUS_SESSION_BUS_ADDRESS or dbus.Connect. The daemon runs in the
// foreground (--nofork) so the test owns, kills and reaps exactly it.
func StartBus(t testing.TB) string {
	t.Helper()
	bin := Need(t, "dbus-daemon", "dbus")
	// Short path: unix socket paths are limited to 108 bytes.
	dir, err := os.MkdirTemp("", "twbus")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	conf := filepath.Join(dir, "bus.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(busConfig, dir)), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config-file="+conf, "--nofork", "--print-address=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := start(t, cmd)
	addr, err := readLine(out, 5*time.Second)
	if err != nil || addr == "" {
		t.Fatalf("dbus-daemon gave no address: %v; stderr: %s", err, p.stderr)
	}
	return addr
}

// Connect opens a private connection to the bus at addr, closed at cleanup.
func Connect(t testing.TB, addr string) *dbus.Conn {
	t.Helper()
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatalf("connect to %s: %v", addr, err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// HasOwner asks the bus whether name is owned, within 1 s.
func HasOwner(conn *dbus.Conn, name string) (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	var ok bool
	err := conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, name).Store(&ok)
	return ok, err
}

// WaitForName polls NameHasOwner every 50 ms until name is owned, or fails
// the test after timeout. alive, when not nil, reports the owner's process
// died so the wait can stop early with its stderr.
func WaitForName(t testing.TB, addr, name string, timeout time.Duration, alive func() error) {
	t.Helper()
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatalf("connect to %s: %v", addr, err)
	}
	defer conn.Close()
	deadline := time.Now().Add(timeout)
	for {
		ok, err := HasOwner(conn, name)
		if err == nil && ok {
			return
		}
		if alive != nil {
			if err := alive(); err != nil {
				t.Fatalf("waiting for %s: %v", name, err)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not owned on the bus after %v (last error: %v)", name, timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// WaitForNameGone polls every 50 ms until name has no owner, or fails the
// test after timeout.
func WaitForNameGone(t testing.TB, addr, name string, timeout time.Duration) {
	t.Helper()
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatalf("connect to %s: %v", addr, err)
	}
	defer conn.Close()
	deadline := time.Now().Add(timeout)
	for {
		ok, err := HasOwner(conn, name)
		if err == nil && !ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still owned after %v (err %v)", name, timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
