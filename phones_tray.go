package main

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/trustwatch/trustwatch/ipc"
	"github.com/trustwatch/trustwatch/watcher"
	"github.com/trustwatch/trustwatch/watcher/engine"
	"github.com/trustwatch/trustwatch/watcher/usbmux"
)

// trayPoll is how often a verb that follows a phone through the running
// tray asks it for a new snapshot.
const trayPoll = 200 * time.Millisecond

// trayLink is a phoneLink through the running tray: its engine acts
// (Fix trust, Forget) and its one-Pair-per-plug rule holds, and nothing in
// this process talks to the phones.
type trayLink struct {
	addr usbmux.Address
	mu   sync.Mutex
	last engine.Snapshot
	wg   sync.WaitGroup
	stop chan struct{}
	once sync.Once
}

func newTrayLink(addr usbmux.Address, s engine.Snapshot) *trayLink {
	return &trayLink{addr: addr, last: s, stop: make(chan struct{})}
}

func (l *trayLink) query() (engine.Snapshot, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	s, err := ipc.Query(ctx)
	if err != nil {
		return engine.Snapshot{}, false
	}
	l.mu.Lock()
	l.last = s
	l.mu.Unlock()
	return s, true
}

// Snapshot is the tray's newest picture (the last one seen if it stopped
// answering).
func (l *trayLink) Snapshot() engine.Snapshot {
	if s, ok := l.query(); ok {
		return s
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last
}

// Subscribe polls the tray; the channel always holds the newest snapshot.
func (l *trayLink) Subscribe() (<-chan engine.Snapshot, func()) {
	ch := make(chan engine.Snapshot, 1)
	done := make(chan struct{})
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		t := time.NewTicker(trayPoll)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-l.stop:
				return
			case <-t.C:
			}
			if s, ok := l.query(); ok {
				select {
				case <-ch:
				default:
				}
				ch <- s
			}
		}
	}()
	var once sync.Once
	return ch, func() { once.Do(func() { close(done) }) }
}

func (l *trayLink) do(op, key string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if s, err := ipc.Do(ctx, op, key); err == nil {
		l.mu.Lock()
		l.last = s
		l.mu.Unlock()
	}
}

func (l *trayLink) FixTrust(key string) { l.do(ipc.OpFixTrust, key) }
func (l *trayLink) Forget(key string)   { l.do(ipc.OpForget, key) }

func (l *trayLink) History() []watcher.Entry {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	h, _ := ipc.History(ctx)
	return h
}

// HasPairRecord asks usbmuxd (reading a record shows nothing on the phone).
func (l *trayLink) HasPairRecord(ctx context.Context, udid string) (bool, error) {
	return (&localLink{addr: l.addr}).HasPairRecord(ctx, udid)
}

func (l *trayLink) Close() {
	l.once.Do(func() { close(l.stop) })
	l.wg.Wait()
}

// askRunning asks the running tray for its picture of the phones, waiting
// (until ctx ends) for every device to have a final state. ok is false
// when no tray serves this user or it watches another usbmuxd; the caller
// then probes by itself.
func askRunning(ctx context.Context, addr usbmux.Address) (snap engine.Snapshot, ok bool) {
	qctx, cancel := context.WithTimeout(ctx, time.Second)
	s, err := ipc.Query(qctx)
	cancel()
	if err != nil || s.Usbmux.Address != addr.String() {
		return engine.Snapshot{}, false
	}
	for (!s.Usbmux.Answered() || !s.AllFinal()) && ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
		qctx, cancel := context.WithTimeout(ctx, time.Second)
		next, err := ipc.Query(qctx)
		cancel()
		if err != nil {
			if errors.Is(err, ipc.ErrNotRunning) && ctx.Err() == nil {
				return engine.Snapshot{}, false // it quit: probe instead
			}
			break
		}
		s = next
	}
	return s, true
}
