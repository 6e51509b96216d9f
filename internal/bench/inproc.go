package bench

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/trustwatch/trustwatch/watcher"
	"github.com/trustwatch/trustwatch/watcher/engine"
	"github.com/trustwatch/trustwatch/watcher/usbmux"
)

// inproc is the real watcher running inside the bench process, configured
// as the tray configures it (less what tune changes), so
// runtime.NumGoroutine can see its goroutines.
type inproc struct {
	w        *watcher.Watcher
	stop     func()
	detached atomic.Int64 // phones the watcher reported gone, as `watch` prints them
}

func startInproc(rig *Rig, tune ...func(*watcher.Config)) (*inproc, error) {
	addr, err := usbmux.ParseAddress(rig.Address())
	if err != nil {
		return nil, err
	}
	cfg := watcher.Config{
		Address: addr,
		Engine:  engine.Config{Mode: engine.ModeFollow, AllowPair: true},
	}
	for _, t := range tune {
		t(&cfg)
	}
	p := &inproc{}
	onOutput := cfg.OnOutput
	cfg.OnOutput = func(out engine.Output, snap engine.Snapshot) {
		for _, c := range out.Changes {
			if c.Removed {
				p.detached.Add(1)
			}
		}
		if onOutput != nil {
			onOutput(out, snap)
		}
	}
	w := watcher.New(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	p.w, p.stop = w, func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
		}
	}
	// Wait for the usbmuxd connection, so a baseline includes it.
	deadline := time.Now().Add(10 * time.Second)
	for !w.Snapshot().Usbmux.Reachable {
		if time.Now().After(deadline) {
			p.stop()
			return nil, fmt.Errorf("in-process watcher: usbmuxd not reachable: %s", w.Snapshot().Usbmux.Error)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return p, nil
}

// waitFor waits until done holds for the watcher's snapshot, checking at
// every published change; the last snapshot, and false after timeout.
func (p *inproc) waitFor(timeout time.Duration, done func(engine.Snapshot) bool) (engine.Snapshot, bool) {
	snaps, unsub := p.w.Subscribe()
	defer unsub()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		snap := p.w.Snapshot()
		if done(snap) {
			return snap, true
		}
		select {
		case <-snaps:
		case <-deadline.C:
			return p.w.Snapshot(), false
		}
	}
}

// waitStates waits until every udid shows its wanted state and returns when
// the last one got there.
func (p *inproc) waitStates(want map[string]string, timeout time.Duration) (time.Time, error) {
	inState := func(snap engine.Snapshot) (n int) {
		for udid, st := range want {
			if d, ok := snap.Device(engine.NormalizeUDID(udid)); ok && string(d.State) == st {
				n++
			}
		}
		return n
	}
	snap, ok := p.waitFor(timeout, func(snap engine.Snapshot) bool { return inState(snap) == len(want) })
	if !ok {
		return time.Time{}, fmt.Errorf("in-process watcher: %d of %d devices in their state after %v", inState(snap), len(want), timeout)
	}
	return time.Now(), nil
}

// nonSimGoroutines counts the goroutines whose stack does not run in or
// come from the simulator: the watcher's, plus the bench's own few, which
// stay constant between a baseline and a later count.
func nonSimGoroutines() int {
	n := 0
	for _, c := range goroutineCreators() {
		n += c
	}
	return n
}

// goroutineCreators groups the non-simulator goroutines by the function
// that started them ("created by …"), for telling where per-device
// goroutines come from.
func goroutineCreators() map[string]int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	m := map[string]int{}
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
		if len(g) == 0 || bytes.Contains(g, []byte("/internal/sim.")) {
			continue
		}
		creator := "main"
		if i := bytes.Index(g, []byte("\ncreated by ")); i >= 0 {
			line, _, _ := bytes.Cut(g[i+len("\ncreated by "):], []byte("\n"))
			line, _, _ = bytes.Cut(line, []byte(" in goroutine"))
			creator = string(line)
		}
		m[creator]++
	}
	return m
}

// creatorGrowth lists the creators with more goroutines after than before,
// largest first: "watcher.(*executor).run ×22, …".
func creatorGrowth(before, after map[string]int) string {
	type kv struct {
		k string
		v int
	}
	var grew []kv
	for k, v := range after {
		if d := v - before[k]; d > 0 {
			grew = append(grew, kv{strings.TrimPrefix(k, "github.com/trustwatch/trustwatch/"), d})
		}
	}
	sort.Slice(grew, func(i, j int) bool {
		if grew[i].v != grew[j].v {
			return grew[i].v > grew[j].v
		}
		return grew[i].k < grew[j].k
	})
	var parts []string
	for i, e := range grew {
		if i == 4 {
			break
		}
		parts = append(parts, fmt.Sprintf("%s ×%d", e.k, e.v))
	}
	return strings.Join(parts, ", ")
}

// settleGoroutines waits up to d for the non-sim goroutine count to fall to
// at most target, and returns the last count.
func settleGoroutines(target int, d time.Duration) int {
	deadline := time.Now().Add(d)
	for {
		n := nonSimGoroutines()
		if n <= target || time.Now().After(deadline) {
			return n
		}
		time.Sleep(50 * time.Millisecond)
	}
}
