package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	// Re-exec target: the test binary acts as twsim.
	if os.Getenv("TWSIM_BE_MAIN") == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func TestRunQuitAndStats(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "mux.sock")
	var out, errb bytes.Buffer
	code := run([]string{"--socket", sock, "--tcp", "127.0.0.1:0", "--device", "name=Anna,state=trust-pending", "--device", "state=ready,product=iPhone14,5",
		"--script", "after 20ms tap-dont-trust @Anna; quit", "--stats"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	lines := strings.SplitN(out.String(), "\n", 3)
	if !strings.HasPrefix(lines[0], "tcp 127.0.0.1:") || lines[1] != "ready UNIX://"+sock {
		t.Fatalf("output: %q", out.String())
	}
	var stats struct {
		Usbmuxd struct{ Connections int }
		Devices map[string]struct{ Requests []string }
	}
	if err := json.Unmarshal([]byte(lines[2]), &stats); err != nil || len(stats.Devices) != 2 {
		t.Fatalf("stats: %v %q", err, lines[2])
	}
	if !strings.Contains(strings.Join(stats.Devices["00008030-001A2B3C4D5E6F70"].Requests, ","), "tap Don't Trust") {
		t.Errorf("stats of Anna: %+v", stats)
	}
	if _, err := os.Stat(sock); err == nil {
		t.Error("socket left behind")
	}
}

func TestRunUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"--nope"}, {"--device", "state=sad"}, {"--script", "dance"}, {"extra"}, {"--script", "quit", "--script-file", "x"}} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != 2 || errb.Len() == 0 {
			t.Errorf("%q: exit %d, stderr %q", args, code, errb.String())
		}
	}
	var out, errb bytes.Buffer
	if code := run([]string{"--script", "unlock @ghost"}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "ghost") {
		t.Errorf("missing target: exit %d %q", code, errb.String())
	}
}

// TestSignal runs twsim as a process, talks usbmuxd to it, and stops it
// with SIGTERM.
func TestSignal(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "mux.sock")
	cmd := exec.Command(os.Args[0], "--socket", sock, "--device", "state=ready")
	cmd.Env = append(os.Environ(), "TWSIM_BE_MAIN=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
		}
	})
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "ready ") {
				ready <- sc.Text()
			}
		}
	}()
	select {
	case line := <-ready:
		if line != "ready UNIX://"+sock {
			t.Fatalf("ready line %q", line)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no ready line")
	}
	c, err := net.DialTimeout("unix", sock, time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	c.Close()
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("twsim ignored SIGTERM")
	}
}
