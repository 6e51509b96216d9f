//go:build linux || darwin || windows

package service

import (
	"bufio"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Two processes: while a helper holds the lock, acquiring fails with
// ErrAlreadyRunning and status sees the holder's pid; after it lets go (or
// dies), acquiring succeeds.
func TestInstanceLockTwoProcesses(t *testing.T) {
	e, vars := testEnv(t)

	for _, how := range []string{"release", "killed"} {
		t.Run(how, func(t *testing.T) {
			cmd := helperCmd(t, "hold-lock", vars...)
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			waited := false
			t.Cleanup(func() {
				if !waited {
					_ = cmd.Process.Kill()
					_ = cmd.Wait()
				}
			})
			line := readLine(t, bufio.NewReader(out), 20*time.Second)
			f := strings.Fields(line)
			if len(f) != 2 || f[0] != "locked" {
				t.Fatalf("helper said %q, want \"locked <pid>\"", line)
			}
			pid, _ := strconv.Atoi(f[1])

			start := time.Now()
			release, err := e.acquireLock()
			if !errors.Is(err, ErrAlreadyRunning) {
				if release != nil {
					release()
				}
				t.Fatalf("second acquire: err = %v, want ErrAlreadyRunning", err)
			}
			t.Logf("second acquire refused in %s", time.Since(start))
			in, err := e.probeLock()
			if err != nil || !in.running || in.pid != pid {
				t.Fatalf("probe = %+v, %v; want running with pid %d", in, err, pid)
			}

			if how == "release" {
				stdin.Close()
			} else {
				_ = cmd.Process.Kill()
			}
			_ = cmd.Wait()
			waited = true

			in, err = e.waitInstance(false, 5*time.Second)
			if err != nil || in.running {
				t.Fatalf("after the helper ended: probe = %+v, %v", in, err)
			}
			release, err = e.acquireLock()
			if err != nil {
				t.Fatalf("acquire after the holder ended: %v", err)
			}
			// A second acquire in the same process must fail too.
			if r2, err := e.acquireLock(); !errors.Is(err, ErrAlreadyRunning) {
				if r2 != nil {
					r2()
				}
				t.Fatalf("same-process second acquire: %v, want ErrAlreadyRunning", err)
			}
			release()
			release() // idempotent
			if in, _ := e.probeLock(); in.running {
				t.Fatal("lock still held after release")
			}
		})
	}
}
