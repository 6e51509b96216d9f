package desktoptest

import (
	"context"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/trustwatch/trustwatch/internal/privbus"
)

// StartBus starts a private dbus-daemon and returns its address, for
// DBUS_SESSION_BUS_ADDRESS or dbus.Connect. The daemon runs in the
// foreground (--nofork) so the test owns, kills and reaps exactly it.
func StartBus(t testing.TB) string {
	t.Helper()
	Need(t, "dbus-daemon", "dbus")
	b, err := privbus.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b.Addr
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
