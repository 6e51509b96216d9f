package main

import (
	"bufio"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/trustwatch/trustwatch/internal/desktoptest"
)

// `trustwatch demo` at normal speed, the real binary on a private bus with
// the recording notification server: Anna's story is told step by step in
// one bubble ("asking to trust" within the watcher's unlock poll and 1 s,
// "now trusts" within 1 s of the tap), then Ben's charge-only cable and
// Chris's "Don't Trust".
func TestDemoAtNormalSpeed(t *testing.T) {
	t.Parallel()
	bus := desktoptest.StartBus(t)
	srv := desktoptest.FakeNotificationServer(t, bus)
	home := t.TempDir()
	cmd := exec.Command(binary, "demo", "--allow-root")
	cmd.Env = desktoptest.Env("DBUS_SESSION_BUS_ADDRESS="+bus, "HOME="+home, "XDG_CONFIG_HOME="+home+"/config",
		"XDG_STATE_HOME="+home+"/state", "XDG_CACHE_HOME="+home+"/cache", "DISPLAY=")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	var mu sync.Mutex
	said := map[string]time.Time{}
	over := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			now := time.Now()
			mu.Lock()
			said[sc.Text()] = now
			mu.Unlock()
			if strings.Contains(sc.Text(), "the story is over") {
				close(over)
			}
		}
	}()
	select {
	case <-over:
	case <-time.After(60 * time.Second):
		t.Fatalf("the demo never finished its story; stderr:\n%s", stderr.String())
	}
	time.Sleep(time.Second)
	_ = cmd.Process.Signal(syscall.SIGTERM)
	when := func(prefix string) time.Time {
		mu.Lock()
		defer mu.Unlock()
		for l, at := range said {
			if strings.HasPrefix(l, "demo: "+prefix) {
				return at
			}
		}
		t.Fatalf("the demo never said %q", prefix)
		return time.Time{}
	}
	calls := srv.Calls()
	find := func(summary string) desktoptest.NotifyCall {
		for _, c := range calls {
			if c.Summary == summary {
				return c
			}
		}
		var got []string
		for _, c := range calls {
			got = append(got, c.Summary)
		}
		t.Fatalf("no %q notification; got %q", summary, got)
		return desktoptest.NotifyCall{}
	}
	locked := find("Anna's iPhone is locked")
	asking := find("Anna's iPhone is asking to trust this computer")
	trusts := find("Anna's iPhone now trusts this computer")
	if asking.ReplacesID != locked.ID || trusts.ReplacesID != locked.ID {
		t.Errorf("Anna's story is not one bubble: ids %d, %d←%d, %d←%d", locked.ID, asking.ID, asking.ReplacesID, trusts.ID, trusts.ReplacesID)
	}
	lag := func(what string, d, limit time.Duration) {
		t.Logf("%s: %v", what, d.Round(time.Millisecond))
		if d < 0 || d > limit {
			t.Errorf("%s took %v, want 0..%v", what, d, limit)
		}
	}
	lag("plug → \"is locked\"", locked.At.Sub(when("Anna plugs in")), time.Second)
	lag("unlock → \"asking to trust\"", asking.At.Sub(when("Anna unlocks it")), 1500*time.Millisecond)
	lag("Trust tap → \"now trusts\"", trusts.At.Sub(when("Anna taps Trust")), time.Second)
	find("iPhone is only charging") // no data link: its name is unknowable
	if c := find("\"Don't Trust\" was tapped on Chris's iPhone"); c.At.Sub(when("Chris plugs in")) > time.Second {
		t.Errorf("Chris told %v after his plug", c.At.Sub(when("Chris plugs in")))
	}
}
