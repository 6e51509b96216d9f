package watcher

import (
	"context"
	"time"
)

const (
	// muxQuickFor: after usbmuxd drops us, after its socket appears and
	// after an Apple device arrives on USB, connecting is retried on the
	// usual 100 ms → 1 s backoff for this long (a restart, or the moment
	// between bind and listen).
	muxQuickFor = 5 * time.Second
	// muxBackstop: beyond that, with the socket's directory watched, a
	// try every muxBackstop only covers events the watch could miss.
	// Linux starts usbmuxd only when an Apple device is plugged in, so
	// "no usbmuxd" is its normal idle state and must cost nothing.
	muxBackstop = 5 * time.Minute
)

// muxWaiter decides when to try usbmuxd again. Where the socket's
// directory can be watched (Linux, unix sockets), it waits for the socket
// to appear, or an Apple device to arrive on USB, instead of polling;
// elsewhere it keeps the plain backoff.
type muxWaiter struct {
	appeared <-chan struct{} // nil: the address cannot be watched
	kick     <-chan struct{} // an Apple device arrived on USB
	stop     func()

	quickUntil time.Time
	quick      time.Duration // after an event: the backoff restarts here
	now        func() time.Time
}

func newMuxWaiter(socketPath string, kick <-chan struct{}) *muxWaiter {
	m := &muxWaiter{kick: kick, stop: func() {}, now: time.Now}
	if socketPath != "" {
		if ch, stop, ok := watchSocket(socketPath); ok {
			m.appeared, m.stop = ch, stop
		}
	}
	return m
}

func (m *muxWaiter) close() { m.stop() }

// pause is how long to wait after a failed attempt, given the caller's
// backoff delay (muxRetryMin on the first failure after a connection).
func (m *muxWaiter) pause(delay time.Duration) time.Duration {
	now := m.now()
	if delay <= muxRetryMin { // usbmuxd just went away: it may be restarting
		m.quickUntil, m.quick = now.Add(muxQuickFor), 0
	}
	switch {
	case m.quick > 0 && now.Before(m.quickUntil):
		p := m.quick
		m.quick = min(2*m.quick, muxRetryMax)
		return p
	case m.appeared == nil || now.Before(m.quickUntil):
		return delay
	default:
		return muxBackstop
	}
}

// wait blocks until the next attempt is due; false when ctx ended.
func (m *muxWaiter) wait(ctx context.Context, delay time.Duration) bool {
	t := time.NewTimer(m.pause(delay))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	case _, ok := <-m.appeared:
		if !ok { // the watch is gone (its directory was removed): poll as before
			m.appeared = nil
		}
	case <-m.kick:
	}
	// Tried at once; if usbmuxd has bound its socket but not listened
	// yet, again 10 ms later, then on the doubling backoff.
	m.quickUntil, m.quick = m.now().Add(muxQuickFor), muxRetryMin/10
	return true
}
