//go:build linux

package main

// At most one Pair per plug whatever mix of trustwatch processes runs:
// several `status` at once, one after another, and beside a running tray
// (which `status` asks instead of probing).

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trustwatch/trustwatch/internal/sim"
)

func sumPairs(devs []*sim.Device) int {
	n := 0
	for _, d := range devs {
		n += d.Stats().PairRequests
	}
	return n
}

func TestOnePairPerPlugAcrossProcesses(t *testing.T) {
	t.Parallel()
	s := startSim(t)
	d := s.AddDevice(sim.DeviceConfig{Name: "Anna's iPhone"})
	env := []string{"USBMUXD_SOCKET_ADDRESS=" + s.Address()}
	run := shortTempDir(t)
	status := func() statusJSON {
		cmd := exec.Command(binary, "status", "--json")
		cmd.Env = append(append(os.Environ(), "XDG_RUNTIME_DIR="+run), env...)
		out, err := cmd.Output()
		if err != nil {
			t.Errorf("status: %v", err)
		}
		var st statusJSON
		if err := jsonUnmarshal(out, &st); err != nil {
			t.Errorf("status: %v: %s", err, out)
		}
		return st
	}
	var wg sync.WaitGroup
	results := make([]statusJSON, 3)
	for i := range results { // three processes at once
		wg.Add(1)
		go func() { defer wg.Done(); results[i] = status() }()
	}
	wg.Wait()
	for i := 0; i < 2; i++ { // and two more after them
		results = append(results, status())
	}
	pairs := d.Stats().PairRequests
	t.Logf("figures: 5 status runs (3 at once, 2 after) on one untrusted phone: %d Pair requests", pairs)
	if pairs != 1 {
		t.Errorf("%d Pair requests, want 1", pairs)
	}
	for i, st := range results {
		if len(st.Devices) != 1 || st.Devices[0]["state"] != "trust-pending" {
			t.Errorf("run %d: %+v", i, st.Devices)
		}
	}
	// A replug is a new plug: one more Pair. (Real usbmuxd numbers every
	// attach afresh; the simulator reuses the DeviceID, so here the plug is
	// forgotten by a run that sees the phone gone.)
	d.Detach()
	if st := status(); len(st.Devices) != 0 {
		t.Fatalf("detached: %+v", st.Devices)
	}
	d.Attach()
	time.Sleep(100 * time.Millisecond)
	status()
	if got := d.Stats().PairRequests; got != pairs+1 {
		t.Errorf("after a replug: %d Pair requests, want %d", got, pairs+1)
	}
}

// The tray runs (headless: no session bus here) and ten `status --json`
// run at once against seven untrusted phones: every status answers from the
// tray, and each phone sees one Pair, the tray's.
func TestStatusAsksTheRunningTray(t *testing.T) {
	t.Parallel()
	s := startSim(t)
	var devs []*sim.Device
	for i := 0; i < 7; i++ {
		devs = append(devs, s.AddDevice(sim.DeviceConfig{}))
	}
	run := shortTempDir(t)
	home := shortTempDir(t)
	env := append(os.Environ(), "USBMUXD_SOCKET_ADDRESS="+s.Address(), "XDG_RUNTIME_DIR="+run, "HOME="+home,
		"XDG_STATE_HOME="+filepath.Join(home, "state"), "XDG_CACHE_HOME="+filepath.Join(home, "cache"), "DBUS_SESSION_BUS_ADDRESS=", "DISPLAY=")
	tray := exec.Command(binary, "--allow-root")
	tray.Env = env
	var trayErr strings.Builder
	tray.Stderr = &trayErr
	if err := tray.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = tray.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = tray.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = tray.Process.Kill()
			<-done
			t.Error("the tray did not quit on SIGINT")
		}
	})
	sock := filepath.Join(run, "trustwatch.sock")
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		if time.Now().After(deadline) {
			if os.Getenv("TRUSTWATCH_TEST_BINARY") != "" {
				t.Logf("no IPC socket from %s: measuring it anyway", binary)
				break
			}
			t.Fatalf("the tray never served %s; stderr:\n%s", sock, trayErr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	start := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var took []time.Duration
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(binary, "status", "--json")
			cmd.Env = env
			t0 := time.Now()
			out, err := cmd.Output()
			if err != nil {
				t.Errorf("status: %v", err)
				return
			}
			mu.Lock()
			took = append(took, time.Since(t0))
			mu.Unlock()
			var st statusJSON
			if err := jsonUnmarshal(out, &st); err != nil || len(st.Devices) != 7 {
				t.Errorf("status: %v %s", err, out)
				return
			}
			for _, d := range st.Devices {
				if d["state"] != "trust-pending" {
					t.Errorf("device %v", d)
				}
			}
		}()
	}
	wg.Wait()
	if n := s.MuxStats().Requests["Listen"]; n != 1 && os.Getenv("TRUSTWATCH_TEST_BINARY") == "" {
		t.Errorf("%d Listen requests: status watched usbmuxd itself instead of asking the tray", n)
	}
	pairs := sumPairs(devs)
	t.Logf("figures: tray + 10 parallel status on 7 untrusted phones: %d Pair requests in all; status runs took %v (all done %v after start)", pairs, took, time.Since(start).Round(time.Millisecond))
	if pairs != 7 {
		t.Errorf("%d Pair requests, want 7 (one per phone)", pairs)
	}
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// fix beside a running tray acts through it: the tray's engine sends the
// one Pair (after removing the outdated record) and saves the approved
// pairing; the terminal only follows.
func TestFixThroughTheRunningTray(t *testing.T) {
	t.Parallel()
	s := startSim(t)
	d := s.AddDevice(sim.DeviceConfig{Name: "Anna's iPhone", Revoked: true})
	run, home := shortTempDir(t), shortTempDir(t)
	env := append(os.Environ(), "USBMUXD_SOCKET_ADDRESS="+s.Address(), "XDG_RUNTIME_DIR="+run, "HOME="+home,
		"XDG_STATE_HOME="+filepath.Join(home, "state"), "XDG_CACHE_HOME="+filepath.Join(home, "cache"), "DBUS_SESSION_BUS_ADDRESS=", "DISPLAY=")
	tray := exec.Command(binary, "--allow-root")
	tray.Env = env
	if err := tray.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tray.Process.Signal(os.Interrupt); _ = tray.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(run, "trustwatch.sock")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the tray never served its endpoint")
		}
		time.Sleep(20 * time.Millisecond)
	}
	fix := exec.Command(binary, "fix")
	fix.Env = env
	var out, errb strings.Builder
	fix.Stdout, fix.Stderr = &out, &errb
	if err := fix.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- fix.Wait() }()
	for !d.DialogShowing() {
		select {
		case err := <-done:
			t.Fatalf("fix ended (%v) before the question: %q %q", err, out.String(), errb.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	time.Sleep(2 * time.Second) // a person reads, taps
	before := d.Stats().PairRequests
	d.TapTrust()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("fix: %v; stdout %q stderr %q", err, out.String(), errb.String())
		}
	case <-time.After(15 * time.Second):
		_ = fix.Process.Kill()
		t.Fatalf("fix did not end after the tap; stdout %q", out.String())
	}
	st := d.Stats()
	if before != 1 || st.DialogShows != 1 || st.DialogFlashes != 0 {
		t.Errorf("%d Pair requests before the tap (want 1), question shown %d times, flashed %d", before, st.DialogShows, st.DialogFlashes)
	}
	if n := s.MuxStats().Requests["Listen"]; n != 1 {
		t.Errorf("%d Listen requests: fix watched usbmuxd itself instead of asking the tray", n)
	}
	if _, ok := s.PairRecord(d.UDID()); !ok || !strings.Contains(out.String(), "now trusts this computer") {
		t.Errorf("record saved %v; stdout %q", ok, out.String())
	}
	t.Logf("figures: fix through the tray: %d Pair before the tap, %d in all (the second completes the approved pairing); stdout %q", before, st.PairRequests, out.String())
}

// A `status` run while the untrusted phone is locked sends the plug's Pair
// (refused: locked, nothing shown); a `watch` started after it adopts the
// plug: it waits for the unlock, and the unlock brings the Trust prompt up
// exactly once. Before, the follower read "untrusted-locked" from the
// ledger and never noticed the unlock until a replug.
func TestFollowerAdoptsALockedPlug(t *testing.T) {
	t.Parallel()
	s := startSim(t)
	d := s.AddDevice(sim.DeviceConfig{Name: "Anna's iPhone", Locked: true})
	run := shortTempDir(t)
	env := append(os.Environ(), "XDG_RUNTIME_DIR="+run, "USBMUXD_SOCKET_ADDRESS="+s.Address())
	st := exec.Command(binary, "status", "--json")
	st.Env = env
	out, _ := st.Output()
	if !strings.Contains(string(out), `"untrusted-locked"`) {
		t.Fatalf("status: %s", out)
	}
	withRun := func(ctx context.Context, args ...string) *exec.Cmd {
		c := exec.CommandContext(ctx, binary, args...)
		c.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+run)
		return c
	}
	w := startWatchWith(t, withRun, true, s.Address())
	w.waitFor("untrusted-locked", 5*time.Second, stateIs(d.UDID(), "untrusted-locked"))
	time.Sleep(3 * time.Second) // a person picks the phone up
	unlocked := time.Now()
	d.Unlock()
	w.waitFor("trust-pending after the unlock", 5*time.Second, stateIs(d.UDID(), "trust-pending"))
	t.Logf("figures: unlock → trust-pending %v (the follower adopted the plug status had paired)", time.Since(unlocked).Round(time.Millisecond))
	time.Sleep(2 * time.Second) // Trust tapped a moment later
	if pairs := d.Stats().PairRequests; pairs != 2 {
		t.Errorf("%d Pair requests before the tap, want 2: status's (refused while locked) and the unlock's", pairs)
	}
	d.TapTrust()
	w.waitFor("ready", 5*time.Second, stateIs(d.UDID(), "ready"))
	if stats := d.Stats(); stats.DialogShows != 1 || stats.DialogFlashes != 0 || stats.SavePairRecords != 1 {
		t.Errorf("dialogs %d (want 1), flashes %d (want 0), records saved %d (want 1)", stats.DialogShows, stats.DialogFlashes, stats.SavePairRecords)
	}
}
