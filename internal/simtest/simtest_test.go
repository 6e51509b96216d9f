package simtest

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/trustwatch/trustwatch/internal/sim"
)

// An fd opened and kept is reported by number and by what it is; closing it
// (later, from another goroutine, as a peer would) ends the wait.
func TestFDsWaitAndName(t *testing.T) {
	before := FDs(t)
	f, err := os.Create(filepath.Join(t.TempDir(), "held-open"))
	if err != nil {
		t.Fatal(err)
	}
	err = waitUntil(50*time.Millisecond, fdsBack(before))
	if err == nil || !strings.Contains(err.Error(), "held-open") {
		t.Fatalf("an fd held open: %v, want an error naming held-open", err)
	}
	time.AfterFunc(100*time.Millisecond, func() { f.Close() })
	start := time.Now()
	WaitFDs(t, before)
	if d := time.Since(start); d < 90*time.Millisecond {
		t.Fatalf("WaitFDs returned after %v, before the fd was closed", d)
	}
}

// A goroutine still running is shown with its stack; its return ends the wait.
func TestGoroutinesWaitAndName(t *testing.T) {
	// The wait compares counts: let the goroutines of earlier tests (timers,
	// subtests) finish first, or one ending would hide the one started here.
	quiet(t)
	before := Goroutines()
	release := make(chan struct{})
	go func() { <-release }()
	err := waitUntil(50*time.Millisecond, goroutinesBack(before))
	if err == nil || !strings.Contains(err.Error(), "created by github.com/trustwatch/trustwatch/internal/simtest.TestGoroutinesWaitAndName") {
		t.Fatalf("a goroutine left running: %v, want its stack", err)
	}
	time.AfterFunc(100*time.Millisecond, func() { close(release) })
	WaitGoroutines(t, before)
}

// quiet waits until the goroutine count has not changed for 100 ms.
func quiet(t *testing.T) {
	n, since := runtime.NumGoroutine(), time.Now()
	EventuallyWithin(t, 3*time.Second, "a steady goroutine count", func() error {
		if m := runtime.NumGoroutine(); m != n {
			n, since = m, time.Now()
		}
		if time.Since(since) < 100*time.Millisecond {
			return errors.New("still changing")
		}
		return nil
	})
}

// Eventually gives up after its bound with the check's last word.
func TestEventuallyBound(t *testing.T) {
	start := time.Now()
	err := waitUntil(100*time.Millisecond, func() error { return errors.New("still 3 apples") })
	if d := time.Since(start); d < 100*time.Millisecond || d > 2*time.Second {
		t.Fatalf("waited %v for a 100 ms bound", d)
	}
	if err == nil || err.Error() != "still 3 apples" {
		t.Fatalf("got %v", err)
	}
	n := 0
	Eventually(t, "the third try", func() error {
		if n++; n < 3 {
			return errors.New("not yet")
		}
		return nil
	})
}

// Start gives a reachable simulator, closed when the test ends; StartAddr
// hands its address to the parser.
func TestStartAddr(t *testing.T) {
	var s *sim.Server
	var addr string
	t.Run("inner", func(t *testing.T) {
		s, addr = StartAddr(t, sim.Options{}, func(a string) (string, error) { return a, nil })
		c, err := net.DialTimeout("unix", s.SocketPath(), time.Second)
		if err != nil {
			t.Fatalf("simulator at %q unreachable: %v", addr, err)
		}
		c.Close()
	})
	if s == nil || addr != s.Address() {
		t.Fatalf("address %q, simulator %v", addr, s)
	}
	if c, err := net.DialTimeout("unix", s.SocketPath(), time.Second); err == nil {
		c.Close()
		t.Fatalf("simulator at %q still answers after its test ended", addr)
	}
}
