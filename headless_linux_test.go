package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/trustwatch/trustwatch/internal/desktoptest"
	"github.com/trustwatch/trustwatch/internal/sim"
)

// markedProcesses lists the processes whose environment holds mark (every
// descendant of a process started with it, daemons that dbus-launch
// forked off included), as "pid comm (ppid N)".
func markedProcesses(mark string) []string {
	var out []string
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil || !bytes.Contains(env, []byte("\x00"+mark+"\x00")) && !bytes.HasPrefix(env, []byte(mark+"\x00")) {
			continue
		}
		comm, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "comm"))
		stat, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		ppid := "?"
		if i := bytes.LastIndexByte(stat, ')'); i > 0 {
			if f := strings.Fields(string(stat[i+1:])); len(f) > 1 {
				ppid = f[1]
			}
		}
		out = append(out, fmt.Sprintf("%d %s (ppid %s)", pid, strings.TrimSpace(string(comm)), ppid))
	}
	return out
}

// TestNoSessionBusStartsNone runs the tray app as over ssh: no
// DBUS_SESSION_BUS_ADDRESS, no bus in the runtime folder, dbus-launch
// installed. godbus would run dbus-launch and leave a dbus-daemon behind;
// trustwatch must start none, say so in one log line, watch headless (a
// locked phone is diagnosed) and exit cleanly on SIGTERM.
func TestNoSessionBusStartsNone(t *testing.T) {
	desktoptest.Need(t, "dbus-launch", "dbus-x11") // without it there would be nothing to prevent
	if _, err := os.Stat(fmt.Sprintf("/run/user/%d/bus", os.Getuid())); err == nil {
		t.Skipf("SKIPPING: /run/user/%d/bus exists, so this user always has a session bus", os.Getuid())
	}
	s := startSim(t)
	phone := s.AddDevice(sim.DeviceConfig{Name: "Anna's iPhone", Trusted: true, Locked: true})

	dir := t.TempDir()
	mark := fmt.Sprintf("TRUSTWATCH_HEADLESS_TEST=%d-%d", os.Getpid(), time.Now().UnixNano())
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "DBUS_SESSION_BUS_ADDRESS", "DISPLAY", "WAYLAND_DISPLAY", "XDG_RUNTIME_DIR", "HOME", "XDG_STATE_HOME", "JOURNAL_STREAM", "TRUSTWATCH_LOG":
			continue
		}
		env = append(env, kv)
	}
	env = append(env, mark, "XDG_RUNTIME_DIR="+dir, "HOME="+dir, "TRUSTWATCH_LOG=debug",
		"USBMUXD_SOCKET_ADDRESS="+s.Address())
	t.Cleanup(func() {
		// anything still marked is ours: stop it, whatever the test said
		for _, p := range markedProcesses(mark) {
			if pid, err := strconv.Atoi(strings.Fields(p)[0]); err == nil {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})

	cmd := exec.Command(binary, "--allow-root")
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	logPath := filepath.Join(dir, ".local", "state", "trustwatch", "trustwatch.log")
	readLog := func() string { b, _ := os.ReadFile(logPath); return string(b) }

	// Headless, but watching: the phone is asked whether it is locked.
	asked := func() bool {
		for _, r := range phone.Stats().Requests {
			if strings.Contains(r, "PasswordProtected") {
				return true
			}
		}
		return false
	}
	deadline := time.Now().Add(15 * time.Second)
	for !asked() {
		select {
		case err := <-exited:
			t.Fatalf("trustwatch exited early (%v); stderr:\n%s\nlog:\n%s", err, stderr.String(), readLog())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the locked phone was not diagnosed within 15 s; log:\n%s", readLog())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if running := markedProcesses(mark); len(running) != 1 || !strings.Contains(running[0], "trustwatch") {
		t.Errorf("while running, the marked processes are %v; want trustwatch alone", running)
	}
	// A notifier that tried anyway would fail (and log) within a second or
	// two of the diagnosis.
	time.Sleep(2 * time.Second)

	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v; stderr:\n%s", err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("trustwatch did not exit within 10 s of SIGTERM")
	}
	// dbus-launch's daemon would be reparented away from trustwatch:
	// look for it by the mark, until none is left (bounded).
	var left []string
	for end := time.Now().Add(3 * time.Second); ; {
		if left = markedProcesses(mark); len(left) == 0 || time.Now().After(end) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(left) > 0 {
		t.Errorf("processes left behind after trustwatch exited: %v", left)
	}

	log := readLog()
	var busLines []string
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, "session bus") || strings.Contains(l, "notifications are unavailable") || strings.Contains(l, "dbus") {
			busLines = append(busLines, l)
		}
	}
	if len(busLines) != 1 || !strings.Contains(busLines[0], "no D-Bus session bus") || !strings.Contains(busLines[0], "does not start one") {
		t.Errorf("want exactly one log line about the missing session bus, got %d:\n%s", len(busLines), strings.Join(busLines, "\n"))
	}
	if strings.Contains(log, "panic") || strings.Contains(stderr.String(), "panic") {
		t.Errorf("panic; stderr:\n%s\nlog:\n%s", stderr.String(), log)
	}
	t.Logf("the one line: %s", strings.Join(busLines, ""))
}
