package bench

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
	"time"

	"github.com/trustwatch/trustwatch/internal/privbus"
)

// Line is one line `trustwatch watch --json` printed, stamped when the
// bench read it.
type Line struct {
	At       time.Time
	UDID     string `json:"udid"`
	State    string `json:"state"`
	Previous string `json:"previous"`
	Detached bool   `json:"detached"`
	Usbmux   *struct {
		Reachable bool   `json:"reachable"`
		Error     string `json:"error"`
	} `json:"usbmux"`
}

// Child is a trustwatch process this bench started (watch or tray).
type Child struct {
	cmd    *exec.Cmd
	stderr *lockedBuffer
	done   chan struct{}
	home   string

	mu      sync.Mutex
	lines   []Line
	bad     []string // stdout lines that were not JSON
	changed chan struct{}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 1<<20 { // keep the head: the first error explains the rest
		return len(p), nil
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// StartChild runs bin with args. Its HOME and XDG directories are a fresh
// temp dir, so the tray's single-instance lock, log file and login-item
// checks never touch the real user's (or another bench's) files.
func StartChild(bin string, args []string, env ...string) (*Child, error) {
	home, err := os.MkdirTemp("", "twbench-home")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(),
		"HOME="+home,
		"XDG_RUNTIME_DIR="+home,
		"XDG_STATE_HOME="+home+"/state",
		"XDG_CONFIG_HOME="+home+"/config",
		"XDG_CACHE_HOME="+home+"/cache",
		"DISPLAY=",
	)
	cmd.Env = append(cmd.Env, env...)
	privbus.DieWithParent(cmd)
	c := &Child{cmd: cmd, stderr: &lockedBuffer{}, done: make(chan struct{}), home: home, changed: make(chan struct{})}
	cmd.Stderr = c.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		os.RemoveAll(home)
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		os.RemoveAll(home)
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go c.read(out)
	return c, nil
}

func (c *Child) read(out io.Reader) {
	defer close(c.done)
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		at := time.Now()
		var l Line
		c.mu.Lock()
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			if len(c.bad) < 100 {
				c.bad = append(c.bad, sc.Text())
			}
		} else {
			l.At = at
			c.lines = append(c.lines, l)
			close(c.changed)
			c.changed = make(chan struct{})
		}
		c.mu.Unlock()
	}
	c.cmd.Wait()
}

// Pid is the child's process id.
func (c *Child) Pid() int { return c.cmd.Process.Pid }

// Alive reports an error when the child has exited.
func (c *Child) Alive() error {
	select {
	case <-c.done:
		return fmt.Errorf("%s exited (%v); stderr: %s", c.cmd.Path, c.cmd.ProcessState, tail(c.stderr.String(), 2000))
	default:
		return nil
	}
}

// Mark is a position in the child's output: waits only look after it.
func (c *Child) Mark() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.lines)
}

// Lines returns the lines printed since mark.
func (c *Child) Lines(mark int) []Line {
	c.mu.Lock()
	defer c.mu.Unlock()
	if mark > len(c.lines) {
		return nil
	}
	return append([]Line(nil), c.lines[mark:]...)
}

// WaitLine waits for the first line after mark that satisfies ok.
func (c *Child) WaitLine(mark int, timeout time.Duration, ok func(Line) bool) (Line, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for i := mark; ; {
		c.mu.Lock()
		for ; i < len(c.lines); i++ {
			if ok(c.lines[i]) {
				l := c.lines[i]
				c.mu.Unlock()
				return l, nil
			}
		}
		changed := c.changed
		c.mu.Unlock()
		select {
		case <-changed:
		case <-c.done:
			// One more pass: lines read before the exit still count.
			c.mu.Lock()
			n := len(c.lines)
			c.mu.Unlock()
			if i < n {
				continue
			}
			return Line{}, c.Alive()
		case <-deadline.C:
			return Line{}, fmt.Errorf("no matching line within %v", timeout)
		}
	}
}

// WaitState waits for udid to reach state after mark.
func (c *Child) WaitState(mark int, udid, state string, timeout time.Duration) (Line, error) {
	l, err := c.WaitLine(mark, timeout, func(l Line) bool { return SameUDID(l.UDID, udid) && l.State == state })
	if err != nil {
		return l, fmt.Errorf("%s: no %q: %w (saw %s)", udid, state, err, c.statesOf(mark, udid))
	}
	return l, nil
}

// WaitDetached waits for udid's detached line after mark.
func (c *Child) WaitDetached(mark int, udid string, timeout time.Duration) error {
	_, err := c.WaitLine(mark, timeout, func(l Line) bool { return SameUDID(l.UDID, udid) && l.Detached })
	if err != nil {
		return fmt.Errorf("%s: not reported detached: %w", udid, err)
	}
	return nil
}

func (c *Child) statesOf(mark int, udid string) string {
	var s []string
	for _, l := range c.Lines(mark) {
		if SameUDID(l.UDID, udid) {
			if l.Detached {
				s = append(s, "detached")
			} else {
				s = append(s, l.State)
			}
		}
	}
	return "[" + strings.Join(s, " ") + "]"
}

// Stop asks the child to quit (SIGTERM), kills it after 5 s, and waits.
func (c *Child) Stop() error {
	defer os.RemoveAll(c.home)
	select {
	case <-c.done:
		return nil
	default:
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
		return nil
	case <-time.After(5 * time.Second):
	}
	c.cmd.Process.Kill()
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
	}
	return fmt.Errorf("%s ignored SIGTERM for 5 s and was killed", c.cmd.Path)
}

// Stderr is what the child wrote to stderr so far.
func (c *Child) Stderr() string { return c.stderr.String() }

// SameUDID compares usbmuxd's hyphenated and USB's plain serials.
func SameUDID(a, b string) bool {
	norm := func(s string) string { return strings.ToUpper(strings.ReplaceAll(s, "-", "")) }
	return norm(a) == norm(b)
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
