package bench

import (
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/trustwatch/trustwatch/internal/privbus"
)

func needTool(t *testing.T, tool, pkg string) {
	t.Helper()
	if _, err := exec.LookPath(tool); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s missing (apt-get install %s)", tool, pkg)
		}
		t.Skipf("SKIPPING: %s not installed (apt-get install %s)", tool, pkg)
	}
}

func TestNotifierRecordsNotify(t *testing.T) {
	needTool(t, "dbus-daemon", "dbus")
	bus, err := privbus.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer bus.Close()
	n, err := StartNotifier(bus.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if err := waitOwner(bus.Addr, "org.freedesktop.Notifications", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	conn, err := dbus.Connect(bus.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	obj := conn.Object("org.freedesktop.Notifications", "/org/freedesktop/Notifications")
	var id uint32
	err = obj.Call("org.freedesktop.Notifications.Notify", 0, "trustwatch", uint32(0), "", "Anna's iPhone is locked", "Unlock it.",
		[]string{}, map[string]dbus.Variant{}, int32(5000)).Store(&id)
	if err != nil {
		t.Fatal(err)
	}
	calls := n.Calls()
	if id == 0 || len(calls) != 1 || calls[0].Summary != "Anna's iPhone is locked" || calls[0].Body != "Unlock it." {
		t.Fatalf("id %d, calls %+v", id, calls)
	}
	n.Reset()
	if len(n.Calls()) != 0 {
		t.Error("Reset kept calls")
	}
	// A second server cannot take the name: the bench must not count on a
	// server that is not the one the tray talks to.
	if n2, err := StartNotifier(bus.Addr); err == nil {
		n2.Close()
		t.Error("a second notifier took the name")
	}
}

func TestWaitOwnerTimesOut(t *testing.T) {
	needTool(t, "dbus-daemon", "dbus")
	bus, err := privbus.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer bus.Close()
	start := time.Now()
	if err := waitOwner(bus.Addr, "org.example.Nobody", 200*time.Millisecond); err == nil {
		t.Error("no error for a name nobody owns")
	}
	if time.Since(start) > 3*time.Second {
		t.Errorf("waitOwner overran its timeout: %v", time.Since(start))
	}
}
