package desktoptest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

func TestFakeServerRecordsAndEmits(t *testing.T) {
	addr := StartBus(t)
	srv := FakeNotificationServer(t, addr)
	conn := Connect(t, addr)

	if err := conn.AddMatchSignal(dbus.WithMatchInterface(notifIface)); err != nil {
		t.Fatal(err)
	}
	sigs := make(chan *dbus.Signal, 4)
	conn.Signal(sigs)

	obj := conn.Object(notifName, notifPath)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var caps []string
	if err := obj.CallWithContext(ctx, notifIface+".GetCapabilities", 0).Store(&caps); err != nil {
		t.Fatal(err)
	}
	if len(caps) != 2 || caps[1] != "actions" {
		t.Fatalf("caps = %v", caps)
	}
	var id uint32
	err := obj.CallWithContext(ctx, notifIface+".Notify", 0, "app", uint32(0), "", "S", "B",
		[]string{"k", "Label"}, map[string]dbus.Variant{"urgency": dbus.MakeVariant(byte(1))}, int32(-1)).Store(&id)
	if err != nil {
		t.Fatal(err)
	}
	calls := srv.WaitCalls(t, 1, time.Second)
	c := calls[0]
	if c.ID != id || c.AppName != "app" || c.Summary != "S" || c.Body != "B" || len(c.ActionKeys()) != 1 || c.Hints["urgency"].Value() != byte(1) {
		t.Fatalf("recorded %+v (id %d)", c, id)
	}
	if err := srv.InvokeAction(id, "k"); err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-sigs:
		if s.Name != notifIface+".ActionInvoked" || s.Body[0] != id || s.Body[1] != "k" {
			t.Fatalf("signal %+v", s)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("no ActionInvoked signal")
	}
}

// The private bus has no service directories: with no server running,
// Notify fails at once instead of activating whatever is installed.
func TestPrivateBusActivatesNothing(t *testing.T) {
	addr := StartBus(t)
	conn := Connect(t, addr)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	err := conn.Object(notifName, notifPath).CallWithContext(ctx, notifIface+".GetCapabilities", 0).Err
	if err == nil {
		t.Fatal("GetCapabilities succeeded with no server on the bus")
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("took %v to fail", d)
	}
}

// dunst under Xvfb owns the name and answers like a real server.
func TestXvfbAndDunst(t *testing.T) {
	t0 := time.Now()
	addr := StartBus(t)
	t1 := time.Now()
	display := StartXvfb(t)
	t2 := time.Now()
	StartDunst(t, Env("DISPLAY="+display, "DBUS_SESSION_BUS_ADDRESS="+addr))
	t.Logf("bus %v, Xvfb %v, dunst %v", t1.Sub(t0), time.Since(t1)-time.Since(t2), time.Since(t2))
	conn := Connect(t, addr)
	ok, err := HasOwner(conn, notifName)
	if err != nil || !ok {
		t.Fatalf("owner: %v %v", ok, err)
	}
	if _, err := exec.LookPath("notify-send"); err == nil {
		cmd := exec.Command("notify-send", "-t", "1000", "desktoptest", "hello")
		cmd.Env = Env("DISPLAY="+display, "DBUS_SESSION_BUS_ADDRESS="+addr)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("notify-send against dunst: %v: %s", err, out)
		}
	}
}

// A test binary killed with SIGKILL (no cleanups) takes its bus with it.
func TestChildrenDieWithTheTestBinary(t *testing.T) {
	if os.Getenv("DESKTOPTEST_CHILD") == "1" {
		addr := StartBus(t)
		fmt.Println("ADDR", addr)
		time.Sleep(time.Minute) // killed long before
		return
	}
	Need(t, "dbus-daemon", "dbus")
	if runtime.GOOS != "linux" {
		t.Skip("Pdeathsig is Linux-only")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestChildrenDieWithTheTestBinary$", "-test.v")
	cmd.Env = Env("DESKTOPTEST_CHILD=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	sc := bufio.NewScanner(out)
	var addr string
	deadline := time.AfterFunc(10*time.Second, func() { cmd.Process.Kill() })
	defer deadline.Stop()
	for sc.Scan() {
		if a, ok := strings.CutPrefix(sc.Text(), "ADDR "); ok {
			addr = a
			break
		}
	}
	if addr == "" {
		t.Fatal("child printed no bus address")
	}
	conn := Connect(t, addr)
	if ok, err := HasOwner(conn, "org.freedesktop.DBus"); err != nil || !ok {
		t.Fatalf("bus not up: %v", err)
	}
	conn.Close()
	cmd.Process.Kill()
	cmd.Wait()
	for i := 0; ; i++ {
		c, err := dbus.Connect(addr)
		if err != nil {
			return // the daemon is gone
		}
		c.Close()
		if i == 100 {
			t.Fatal("the bus outlived the killed test binary by 5 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
