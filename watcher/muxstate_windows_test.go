package watcher

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/windows"

	"github.com/trustwatch/trustwatch/watcher/engine"
	"github.com/trustwatch/trustwatch/watcher/usbmux"
)

func sc(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("sc", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("sc %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func scQuery(name string) string {
	out, _ := exec.Command("sc", "query", name).CombinedOutput()
	return strings.TrimSpace(string(out))
}

// The service control manager tells not installed, starting, running,
// stopped and disabled apart, for a service made with `sc create` (under
// Wine in CI), asked with the least access; and a refused 127.0.0.1 port is
// classified through it.
func TestServiceStatesThroughSCM(t *testing.T) {
	name := fmt.Sprintf("trustwatch-test-amds-%d", os.Getpid())
	old := appleServiceName
	appleServiceName = name
	t.Cleanup(func() { appleServiceName = old })

	// A port that refuses, as 27015 does with no Apple service.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refusing := l.Addr().String()
	l.Close()
	addr, err := usbmux.ParseAddress(refusing)
	if err != nil {
		t.Fatal(err)
	}
	refused := func() engine.MuxState {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		c, err := addr.Dial(ctx)
		if err == nil {
			c.Close()
			t.Fatalf("%s answered", refusing)
		}
		return classifyMuxFailure(err, false)
	}

	if got := refused(); got != engine.MuxNotInstalled {
		t.Fatalf("absent: %q (a refused port must reach the service manager)", got)
	}
	// A plain service process for `sc create`: the print spooler's
	// program, which Windows ships and Wine's builtin one runs as any
	// service.
	exe := filepath.Join(os.Getenv("SystemRoot"), "system32", "spoolsv.exe")
	if _, err := os.Stat(exe); err != nil {
		t.Fatalf("no service program to create a service with: %v", err)
	}
	// Wine's service manager may take a moment to show a change made by
	// sc.exe; Windows' is immediate. Each state is awaited, bounded.
	waitState := func(want engine.MuxState, what string) {
		t.Helper()
		var got engine.MuxState
		for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
			if got = daemonAbsent(); got == want {
				return
			}
		}
		t.Fatalf("%s: %q, want %q (sc query: %s)", what, got, want, scQuery(name))
	}
	sc(t, "create", name, "binPath=", `"`+exe+`"`, "start=", "demand")
	t.Cleanup(func() {
		exec.Command("sc", "stop", name).Run()
		exec.Command("sc", "delete", name).Run()
	})
	waitState(engine.MuxNotRunning, "created, stopped")
	// A fresh Wine prefix's service manager may refuse a start while it
	// still starts its own services; retried, bounded.
	for try := 1; ; try++ {
		out, err := exec.Command("sc", "start", name).CombinedOutput()
		if err == nil {
			break
		}
		if try == 20 {
			t.Fatalf("sc start %s: %v\n%s", name, err, out)
		}
		t.Logf("sc start, try %d: %v %s", try, err, strings.TrimSpace(string(out)))
		time.Sleep(500 * time.Millisecond)
	}
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		_, state, _, err := queryService(name)
		if err != nil {
			t.Fatal(err)
		}
		if state == windows.SERVICE_RUNNING {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("the test service never reported running (state %d)", state)
		}
	}
	// Running, but 27015 refuses: it is about to listen.
	if got := refused(); got != engine.MuxStarting {
		t.Fatalf("running: %q", got)
	}
	sc(t, "stop", name)
	waitState(engine.MuxNotRunning, "stopped")
	// Wine's sc has no "config": disabled is a service created so.
	sc(t, "delete", name)
	waitState(engine.MuxNotInstalled, "deleted")
	sc(t, "create", name, "binPath=", `"`+exe+`"`, "start=", "disabled")
	waitState(engine.MuxDisabled, "created disabled")
	if got := refused(); got != engine.MuxDisabled {
		t.Fatalf("disabled, through a refused port: %q", got)
	}
	sc(t, "delete", name)
	waitState(engine.MuxNotInstalled, "deleted")
}

// The Store app's process is found by name.
func TestProcessRunning(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	base := exe[strings.LastIndexAny(exe, `\/`)+1:]
	if !processRunning(base) {
		t.Fatalf("%s is running but was not found", base)
	}
	if processRunning("trustwatch-no-such-process.exe") {
		t.Fatal("found a process that does not exist")
	}
}
