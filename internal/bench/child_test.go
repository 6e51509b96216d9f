package bench

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as a fake `trustwatch watch --json` when this
// variable is set, so the child runner is tested without building trustwatch.
const fakeChildEnv = "TWBENCH_FAKE_CHILD"

func TestMain(m *testing.M) {
	switch os.Getenv(fakeChildEnv) {
	case "watch":
		fakeWatch()
		os.Exit(0)
	case "crash":
		fmt.Fprintln(os.Stderr, "fake: cannot reach usbmuxd")
		os.Exit(3)
	}
	os.Exit(m.Run())
}

func fakeWatch() {
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	fmt.Println(`{"time":"x","usbmux":{"reachable":true,"error":""}}`)
	fmt.Println("not json")
	time.Sleep(50 * time.Millisecond)
	fmt.Println(`{"time":"x","udid":"00008030-0000000000000001","name":"A","state":"probing","previous":""}`)
	fmt.Println(`{"time":"x","udid":"00008030-0000000000000001","name":"A","state":"ready","previous":"probing"}`)
	fmt.Println(`{"time":"x","udid":"00008030-0000000000000001","name":"A","previous":"ready","detached":true}`)
	<-term
}

func startFake(t *testing.T, mode string) *Child {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	c, err := StartChild(exe, []string{"-test.run=^$"}, fakeChildEnv+"="+mode)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Stop() })
	return c
}

func TestChildFollowsWatchLines(t *testing.T) {
	c := startFake(t, "watch")
	if _, err := c.WaitLine(0, 5*time.Second, func(l Line) bool { return l.Usbmux != nil && l.Usbmux.Reachable }); err != nil {
		t.Fatal(err)
	}
	// Hyphen-less UDID, as USB reports it, must match usbmuxd's form.
	l, err := c.WaitState(0, "000080300000000000000001", "ready", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if l.Previous != "probing" || l.At.IsZero() {
		t.Errorf("line = %+v", l)
	}
	if err := c.WaitDetached(0, "00008030-0000000000000001", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if got := countStates(c.Lines(0)); got != "detached ×1, probing ×1, ready ×1" {
		t.Errorf("states = %q", got)
	}
	// A state that never comes times out with what was seen.
	_, err = c.WaitState(0, "00008030-0000000000000001", "locked", 100*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "[probing ready detached]") {
		t.Errorf("err = %v", err)
	}
	if err := c.Stop(); err != nil {
		t.Errorf("Stop: %v", err)
	}
	if _, err := os.Stat(c.home); !os.IsNotExist(err) {
		t.Errorf("child's HOME %s left behind", c.home)
	}
}

func TestChildThatDiesIsReported(t *testing.T) {
	c := startFake(t, "crash")
	_, err := c.WaitState(0, "x", "ready", 5*time.Second)
	if err == nil || !strings.Contains(err.Error(), "cannot reach usbmuxd") {
		t.Errorf("err = %v, want the child's stderr", err)
	}
	if c.Alive() == nil {
		t.Error("Alive() = nil after exit")
	}
}

func TestStartChildMissingBinary(t *testing.T) {
	if _, err := StartChild("/nonexistent/trustwatch", nil); err == nil {
		t.Error("no error")
	}
	if _, err := exec.LookPath("/nonexistent/trustwatch"); err == nil {
		t.Error("test assumption broken")
	}
}
