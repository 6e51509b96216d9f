package watcher

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/trustwatch/trustwatch/watcher/engine"
	"github.com/trustwatch/trustwatch/watcher/ledger"
	"github.com/trustwatch/trustwatch/watcher/lockdown"
	"github.com/trustwatch/trustwatch/watcher/usbmux"
)

// This file is the executor's command lifecycle: which command runs for
// which device, cancelling, and what is kept per device between commands.
// The lockdown steps the commands consist of are in executor_steps.go, the
// lockstate observers of trusted phones in executor_lock.go.

// executor carries out engine commands: one goroutine per running command,
// at most one running command per device (a newer one cancels the older).
// Every result carries the epoch of its command, so the engine drops the
// ones that come back after a newer command.
type executor struct {
	addr   usbmux.Address
	budget time.Duration
	ledger *ledger.Ledger // nil: no cross-process record
	scope  func(context.Context) string
	// savesPairings: this watcher completes a pairing the user approved and
	// writes its record (follow mode: watch, tray); a one-shot status never does.
	savesPairings bool
	post          func(context.Context, engine.Event)

	mu       sync.Mutex
	devices  map[string]*deviceWork // by engine key; dropped on Cancel
	followed atomic.Int32           // observer goroutines running (tests check none outlives its phone)
	log      *slog.Logger
	wg       sync.WaitGroup
}

// deviceWork is what the executor holds for one device, under executor.mu.
type deviceWork struct {
	stop context.CancelFunc // cancels the running command (nil: none ran yet)
	// pending is the record of the Pair we sent, kept to save once the user
	// taps Trust.
	pending *lockdown.PairRecord
	// requestPair is the request_pair subscription opened before a Pair, so
	// a quick Trust tap cannot slip between the Pair and AwaitTrust.
	requestPair *lockdown.NotificationStream
	// gated: the phone refused the session-less service while it refused
	// Pair as locked; only then does the service coming back mean "unlocked".
	gated bool
	// record is the host record that last opened a session, for lock-only
	// re-checks.
	record *lockdown.PairRecord
	// follower is the lockstate observer of a trusted phone, apart from the
	// one running command.
	follower *lockFollower
	// dropped: Cancel took this entry away (the phone left, or trustwatch
	// stops); a command finishing late keeps nothing in it.
	dropped bool
}

// workKey carries a command's deviceWork in its context.
type workKey struct{}

// lockFollower is one device's lockstate observer.
type lockFollower struct {
	deviceID int
	locked   atomic.Bool // what the engine believes
	stop     context.CancelFunc
}

func newExecutor(cfg Config, post func(context.Context, engine.Event)) *executor {
	return &executor{
		addr: cfg.Address, budget: cfg.ProbeBudget, ledger: cfg.Ledger, post: post,
		savesPairings: cfg.Engine.Mode == engine.ModeFollow,
		devices:       map[string]*deviceWork{},
		log:           cfg.Logger,
	}
}

// with runs f on the device's work under the lock (made on first use).
func (x *executor) with(key string, f func(w *deviceWork)) {
	x.mu.Lock()
	defer x.mu.Unlock()
	w := x.devices[key]
	if w == nil {
		w = &deviceWork{}
		x.devices[key] = w
	}
	f(w)
}

// work runs f under the lock on the device's work that the command (run
// puts it in ctx) started with: once Cancel has dropped it, f does not run
// and work reports false, so a result that comes back after its phone left
// (a request_pair stream, a pending record) is not kept for nobody.
func (x *executor) work(ctx context.Context, f func(w *deviceWork)) bool {
	w, _ := ctx.Value(workKey{}).(*deviceWork)
	if w == nil { // not inside a command: nothing to keep it for
		return false
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if w.dropped {
		return false
	}
	f(w)
	return true
}

// run starts c; it never blocks the engine's loop.
func (x *executor) run(ctx context.Context, c engine.Command) {
	switch c := c.(type) {
	case engine.Cancel:
		x.cancel(c.Key)
		return
	case engine.FollowLock:
		x.followLockOf(ctx, c)
		return
	case engine.UnfollowLock:
		x.unfollow(c.Key)
		return
	}
	t := target(c)
	cctx, stop := context.WithCancel(ctx)
	var work *deviceWork
	x.with(t.Key, func(w *deviceWork) {
		if w.stop != nil {
			w.stop()
		}
		w.stop = stop
		work = w
	})
	cctx = context.WithValue(cctx, workKey{}, work)
	x.wg.Add(1)
	go func() {
		defer x.wg.Done()
		defer stop()
		ev := x.do(cctx, c)
		if ev != nil && cctx.Err() == nil {
			x.post(cctx, ev)
		}
	}()
}

// cancel ends everything running for the device and forgets what was kept.
func (x *executor) cancel(key string) {
	x.mu.Lock()
	w := x.devices[key]
	delete(x.devices, key)
	if w != nil {
		w.dropped = true // late results keep nothing (work)
	}
	x.mu.Unlock()
	if w == nil {
		return
	}
	if w.stop != nil {
		w.stop()
	}
	if w.requestPair != nil {
		w.requestPair.Close()
	}
	if w.follower != nil {
		w.follower.stop()
	}
}

// stop waits for every command goroutine; ctx has been cancelled by then.
func (x *executor) stop() { x.wg.Wait() }

func target(c engine.Command) engine.Target {
	switch c := c.(type) {
	case engine.Probe:
		return c.Target
	case engine.SendPair:
		return c.Target
	case engine.CompletePair:
		return c.Target
	case engine.Unpair:
		return c.Target
	case engine.AwaitTrust:
		return c.Target
	case engine.AwaitUnlock:
		return c.Target
	}
	panic(fmt.Sprintf("watcher: unknown command %T", c))
}

// do carries out one command (executor_steps.go) and returns its result,
// stamped with the command's epoch.
func (x *executor) do(ctx context.Context, c engine.Command) engine.Event {
	done := func(t engine.Target, r engine.ProbeResult) engine.Event {
		return engine.ProbeDone{Key: t.Key, Epoch: t.Epoch, Result: r}
	}
	switch c := c.(type) {
	case engine.Probe:
		if c.LockOnly {
			if r, ok := x.lockOnly(ctx, c.Target); ok {
				return done(c.Target, r)
			}
		}
		return done(c.Target, x.probe(ctx, c.Target, c.Pair))
	case engine.SendPair:
		return done(c.Target, x.sendPair(ctx, c))
	case engine.CompletePair:
		return done(c.Target, x.completePair(ctx, c.Target))
	case engine.Unpair:
		return done(c.Target, x.unpair(ctx, c.Target))
	case engine.AwaitTrust:
		return x.awaitTrust(ctx, c.Target)
	case engine.AwaitUnlock:
		return x.awaitUnlock(ctx, c.Target, c.Every)
	}
	return nil
}

// followLockOf starts a lockstate observer for the device, or, when one already
// follows this attach, only updates what the engine believes.
func (x *executor) followLockOf(ctx context.Context, c engine.FollowLock) {
	var old, f *lockFollower
	var fctx context.Context
	var stop context.CancelFunc
	x.with(c.Key, func(w *deviceWork) {
		if w.follower != nil && w.follower.deviceID == c.DeviceID {
			w.follower.locked.Store(c.Locked)
			return
		}
		fctx, stop = context.WithCancel(ctx) // only for a new follower
		old = w.follower
		f = &lockFollower{deviceID: c.DeviceID, stop: stop}
		f.locked.Store(c.Locked)
		w.follower = f
	})
	if f == nil {
		return
	}
	if old != nil {
		old.stop()
	}
	x.wg.Add(1)
	x.followed.Add(1)
	go func() {
		defer x.wg.Done()
		defer x.followed.Add(-1)
		defer stop()
		x.followLock(fctx, c.Target, f)
	}()
}

func (x *executor) unfollow(key string) {
	var f *lockFollower
	x.with(key, func(w *deviceWork) { f, w.follower = w.follower, nil })
	if f != nil {
		f.stop()
	}
}
