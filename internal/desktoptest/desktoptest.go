// Package desktoptest starts private desktop parts for tests: a D-Bus
// session bus, an Xvfb display, dunst, and a fake notification server that
// records every Notify call. Nothing is set globally: each helper returns
// addresses, and Env builds the environment for child processes. Every
// process is started by the test, and exactly that process is killed in
// t.Cleanup.
//
// A missing tool skips the test with a loud message, unless CI=true, where
// it fails instead.
package desktoptest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trustwatch/trustwatch/internal/privbus"
)

// Need returns the path of tool, or skips the test (fails it under CI=true).
func Need(t testing.TB, tool, aptPackage string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err == nil {
		return p
	}
	msg := fmt.Sprintf("%s is not installed (apt-get install %s)", tool, aptPackage)
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true and %s", msg)
	}
	t.Skipf("SKIPPING: %s; with CI=true this is a failure", msg)
	return ""
}

// Env returns os.Environ() with each "KEY=value" in set replacing (or
// adding) that key.
func Env(set ...string) []string {
	keys := map[string]bool{}
	for _, kv := range set {
		k, _, _ := strings.Cut(kv, "=")
		keys[k] = true
	}
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if !keys[k] {
			out = append(out, kv)
		}
	}
	return append(out, set...)
}

// lookup returns the value of key in env.
func lookup(env []string, key string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == key {
			return v
		}
	}
	return ""
}

// syncBuffer collects a child's stderr for failure messages.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b.Len() > 64<<10 {
		return len(p), nil // enough to diagnose; do not grow without bound
	}
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// proc is one started child process.
type proc struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	exited chan struct{}
	err    error // valid after exited is closed
}

// start runs cmd and registers a cleanup that kills exactly it and reaps it.
func start(t testing.TB, cmd *exec.Cmd) *proc {
	t.Helper()
	p := &proc{cmd: cmd, stderr: &syncBuffer{}, exited: make(chan struct{})}
	if cmd.Stderr == nil {
		cmd.Stderr = p.stderr
	}
	privbus.DieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", cmd.Path, err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
			return
		default:
		}
		_ = cmd.Process.Kill()
		select {
		case <-p.exited:
		case <-time.After(5 * time.Second):
			t.Errorf("%s (pid %d) did not exit after SIGKILL", cmd.Path, cmd.Process.Pid)
		}
	})
	return p
}

// readLine reads one line from r within d.
func readLine(r io.Reader, d time.Duration) (string, error) {
	type res struct {
		s   string
		err error
	}
	ch := make(chan res, 1)
	go func() {
		s, err := bufio.NewReader(r).ReadString('\n')
		ch <- res{strings.TrimSpace(s), err}
	}()
	select {
	case r := <-ch:
		if r.err != nil && r.s == "" {
			return "", r.err
		}
		return r.s, nil
	case <-time.After(d):
		return "", fmt.Errorf("no output within %v", d)
	}
}
