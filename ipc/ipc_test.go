//go:build unix

package ipc

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/trustwatch/trustwatch/watcher"
	"github.com/trustwatch/trustwatch/watcher/engine"
)

type fakeTray struct {
	mu    sync.Mutex
	fixed []string
	snap  engine.Snapshot
}

func (f *fakeTray) Snapshot() engine.Snapshot { f.mu.Lock(); defer f.mu.Unlock(); return f.snap }
func (f *fakeTray) FixTrust(k string)         { f.mu.Lock(); f.fixed = append(f.fixed, k); f.mu.Unlock() }
func (f *fakeTray) Forget(string)             {}
func (f *fakeTray) History() []watcher.Entry {
	return []watcher.Entry{{Key: "K1", State: engine.StateTrustPending}}
}

func openFDs(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count fds: %v", err)
	}
	return len(ents)
}

// waitUntil polls cond (goroutines and fds are released asynchronously).
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func shortDir(t *testing.T) string {
	d, err := os.MkdirTemp("", "twipc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

func TestServeQueryAndActions(t *testing.T) {
	defer goleak.VerifyNone(t)
	fds := openFDs(t)
	dir := shortDir(t)
	tray := &fakeTray{snap: engine.Snapshot{
		Usbmux:  engine.Usbmux{Address: "unix:///var/run/usbmuxd", Reachable: true, State: engine.MuxRunning},
		Devices: []engine.Device{{Key: "K1", UDID: "U-1", Name: "Anna's iPhone", State: engine.StateTrustPending, DeviceID: 7, Previous: engine.StateProbing}},
	}}
	l, err := Listen(dir)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, SocketName))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode %v, %v", fi.Mode(), err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() { defer close(served); Serve(ctx, l, tray, nil) }()
	defer func() { cancel(); <-served }() // before goleak, even on failure

	qctx, qcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer qcancel()
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ { // more clients at once than slots: each still answered or refused, never hung
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := dialIn(qctx, []string{filepath.Join(dir, "missing"), dir})
			if err != nil {
				t.Error(err)
				return
			}
			c.Close()
		}()
	}
	wg.Wait()
	s, err := doIn(qctx, dir, OpSnapshot, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Devices) != 1 || s.Devices[0].Key != "K1" || s.Devices[0].DeviceID != 7 || s.Devices[0].State != engine.StateTrustPending || s.Usbmux.State != engine.MuxRunning {
		t.Fatalf("snapshot %+v", s)
	}
	if _, err := doIn(qctx, dir, OpFixTrust, "K1"); err != nil {
		t.Fatal(err)
	}
	if _, err := doIn(qctx, dir, "reboot", ""); err == nil || !strings.Contains(err.Error(), "unknown op") {
		t.Fatalf("unknown op: %v", err)
	}
	// A client that connects and says nothing does not hold others up.
	silent, err := net.Dial("unix", filepath.Join(dir, SocketName))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := doIn(qctx, dir, OpSnapshot, ""); err != nil {
		t.Fatalf("beside a silent client: %v", err)
	}
	// Garbage is answered with an error, not a crash.
	g, _ := net.Dial("unix", filepath.Join(dir, SocketName))
	g.Write([]byte("\x00\xff{{{\n"))
	buf := make([]byte, 256)
	g.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, _ := g.Read(buf)
	if !strings.Contains(string(buf[:n]), "unreadable request") {
		t.Errorf("garbage: %q", buf[:n])
	}
	g.Close()
	tray.mu.Lock()
	if len(tray.fixed) != 1 || tray.fixed[0] != "K1" {
		t.Errorf("FixTrust calls %v", tray.fixed)
	}
	tray.mu.Unlock()

	cancel()
	<-served
	silent.Close()
	if _, err := dialIn(qctx, []string{dir}); err != ErrNotRunning {
		t.Errorf("after stop: %v", err)
	}
	os.Remove(filepath.Join(dir, SocketName))
	waitUntil(t, "fds back", func() bool { return openFDs(t) <= fds })
}

// Nothing listening, or a socket left by a tray that died: "not running".
func TestNotRunning(t *testing.T) {
	dir := shortDir(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := dialIn(ctx, []string{dir}); err != ErrNotRunning {
		t.Fatalf("empty dir: %v", err)
	}
	l, err := Listen(dir)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close() // the file stays, nobody listens: a crashed tray
	if _, err := dialIn(ctx, []string{dir}); err != ErrNotRunning {
		t.Fatalf("stale socket: %v", err)
	}
	// The next tray replaces it.
	l, err = Listen(dir)
	if err != nil {
		t.Fatalf("listen over a stale socket: %v", err)
	}
	l.Close()
}

// The wire carries what the engine said as identifiers, so a client says
// it in its own user's language: a phone's advice (here why usbmuxd is
// away) and usbmuxd's state, both intact after the trip.
func TestWireCarriesAdvice(t *testing.T) {
	mux := engine.Usbmux{Address: "unix:///var/run/usbmuxd", Error: "refused", State: engine.MuxNotRunning}
	env := engine.MuxEnv{GOOS: "linux", Install: "sudo apt install usbmuxd", USBVisible: true}
	text := engine.DescribeMux(mux, env, true)
	mux.Text = text
	in := engine.Snapshot{Usbmux: mux, Devices: []engine.Device{
		{Key: "usb:1-5", State: engine.StateServiceUnavailable, Advice: text.Device},
		{Key: "K1", UDID: "U-1", State: engine.StateTrustPending, Advice: engine.StateAdvice(engine.StateTrustPending)},
	}}
	b, err := json.Marshal(reply{Snapshot: toWire(in)})
	if err != nil {
		t.Fatal(err)
	}
	var rep reply
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	out := fromWire(rep.Snapshot)
	if out.Usbmux.Text != text || out.Usbmux != mux {
		t.Errorf("usbmuxd:\n got %+v\nwant %+v", out.Usbmux, mux)
	}
	for i := range in.Devices {
		if out.Devices[i] != in.Devices[i] {
			t.Errorf("device %d:\n got %+v\nwant %+v", i, out.Devices[i], in.Devices[i])
		}
	}
	if text.Device.Args.Command == "" || !strings.Contains(string(b), `"clause":"mux.not-running"`) {
		t.Errorf("the advice's arguments are not on the wire: %s", b)
	}
}
