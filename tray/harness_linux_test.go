package tray

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/trustwatch/trustwatch/internal/desktoptest"
)

// child is the tray app under test, in its own process.
type child struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	events chan event
	exited chan struct{}
	err    error

	mu     sync.Mutex
	stderr bytes.Buffer
}

func (c *child) Stderr() string { c.mu.Lock(); defer c.mu.Unlock(); return c.stderr.String() }

type lockedWriter struct{ c *child }

func (w lockedWriter) Write(p []byte) (int, error) {
	w.c.mu.Lock()
	defer w.c.mu.Unlock()
	return w.c.stderr.Write(p)
}

// startChild re-runs this test binary as a tray app with env.
func startChild(t *testing.T, mode string, env []string) *child {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	// Under -race, fyne.io/systray v1.12.2 and godbus race internally (the
	// firstGetLayoutDone flag; prop.SetMust writing a value a reply is
	// still encoding). The child keeps a zero exit code, and checkRaces
	// fails the test only for races made by trustwatch's own code.
	cmd.Env = append(append([]string{}, env...), childEnv+"="+mode, "GORACE=exitcode=0")
	// killed with the test binary if it dies without cleanups (timeout)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	c := &child{t: t, cmd: cmd, events: make(chan event, 64), exited: make(chan struct{})}
	cmd.Stderr = lockedWriter{c}
	if c.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var e event
			if json.Unmarshal(sc.Bytes(), &e) == nil {
				c.events <- e
			}
		}
		c.err = cmd.Wait()
		close(c.exited)
	}()
	t.Cleanup(func() {
		defer c.checkRaces()
		select {
		case <-c.exited:
			return
		default:
		}
		_ = cmd.Process.Kill()
		select {
		case <-c.exited:
		case <-time.After(5 * time.Second):
			t.Errorf("tray child %d did not exit after SIGKILL", cmd.Process.Pid)
		}
	})
	return c
}

// checkRaces fails the test for every race report in the child's stderr
// where one of the two racing accesses is made by trustwatch's own code:
// the first frame of its stack outside runtime, reflect and sync. (Races
// inside systray or godbus list our functions further down, as callers.)
func (c *child) checkRaces() {
	reports := strings.Split(c.Stderr(), "WARNING: DATA RACE")
	for _, r := range reports[1:] {
		if end := strings.Index(r, "=================="); end >= 0 {
			r = r[:end]
		}
		if racyFrameIsOurs(r) {
			c.t.Errorf("data race in trustwatch code:%s", r)
		}
	}
}

func racyFrameIsOurs(report string) bool {
	inAccess := false
	for _, l := range strings.Split(report, "\n") {
		l = strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(l, "Write at") || strings.HasPrefix(l, "Read at") ||
			strings.HasPrefix(l, "Previous write at") || strings.HasPrefix(l, "Previous read at"):
			inAccess = true
		case !inAccess || l == "" || strings.HasPrefix(l, "/"):
		case strings.HasPrefix(l, "runtime.") || strings.HasPrefix(l, "reflect.") || strings.HasPrefix(l, "sync.") || strings.HasPrefix(l, "internal/"):
		default:
			if strings.HasPrefix(l, "github.com/trustwatch/trustwatch/") {
				return true
			}
			inAccess = false // the first real frame of this access is not ours
		}
	}
	return false
}

func (c *child) send(m wireMsg) {
	c.t.Helper()
	b, _ := json.Marshal(m)
	if _, err := c.stdin.Write(append(b, '\n')); err != nil {
		c.t.Fatalf("write to tray child: %v; stderr:\n%s", err, c.Stderr())
	}
}

// expect waits for the next event named ev, skipping others, and fails
// the test after d.
func (c *child) expect(ev string, d time.Duration) event {
	c.t.Helper()
	timeout := time.After(d)
	for {
		select {
		case e := <-c.events:
			if e.Ev == ev {
				return e
			}
		case <-c.exited:
			// the reader closes exited after the last event: drain first
			for {
				select {
				case e := <-c.events:
					if e.Ev == ev {
						return e
					}
					continue
				default:
				}
				break
			}
			c.t.Fatalf("tray child exited (%v) while waiting for %s; stderr:\n%s", c.err, ev, c.Stderr())
		case <-timeout:
			c.t.Fatalf("no %s event from the tray child within %v; stderr:\n%s", ev, d, c.Stderr())
		}
	}
}

// expectAll waits for one event of each name, in any order.
func (c *child) expectAll(d time.Duration, evs ...string) map[string]event {
	c.t.Helper()
	got := map[string]event{}
	timeout := time.After(d)
	for len(got) < len(evs) {
		select {
		case e := <-c.events:
			for _, want := range evs {
				if e.Ev == want {
					if _, dup := got[want]; !dup {
						got[want] = e
					}
				}
			}
		case <-c.exited:
			c.t.Fatalf("tray child exited (%v) while waiting for %v; stderr:\n%s", c.err, evs, c.Stderr())
		case <-timeout:
			c.t.Fatalf("only %v of %v from the tray child within %v; stderr:\n%s", got, evs, d, c.Stderr())
		}
	}
	return got
}

// quiet asserts that no event arrives for d (e.g. no second Pair).
func (c *child) quiet(d time.Duration, ev string) {
	c.t.Helper()
	timeout := time.After(d)
	for {
		select {
		case e := <-c.events:
			if e.Ev == ev {
				c.t.Errorf("unexpected %s event: %+v", ev, e)
			}
		case <-timeout:
			return
		}
	}
}

func (c *child) waitExit(d time.Duration) error {
	c.t.Helper()
	select {
	case <-c.exited:
		return c.err
	case <-time.After(d):
		c.t.Fatalf("tray child did not exit within %v; stderr:\n%s", d, c.Stderr())
		return nil
	}
}

func (c *child) signal(s syscall.Signal) { _ = c.cmd.Process.Signal(s) }

// itemName is the bus name fyne.io/systray requests for a process.
func itemName(pid int) string { return fmt.Sprintf("org.kde.StatusNotifierItem-%d-1", pid) }

// waitItem waits until the child's StatusNotifierItem is exported and
// returns its unique bus name.
func waitItem(t *testing.T, conn *dbus.Conn, c *child, d time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		owner, err := desktoptest.OwnerOf(conn, itemName(c.cmd.Process.Pid))
		if err == nil && owner != "" {
			return owner
		}
		select {
		case <-c.exited:
			t.Fatalf("tray child exited (%v); stderr:\n%s", c.err, c.Stderr())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("tray item not on the bus after %v: %v; stderr:\n%s", d, err, c.Stderr())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitMenu polls the menu until ok accepts it.
func waitMenu(t *testing.T, conn *dbus.Conn, dest string, d time.Duration, what string, ok func(*desktoptest.MenuNode) bool) *desktoptest.MenuNode {
	t.Helper()
	deadline := time.Now().Add(d)
	var last *desktoptest.MenuNode
	var lastErr error
	for time.Now().Before(deadline) {
		m, err := desktoptest.MenuLayout(conn, dest)
		if err == nil && ok(m) {
			return m
		}
		last, lastErr = m, err
		time.Sleep(30 * time.Millisecond)
	}
	t.Fatalf("menu never showed %s within %v (last error %v); last menu:\n%v", what, d, lastErr, last)
	return nil
}

// statusIs accepts a complete menu (the tray adds items in order, Quit
// last, so a read during a rebuild can see only the first few) whose
// status line is want.
func statusIs(want string) func(*desktoptest.MenuNode) bool {
	return func(m *desktoptest.MenuNode) bool {
		return complete(m) && m.Children[0].Label() == want
	}
}

func complete(m *desktoptest.MenuNode) bool {
	n := len(m.Children)
	return n > 0 && m.Children[n-1].Label() == QuitLabel("linux")
}

func linesWith(s, substr string) int {
	n := 0
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			n++
		}
	}
	return n
}

func TestRacyFrameIsOurs(t *testing.T) {
	ours := "\n  Write at 0x1 by goroutine 3:\n      runtime.x()\n      /usr/src/a.go:1\n      github.com/trustwatch/trustwatch/tray.(*shell).render()\n      /w/run.go:3\n\n  Previous read at 0x1 by goroutine 4:\n      fyne.io/systray.f()\n"
	theirs := "\n  Write at 0x1 by goroutine 3:\n      reflect.Value.Set()\n      github.com/godbus/dbus/v5.setDest()\n      github.com/trustwatch/trustwatch/tray.setIcon()\n\n  Previous read at 0x1 by goroutine 4:\n      fyne.io/systray.(*tray).GetLayout()\n\n  Goroutine 3 (running) created at:\n      github.com/trustwatch/trustwatch/tray.(*shell).onReady()\n"
	if !racyFrameIsOurs(ours) {
		t.Error("a race whose access is in tray code was not flagged")
	}
	if racyFrameIsOurs(theirs) {
		t.Error("a race inside godbus/systray was blamed on tray code")
	}
}
