package bench

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/metrics"
	"time"

	"github.com/trustwatch/trustwatch/internal/watchjson"
	"github.com/trustwatch/trustwatch/watcher"
	"github.com/trustwatch/trustwatch/watcher/engine"
	"github.com/trustwatch/trustwatch/watcher/ledger"
)

// The live heap is what tells a leak from the heap finding its size: a
// process's RSS also moves with the garbage between collections, the
// scavenger's timing and the pages of its binary that a code path touches
// for the first time, while the live heap after a full collection is only
// what something still holds.

// liveHeap is this process's live heap after two full collections (the
// first may leave finalizers' and cleanups' objects for the second): bytes
// and objects.
func liveHeap() (bytes, objects int64) {
	runtime.GC()
	runtime.GC()
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/gc/heap/objects:objects"}}
	metrics.Read(s)
	return int64(s[0].Value.Uint64()), int64(s[1].Value.Uint64())
}

// asWatch configures an in-process watcher as `trustwatch watch --json`
// runs (and the tray too, for the ledger): a Pair ledger in dir, and every
// change written by watch's own printer, here into io.Discard.
func asWatch(dir string) (func(*watcher.Config), error) {
	l, err := ledger.Open(dir)
	if err != nil {
		return nil, err
	}
	return func(c *watcher.Config) {
		c.Ledger = l
		c.OnOutput = func(out engine.Output, snap engine.Snapshot) {
			watchjson.Write(io.Discard, out, snap, time.Now())
		}
	}, nil
}

// settled waits until the watcher has reported detached phones detached
// times in all and lists no phone, and the goroutines outside the simulator
// are back to base (every plug's work has ended). It returns the last
// goroutine count: more than base when some never ended. Phones never
// reported gone are an error.
func (p *inproc) settled(detached int64, base int, timeout time.Duration) (int, error) {
	deadline := time.Now().Add(timeout)
	snap, ok := p.waitFor(timeout, func(snap engine.Snapshot) bool {
		return p.detached.Load() >= detached && len(snap.Devices) == 0
	})
	if !ok {
		return nonSimGoroutines(), fmt.Errorf("in-process watcher: %d of %d unplugs reported, %d phones listed after %v",
			p.detached.Load(), detached, len(snap.Devices), timeout)
	}
	return settleGoroutines(base, time.Until(deadline)), nil
}

// heapBudget is the live heap growth, in bytes and objects, that a batch of
// cycles may show with nothing kept per cycle. The engine keeps every attach
// of the last 20 s to tell a flapping link (24 B each, up to twice that with
// its slices' spare room): up to 48 B a cycle, but bounded by the window, not
// by the number of cycles, and no new objects. The runtime keeps caches of
// its own (sudogs: up to 128 per P, 112 B each). Measured: +49 KB and −2
// objects over 1000 cycles, all of it the engine's attach record. What a
// plug, a command, a ledger round, a line or a log entry kept for good comes
// on top: for 1000 cycles the budget is 94.5 KiB and 253 objects, where one
// object kept a cycle is 1000, and 64 B a cycle is an eighth of the RSS goal
// (0.5 MiB per 1000 cycles).
func heapBudget(cycles int) (bytes, objects int64) {
	return 32<<10 + 64*int64(cycles), 128 + int64(cycles)/8
}

// heapGrowth is the live heap's growth over a batch of cycles.
type heapGrowth struct {
	bytes, objects int64
}

// flapHeap flaps two batches of cycles against p, each followed by settled,
// and returns the goroutines left after the first batch and the live heap's
// growth over the second: the first lets the history and the runtime's
// caches find their size, so what the second adds is what every cycle keeps
// (and the engine's attach record, which heapBudget allows for).
func (f *flapRig) flapHeap(ctx context.Context, p *inproc, warm, cycles int, gap, timeout time.Duration) (goroutines int, g heapGrowth, err error) {
	liveHeap() // runtime/metrics allocates its tables on the first read
	base := nonSimGoroutines()
	batch := func(n int) (int, error) {
		want := p.detached.Load() + int64(n)
		if err := f.flap(ctx, n, gap); err != nil {
			return 0, err
		}
		return p.settled(want, base, timeout)
	}
	n, err := batch(warm)
	if err != nil {
		return 0, g, err
	}
	b0, o0 := liveHeap()
	if _, err := batch(cycles); err != nil {
		return 0, g, err
	}
	b1, o1 := liveHeap()
	return n - base, heapGrowth{bytes: b1 - b0, objects: o1 - o0}, nil
}
