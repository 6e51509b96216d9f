package watcher

import (
	"context"
	"net"
	"time"

	"github.com/trustwatch/trustwatch/watcher/engine"
	"github.com/trustwatch/trustwatch/watcher/lockdown"
	"github.com/trustwatch/trustwatch/watcher/usbmux"
)

// The lockstate observers of trusted phones (FollowLock): held open beside
// the one running command per device, so locked ⇄ ready is followed live.

const (
	// followRetryMin and followRetryMax bound the backoff between attempts
	// to (re)open a lockstate observer the phone refused or dropped; a
	// session that lived followRetryMax resets it.
	followRetryMin = 10 * time.Second
	followRetryMax = 5 * time.Minute
	// followAfter: an observer opens this long after the phone's answer,
	// so that a burst of phones is diagnosed before two TLS handshakes per
	// phone go to observers, and a phone that flaps costs none. A change
	// in between is caught by the lock state read at opening.
	followAfter = time.Second
)

// followLock holds a lockstate observer open until ctx ends, re-opening it
// with backoff when the phone refuses it, drops it or sends garbage.
func (x *executor) followLock(ctx context.Context, t engine.Target, f *lockFollower) {
	if !sleepCtx(ctx, followAfter) {
		return
	}
	var delay time.Duration
	lastErr := ""
	for {
		opened := time.Now()
		wasOpen, err := x.observeLock(ctx, t, f)
		if ctx.Err() != nil {
			return
		}
		delay = followBackoff(delay, time.Since(opened))
		switch msg := err.Error(); {
		case wasOpen: // usually the phone leaving; Cancel is on its way
			x.log.Debug("lock observer ended", "udid", t.UDID, "err", msg, "retry_in", delay)
		case msg != lastErr: // the phone refuses it: worth one line in a support log
			lastErr = msg
			x.log.Info("lock state not followed by event; retrying", "udid", t.UDID, "err", msg, "retry_in", delay)
		}
		if !sleepCtx(ctx, delay) {
			return
		}
	}
}

// sleepCtx waits d; false when ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// followBackoff is the pause before the next attempt to open an observer,
// after one that lasted `lived`: doubling from followRetryMin to
// followRetryMax, back to the start after a session that lasted the cap.
func followBackoff(prev, lived time.Duration) time.Duration {
	if prev <= 0 || lived >= followRetryMax {
		return followRetryMin
	}
	return min(2*prev, followRetryMax)
}

// observeLock opens the observer in a session of its own, reads the lock
// state (a change between the engine's last probe and the subscription
// would be missed otherwise), then reports every relayed change until the
// stream fails.
func (x *executor) observeLock(ctx context.Context, t engine.Target, f *lockFollower) (wasOpen bool, err error) {
	octx, cancel := context.WithTimeout(ctx, x.budget)
	stream, locked, lockErr, err := x.openLockObserver(octx, t)
	cancel()
	if err != nil {
		return false, err
	}
	defer stream.Close()
	if lockErr != nil || locked != f.locked.Load() {
		x.post(ctx, engine.LockChanged{Key: t.Key, DeviceID: t.DeviceID})
	}
	for {
		name, err := stream.Next(ctx)
		if err != nil {
			return true, err
		}
		if name == lockdown.LockState {
			x.post(ctx, engine.LockChanged{Key: t.Key, DeviceID: t.DeviceID, Relayed: true})
		}
	}
}

func (x *executor) openLockObserver(ctx context.Context, t engine.Target) (stream *lockdown.NotificationStream, locked bool, lockErr, err error) {
	raw, err := usbmux.ReadPairRecord(ctx, x.addr, t.UDID)
	if err != nil {
		return nil, false, nil, err
	}
	rec, err := lockdown.ParsePairRecord(raw)
	if err != nil {
		return nil, false, nil, err
	}
	ld, err := x.lockdown(ctx, t)
	if err != nil {
		return nil, false, nil, err
	}
	defer ld.Close() // the service connection outlives it
	id, err := ld.StartSession(ctx, rec)
	if err != nil {
		return nil, false, nil, err
	}
	stream, err = lockdown.ObserveLockState(ctx, ld, rec, func(ctx context.Context, port uint16) (net.Conn, error) {
		return usbmux.Connect(ctx, x.addr, t.DeviceID, port)
	})
	if err != nil {
		return nil, false, nil, err
	}
	locked, lockErr = ld.PasswordProtected(ctx)
	_ = ld.StopSession(ctx, id)
	return stream, locked, lockErr, nil
}
