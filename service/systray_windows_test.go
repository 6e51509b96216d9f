package service

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"fyne.io/systray"
	"golang.org/x/sys/windows/registry"
)

// helperSystrayTray is a real fyne.io/systray tray holding the lock; it
// exits 0 only through systray's own exit path (WM_CLOSE → onExit).
func helperSystrayTray() int {
	release, err := helperEnv().acquireLock()
	if err != nil {
		fmt.Fprintln(os.Stderr, "systray helper:", err)
		return 3
	}
	go func() { // never outlive a failed test
		time.Sleep(30 * time.Second)
		os.Exit(4)
	}()
	systray.Run(func() { systray.SetTooltip("trustwatch test") }, release)
	return 0
}

// underWine reports whether this Windows process runs under Wine.
func underWine() bool {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, `Software\Wine`, registry.QUERY_VALUE)
	if err != nil {
		return false
	}
	k.Close()
	return true
}

// stop closes a real systray tray politely: WM_CLOSE to its hidden window,
// so it removes its icon and exits through its own Quit path, not
// TerminateProcess.
func TestStopClosesSystrayWindow(t *testing.T) {
	if underWine() && os.Getenv("DISPLAY") == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("under Wine this test needs an X display (scripts/test-wine.sh starts Xvfb; apt-get install xvfb)")
		}
		t.Skip("SKIPPED LOUDLY: under Wine without an X display user32 cannot make windows; run scripts/test-wine.sh with Xvfb installed")
	}
	e, vars := testEnv(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	e.exe = func() (string, error) { return self, nil }
	t.Setenv("TW_SERVICE_HELPER", "systray-tray")
	for _, v := range vars {
		k, val, _ := strings.Cut(v, "=")
		t.Setenv(k, val)
	}
	out, errs, code := winVerb(t, e, "start", false)
	if code != 0 {
		t.Fatalf("start: %d %q %q", code, out, errs)
	}
	in, _ := e.probeLock()
	t.Cleanup(func() {
		if in, _ := e.probeLock(); in.running && in.pid > 0 {
			_ = forceKill(in.pid)
		}
	})
	// systray creates its window right after start; wait for it.
	deadline := time.Now().Add(10 * time.Second)
	for len(trayWindows(uint32(in.pid))) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no SystrayClass window for pid %d", in.pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
	start := time.Now()
	out, errs, code = winVerb(t, e, "stop", false)
	if code != 0 || !strings.Contains(out, "stopped") || strings.Contains(out, "forced") {
		t.Fatalf("stop: %d %q %q (want a polite stop)", code, out, errs)
	}
	t.Logf("polite stop took %s", time.Since(start))
}
