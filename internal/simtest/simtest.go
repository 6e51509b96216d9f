// Package simtest is the scaffolding shared by the tests that drive the
// simulator (internal/sim) or check what a test leaves behind: a simulator
// started for one test, contexts bound to the test, and waits that poll
// until the condition they assert holds — within a bound, failing with one
// message that names what still differs.
//
// Counting fds or goroutines at one instant is a flake: the far end of a
// socket (the simulator or a fake daemon in this same process) closes a
// moment after our end does, and a goroutine returns a moment after its
// work is done. Every such check here waits for what it checks.
//
// It imports the simulator but nothing from the product, so any package's
// tests (usbmux's own included) can use it without an import cycle.
package simtest

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trustwatch/trustwatch/internal/sim"
)

// Bound is how long a wait polls before it fails the test. Sockets close
// and goroutines return within milliseconds when nothing is wrong; the
// bound only has to outlast a loaded 2-core machine running -race, and it
// costs nothing on a green run.
const Bound = 5 * time.Second

// poll is how often a wait re-checks.
const poll = 10 * time.Millisecond

// Start starts a simulator that is closed when the test ends. With
// TW_SIM_LOG set and no Logf of its own, the simulator logs into the test.
func Start(t testing.TB, opts sim.Options) *sim.Server {
	t.Helper()
	if opts.Logf == nil && os.Getenv("TW_SIM_LOG") != "" {
		opts.Logf = t.Logf
	}
	s, err := sim.Start(opts)
	if err != nil {
		t.Fatalf("sim.Start: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// StartAddr is Start, with the simulator's address parsed by parse
// (usbmux.ParseAddress: passed in, so this package imports no product code).
func StartAddr[A any](t testing.TB, opts sim.Options, parse func(string) (A, error)) (*sim.Server, A) {
	t.Helper()
	s := Start(t, opts)
	a, err := parse(s.Address())
	if err != nil {
		t.Fatalf("simulator address %q: %v", s.Address(), err)
	}
	return s, a
}

// Ctx is a context that expires after d or when the test ends.
func Ctx(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// Eventually polls check until it returns nil, and fails the test after
// Bound with what it was waiting for and check's last answer (which should
// say what still differs).
func Eventually(t testing.TB, what string, check func() error) {
	t.Helper()
	EventuallyWithin(t, Bound, what, check)
}

// EventuallyWithin is Eventually with its own bound.
func EventuallyWithin(t testing.TB, bound time.Duration, what string, check func() error) {
	t.Helper()
	if err := waitUntil(bound, check); err != nil {
		t.Fatalf("after %v, still waiting for %s: %v", bound, what, err)
	}
}

// waitUntil is the loop under every wait: nil once check holds, else
// check's last error after bound.
func waitUntil(bound time.Duration, check func() error) error {
	deadline := time.Now().Add(bound)
	for {
		err := check()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(poll)
	}
}

// FDSet is this process's open file descriptors at one moment: fd number →
// what it points at ("socket:[123]", "/dev/bus/usb/001/002", …).
type FDSet map[int]string

// FDs lists this process's open fds. It skips the test where /proc/self/fd
// cannot be read (not Linux).
func FDs(t testing.TB) FDSet {
	t.Helper()
	s, err := readFDs()
	if err != nil {
		t.Skipf("cannot count fds: %v", err)
	}
	return s
}

func readFDs() (FDSet, error) {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return nil, err
	}
	s := make(FDSet, len(ents))
	for _, e := range ents {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		target, _ := os.Readlink("/proc/self/fd/" + e.Name()) // empty for the directory's own fd, closed by now
		s[n] = target
	}
	return s, nil
}

// Count is how many fds are open (the directory listing's own fd included,
// in every sample alike).
func (s FDSet) Count() int { return len(s) }

// newSince describes the fds in s that were not open (as the same thing) in
// before: "7 socket:[4242], 9 /tmp/x".
func (s FDSet) newSince(before FDSet) string {
	var fds []int
	for fd, target := range s {
		if was, ok := before[fd]; !ok || was != target {
			fds = append(fds, fd)
		}
	}
	slices.Sort(fds)
	var parts []string
	for _, fd := range fds {
		parts = append(parts, fmt.Sprintf("%d %s", fd, s[fd]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// WaitFDs waits until no more fds are open than in before, and fails the
// test naming the fds opened since.
func WaitFDs(t testing.TB, before FDSet) {
	t.Helper()
	Eventually(t, fmt.Sprintf("open fds back to %d", before.Count()), fdsBack(before))
}

func fdsBack(before FDSet) func() error {
	return func() error {
		now, err := readFDs()
		if err != nil {
			return err
		}
		if now.Count() <= before.Count() {
			return nil
		}
		return fmt.Errorf("%d open; new since: %s", now.Count(), now.newSince(before))
	}
}

// GoroutineSet is the goroutines running at one moment, by id (ids are
// never reused, so a new id is a goroutine started since).
type GoroutineSet struct {
	ids map[string]bool
	n   int // runtime.NumGoroutine, what the wait compares
}

// Goroutines lists the running goroutines.
func Goroutines() GoroutineSet {
	g := GoroutineSet{ids: map[string]bool{}, n: runtime.NumGoroutine()}
	for _, st := range stacks() {
		g.ids[goroutineID(st)] = true
	}
	return g
}

// WaitGoroutines waits until no more goroutines run than in before, and
// fails the test with the stacks of the goroutines started since.
func WaitGoroutines(t testing.TB, before GoroutineSet) {
	t.Helper()
	Eventually(t, fmt.Sprintf("goroutines back to %d", before.n), goroutinesBack(before))
}

func goroutinesBack(before GoroutineSet) func() error {
	return func() error {
		n := runtime.NumGoroutine()
		if n <= before.n {
			return nil
		}
		var added []string
		for _, st := range stacks() {
			if !before.ids[goroutineID(st)] {
				added = append(added, st)
			}
		}
		return fmt.Errorf("%d running; started since:\n%s", n, strings.Join(added, "\n\n"))
	}
}

// stacks is every goroutine's stack, one string each.
func stacks() []string {
	buf := make([]byte, 1<<16)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Split(strings.TrimSpace(string(buf[:n])), "\n\n")
		}
		buf = make([]byte, 2*len(buf))
	}
}

// goroutineID is "17" from a stack starting "goroutine 17 [running]:".
func goroutineID(stack string) string {
	f := strings.Fields(stack)
	if len(f) < 2 {
		return stack
	}
	return f[1]
}
