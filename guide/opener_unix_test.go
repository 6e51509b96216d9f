//go:build !windows

package guide

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fakeLauncher puts an executable script called name first on PATH. It
// writes each argument it gets on its own line to the returned file, then
// runs tail (shell code) so the test can make it fail or linger.
func fakeLauncher(t *testing.T, name, tail string) (argsFile string) {
	t.Helper()
	dir := t.TempDir()
	argsFile = filepath.Join(dir, "args")
	script := "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done > '" + argsFile + "'\n" + tail + "\n"
	if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return argsFile
}

func launcherName() string {
	if runtime.GOOS == "darwin" {
		return "open"
	}
	return "xdg-open"
}

// The default opener passes the URL as one argument, untouched: no shell
// sees it, so spaces, quotes, ; and $ cannot do anything.
func TestDefaultOpenerPassesURLAsOneArgument(t *testing.T) {
	argsFile := fakeLauncher(t, launcherName(), "exit 0")
	u := "https://example.invalid/a b?q=1;echo $HOME 'x' \"y\" `z`#step-3"
	if err := defaultOpener(u); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(argsFile)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != u+"\n" {
		t.Errorf("launcher got %q, want exactly %q", b, u+"\n")
	}
}

// A file URL's fragment reaches the browser through the redirect page,
// because launchers may drop it.
func TestDefaultOpenerUsesRedirectForFragments(t *testing.T) {
	argsFile := fakeLauncher(t, launcherName(), "exit 0")
	dir := t.TempDir()
	page := filepath.Join(dir, "guide.html")
	if err := defaultOpener(fileURL(page, "step-3")); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(argsFile)
	if want := fileURL(filepath.Join(dir, "guide-open.html"), "") + "\n"; string(b) != want {
		t.Errorf("launcher got %q, want %q", b, want)
	}
	stub, err := os.ReadFile(filepath.Join(dir, "guide-open.html"))
	if err != nil || !strings.Contains(string(stub), `content="0; url=guide.html#step-3"`) {
		t.Errorf("redirect page %q (%v)", stub, err)
	}
}

func TestDefaultOpenerReportsFailure(t *testing.T) {
	fakeLauncher(t, launcherName(), "echo 'no method available for opening' >&2; exit 3")
	err := defaultOpener("file:///x/guide.html")
	if err == nil || !strings.Contains(err.Error(), "no method available") || !strings.Contains(err.Error(), "exit status 3") {
		t.Errorf("error = %v, want the launcher's message and status", err)
	}
}

func TestDefaultOpenerMissingLauncher(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	err := defaultOpener("file:///x/guide.html")
	if err == nil || !strings.Contains(err.Error(), launcherName()+" is not available") {
		t.Errorf("error = %v, want a clear 'not available'", err)
	}
}

// A launcher that keeps running (some do until the browser exits) and
// holds our pipes through a child must not block Open.
func TestDefaultOpenerDoesNotWaitForLingeringLauncher(t *testing.T) {
	old := openerWait
	openerWait = 300 * time.Millisecond
	defer func() { openerWait = old }()
	pidFile := filepath.Join(t.TempDir(), "pids")
	fakeLauncher(t, launcherName(), "sleep 30 & echo $! > '"+pidFile+"'; echo $$ >> '"+pidFile+"'; exec sleep 30")
	t.Cleanup(func() {
		// Stop exactly the two sleeps the fake launcher started.
		b, _ := os.ReadFile(pidFile)
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil && pid > 1 {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	start := time.Now()
	if err := defaultOpener("file:///x/guide.html"); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > openerWait+2*time.Second {
		t.Errorf("opener blocked for %v", d)
	}
	if b, _ := os.ReadFile(pidFile); len(strings.Fields(string(b))) != 2 {
		t.Errorf("fake launcher did not run as expected: pids %q", b)
	}
}
