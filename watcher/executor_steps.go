package watcher

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/trustwatch/trustwatch/watcher/engine"
	"github.com/trustwatch/trustwatch/watcher/ledger"
	"github.com/trustwatch/trustwatch/watcher/lockdown"
	"github.com/trustwatch/trustwatch/watcher/usbmux"
)

// The lockdown steps of the executor's commands (executor.go runs them):
// probe, pair, complete a pairing, unpair, and the waits for the Trust tap
// and for an unlock. Each step opens its own connections and closes them on
// every path.

const (
	// trustPoll is how often ReadPairRecord is polled while waiting for the
	// Trust tap (usbmuxd only, shows nothing on the phone): at most 1 Hz.
	trustPoll = time.Second
	// trustBackstop is that poll's pace while request_pair is being relayed.
	trustBackstop = 5 * time.Second
	// After trustPatience of waiting for the tap, both polls slow down by
	// trustSlowdown (a prompt left on a phone on the charger should not
	// cost a usbmuxd request every few seconds for hours).
	trustPatience = 2 * time.Minute
	trustSlowdown = 6
	// completeGrace lets another pairer (Linux usbmuxd's preflight) finish
	// first, so the phone does not get two host records for one tap.
	completeGrace = 300 * time.Millisecond
)

// hostIdentity is this computer's pairing identity, made once per process
// (two RSA keys, ~100 ms). Watchers that may pair start making it at once,
// so the first untrusted phone does not wait for key generation.
var hostIdentity = sync.OnceValues(lockdown.NewHostIdentity)

// lockdown opens a lockdown connection through usbmuxd.
func (x *executor) lockdown(ctx context.Context, t engine.Target) (*lockdown.Conn, error) {
	conn, err := usbmux.Connect(ctx, x.addr, t.DeviceID, lockdown.Port)
	if err != nil {
		return nil, err
	}
	return lockdown.New(conn, "trustwatch"), nil
}

// probe diagnoses a device: with a host record through a TLS session,
// without one through at most one Pair (policy permitting).
func (x *executor) probe(ctx context.Context, t engine.Target, policy engine.PairPolicy) engine.ProbeResult {
	ctx, cancel := context.WithTimeout(ctx, x.budget)
	defer cancel()
	// The record (from usbmuxd) and the lockdown connection (through it)
	// are independent: ask for both at once.
	type record struct {
		raw []byte
		err error
	}
	recCh := make(chan record, 1)
	go func() {
		raw, err := usbmux.ReadPairRecord(ctx, x.addr, t.UDID)
		recCh <- record{raw, err}
	}()
	ld, err := x.lockdown(ctx, t)
	got := <-recCh // bounded by ctx, like every usbmuxd request
	raw, recErr := got.raw, got.err
	if ld != nil {
		defer ld.Close()
	}
	if recErr != nil && !noRecord(recErr) {
		return failed(recErr, "reading the pair record from usbmuxd")
	}
	if err != nil {
		return failed(err, "connecting to lockdownd")
	}
	var r engine.ProbeResult
	info, err := ld.DeviceInfo(ctx)
	if err != nil {
		return failed(err, "reading the device's name")
	}
	r.Name, r.ProductType, r.IOSVersion = info.Name, info.ProductType, info.ProductVersion
	if recErr != nil { // no record: this computer is not trusted
		if policy == engine.PairNever {
			r.State = engine.StateUntrusted
			return r
		}
		if x.ledger != nil {
			plug := x.plug(ctx, t, 0)
			if theirs, ok := x.othersPair(ctx, plug, r); ok {
				if theirs.State == engine.StateUntrustedLocked {
					x.adoptLocked(ctx, t)
				}
				return theirs
			}
			defer func() { _ = x.ledger.Record(plug, r.State) }()
		}
		x.pair(ctx, t, ld, &r)
		return r
	}
	rec, err := lockdown.ParsePairRecord(raw)
	if err != nil {
		r.State, r.Detail = engine.StateTrustRevoked, "the stored pair record is unreadable: "+err.Error()
		return r
	}
	x.session(ctx, ld, rec, &r)
	x.work(ctx, func(w *deviceWork) {
		w.record = nil
		if r.State == engine.StateReady || r.State == engine.StateLocked || r.State == engine.StateLockedSinceRestart {
			w.record = rec
		}
	})
	return r
}

// lockOnly re-reads the lock state of a phone that opened a session
// moments ago, with the record that opened it: no record read from
// usbmuxd, no device info. Only a clear answer counts (ok); anything else
// (no record kept, trust gone, an error) is left to the full probe, which
// also sees a record changed meanwhile.
func (x *executor) lockOnly(ctx context.Context, t engine.Target) (r engine.ProbeResult, ok bool) {
	var rec *lockdown.PairRecord
	x.work(ctx, func(w *deviceWork) { rec = w.record })
	if rec == nil {
		return r, false
	}
	ctx, cancel := context.WithTimeout(ctx, x.budget)
	defer cancel()
	ld, err := x.lockdown(ctx, t)
	if err != nil {
		return r, false
	}
	defer ld.Close()
	x.session(ctx, ld, rec, &r)
	switch r.State {
	case engine.StateReady, engine.StateLocked, engine.StateLockedSinceRestart:
		return r, true
	}
	return r, false
}

// session starts a lockdown session with the host record and reads the lock state.
func (x *executor) session(ctx context.Context, ld *lockdown.Conn, rec *lockdown.PairRecord, r *engine.ProbeResult) {
	id, err := ld.StartSession(ctx, rec)
	r.Lockdown = lockdownName(err)
	switch {
	case err == nil:
	case errors.Is(err, lockdown.ErrInvalidHostID):
		r.State, r.Detail = engine.StateTrustRevoked, "the iPhone does not know this computer's pairing (InvalidHostID)"
		return
	case errors.Is(err, lockdown.ErrBadPairRecord):
		// Our side is broken, not the phone's trust: say so.
		r.State, r.Detail = engine.StateTrustRevoked, "this computer's stored pair record is broken (its host key or certificate cannot be read); Fix trust replaces it"
		return
	case errors.Is(err, lockdown.ErrTLS):
		r.State, r.Detail = engine.StateTrustRevoked, "the iPhone rejected this computer's pair record (TLS handshake failed)"
		return
	case errors.Is(err, lockdown.ErrPasswordProtected), errors.Is(err, lockdown.ErrEscrowLocked):
		r.State = engine.StateLockedSinceRestart
		return
	default:
		*r = failedInto(*r, err, "starting a lockdown session")
		return
	}
	locked, err := ld.PasswordProtected(ctx)
	switch {
	case err != nil:
		r.State, r.Detail = engine.StateReady, "lock state unknown: "+err.Error()
	case locked:
		r.State = engine.StateLocked
	default:
		r.State = engine.StateReady
	}
	_ = ld.StopSession(ctx, id)
}

// pair sends one Pair with this device's pending record (made on first use)
// and reads the phone's answer into r.
func (x *executor) pair(ctx context.Context, t engine.Target, ld *lockdown.Conn, r *engine.ProbeResult) {
	rec, err := x.pendingRecord(ctx, t, ld)
	if err != nil {
		*r = failedInto(*r, err, "preparing a pair request")
		return
	}
	var observer *lockdown.NotificationStream
	if x.savesPairings {
		observer = x.observeRequestPair(ctx, t)
	}
	defer func() {
		if observer != nil {
			observer.Close()
		}
	}()
	escrow, err := ld.Pair(ctx, rec)
	r.Lockdown = lockdownName(err)
	switch {
	case err == nil:
		// Accepted without a dialog (the phone already trusted this host).
		rec.EscrowBag = escrow
		if !x.savesPairings {
			r.State, r.Detail = engine.StateReady, "paired; status does not save pair records"
			return
		}
		if err := x.save(ctx, t, rec); err != nil {
			*r = failedInto(*r, err, "saving the pair record")
			return
		}
		r.State = engine.StateReady
	case errors.Is(err, lockdown.ErrPairingDialogResponsePending):
		r.State, r.PairReached, r.OurPair = engine.StateTrustPending, true, true
		x.keepRequestPair(ctx, observer)
		observer = nil
	case errors.Is(err, lockdown.ErrUserDeniedPairing):
		r.State, r.PairReached = engine.StateTrustDenied, true
	case errors.Is(err, lockdown.ErrPasswordProtected):
		r.State = engine.StateUntrustedLocked
		x.work(ctx, func(w *deviceWork) { w.gated = x.savesPairings && observer == nil })
	default:
		*r = failedInto(*r, err, "asking the iPhone to pair")
	}
}

func (x *executor) pendingRecord(ctx context.Context, t engine.Target, ld *lockdown.Conn) (*lockdown.PairRecord, error) {
	rec := x.pendingOf(ctx)
	if rec != nil {
		return rec, nil
	}
	pub, err := ld.GetValue(ctx, "", "DevicePublicKey")
	if err != nil {
		return nil, err
	}
	pem, ok := pub.([]byte)
	if !ok {
		return nil, fmt.Errorf("DevicePublicKey is %T, not data", pub)
	}
	buid, err := usbmux.ReadBUID(ctx, x.addr)
	if err != nil {
		return nil, err
	}
	id, err := hostIdentity()
	if err != nil {
		return nil, err
	}
	if rec, err = id.PairRecord(pem, buid); err != nil {
		return nil, err
	}
	if wifi, err := ld.GetValue(ctx, "", "WiFiAddress"); err == nil {
		rec.WiFiMACAddress, _ = wifi.(string)
	}
	x.work(ctx, func(w *deviceWork) { w.pending = rec })
	return rec, nil
}

func (x *executor) pendingOf(ctx context.Context) (rec *lockdown.PairRecord) {
	x.work(ctx, func(w *deviceWork) { rec = w.pending })
	return rec
}

func (x *executor) dropPending(ctx context.Context) {
	x.work(ctx, func(w *deviceWork) { w.pending = nil })
}

// save stores an approved pairing in usbmuxd, with DeviceID so that every
// Listen client (iTunes, Finder, libimobiledevice) hears Paired.
func (x *executor) save(ctx context.Context, t engine.Target, rec *lockdown.PairRecord) error {
	data, err := rec.Marshal()
	if err != nil {
		return err
	}
	if err := usbmux.SavePairRecord(ctx, x.addr, t.UDID, t.DeviceID, data); err != nil {
		return err
	}
	x.dropPending(ctx)
	return nil
}

// sendPair is the user's Fix trust (or the unlock of a locked, untrusted
// phone): clear a stale record if asked, then one Pair.
func (x *executor) sendPair(ctx context.Context, c engine.SendPair) (r engine.ProbeResult) {
	t := c.Target
	ctx, cancel := context.WithTimeout(ctx, x.budget)
	defer cancel()
	if c.AfterUnlock > 0 && x.ledger != nil {
		// The Pair an unlock brings: one per unlock across processes (a
		// tray and a `watch` following the same phone both see the unlock).
		round := x.plug(ctx, t, c.AfterUnlock)
		if theirs, ok := x.othersPair(ctx, round, engine.ProbeResult{}); ok {
			return theirs
		}
		defer func() { _ = x.ledger.Record(round, r.State) }()
	}
	if c.ClearStale {
		if err := usbmux.DeletePairRecord(ctx, x.addr, t.UDID); err != nil && !errors.Is(err, usbmux.ErrNoPairRecord) {
			return failed(err, "removing the stale pair record")
		}
		x.dropPending(ctx)
	}
	ld, err := x.lockdown(ctx, t)
	if err != nil {
		return failed(err, "connecting to lockdownd")
	}
	defer ld.Close()
	x.pair(ctx, t, ld, &r)
	if x.ledger != nil {
		// Asked for (Fix trust) or ours to send (unlock): recorded, so no
		// other process sends the automatic one for this plug.
		plug := x.plug(ctx, t, 0)
		_, _, _ = x.ledger.Claim(plug)
		_ = x.ledger.Record(plug, r.State)
	}
	return r
}

// plug is t's entry in the Pair ledger: the Pair at plug-in (round 0) or
// the one an unlock brings (round n).
func (x *executor) plug(ctx context.Context, t engine.Target, round int) ledger.Plug {
	return ledger.Plug{Address: x.scope(ctx), UDID: t.UDID, DeviceID: t.DeviceID, Round: round}
}

// othersPair claims p's Pair in the ledger. When another process holds it,
// ok is true and theirs is what that Pair gave (waited for), on top of r.
func (x *executor) othersPair(ctx context.Context, p ledger.Plug, r engine.ProbeResult) (theirs engine.ProbeResult, ok bool) {
	if mine, _, err := x.ledger.Claim(p); err == nil && !mine {
		return fromLedger(x.ledger.Wait(ctx, p), r), true
	}
	return r, false
}

// adoptLocked: another process's Pair for this plug was refused while the
// phone was locked, which showed nothing (a `status` run before the tray
// started, say). A follower then waits for the unlock like the sender would:
// gated when the phone refuses the session-less service now, so the
// service coming back means "unlocked". The Pair the unlock brings is
// claimed per round (sendPair), so the prompt still comes up once.
func (x *executor) adoptLocked(ctx context.Context, t engine.Target) {
	if !x.savesPairings {
		return
	}
	obs := x.observeRequestPair(ctx, t)
	if obs != nil {
		obs.Close()
	}
	x.work(ctx, func(w *deviceWork) { w.gated = obs == nil })
}

// fromLedger reports a plug whose one Pair another process sent: what that
// Pair found, without asking the phone again.
func fromLedger(e ledger.Entry, r engine.ProbeResult) engine.ProbeResult {
	switch e.State {
	case engine.StateTrustPending, engine.StateUntrustedLocked, engine.StateTrustDenied:
		r.State = e.State
		r.Detail = fmt.Sprintf("as found at %s by the one Pair request trustwatch sends per plug (process %d)", e.At.Local().Format("15:04:05"), e.PID)
	default:
		r.State = engine.StateUntrusted
		r.Detail = fmt.Sprintf("trustwatch already sent this plug's one Pair request (process %d); not asking again", e.PID)
	}
	return r
}

// completePair finishes the pairing the user approved: the same record
// again, saved through usbmuxd, then a normal probe.
func (x *executor) completePair(ctx context.Context, t engine.Target) engine.ProbeResult {
	if !sleepCtx(ctx, completeGrace) { // if another pairer saves a record meanwhile, use that one
		return engine.ProbeResult{}
	}
	pctx, cancel := context.WithTimeout(ctx, x.budget)
	_, err := usbmux.ReadPairRecord(pctx, x.addr, t.UDID)
	cancel()
	if err == nil {
		return x.probe(ctx, t, engine.PairNever)
	}
	rec := x.pendingOf(ctx)
	if rec == nil {
		return x.probe(ctx, t, engine.PairNever)
	}
	pctx, cancel = context.WithTimeout(ctx, x.budget)
	defer cancel()
	ld, err := x.lockdown(pctx, t)
	if err != nil {
		return failed(err, "connecting to lockdownd")
	}
	var r engine.ProbeResult
	x.pair(pctx, t, ld, &r)
	ld.Close()
	if r.State != engine.StateReady {
		return r
	}
	return x.probe(ctx, t, engine.PairNever)
}

// unpair forgets the pairing on the phone (best effort) and in usbmuxd.
func (x *executor) unpair(ctx context.Context, t engine.Target) engine.ProbeResult {
	pctx, cancel := context.WithTimeout(ctx, x.budget)
	defer cancel()
	raw, err := usbmux.ReadPairRecord(pctx, x.addr, t.UDID)
	if err == nil {
		if rec, perr := lockdown.ParsePairRecord(raw); perr == nil {
			if ld, lerr := x.lockdown(pctx, t); lerr == nil {
				_ = ld.Unpair(pctx, rec) // the phone may have forgotten us already
				ld.Close()
			}
		}
		if err := usbmux.DeletePairRecord(pctx, x.addr, t.UDID); err != nil && !errors.Is(err, usbmux.ErrNoPairRecord) {
			return failed(err, "deleting the pair record")
		}
	}
	x.dropPending(ctx)
	return x.probe(ctx, t, engine.PairNever)
}

// awaitTrust waits, without sending Pair, for the Trust tap: relayed
// request_pair from the phone, or a record appearing in usbmuxd.
func (x *executor) awaitTrust(ctx context.Context, t engine.Target) engine.Event {
	seen := func(via engine.TrustSignal) engine.Event {
		return engine.TrustSeen{Key: t.Key, Epoch: t.Epoch, Via: via}
	}
	relayed := make(chan struct{}, 1)
	stream := x.takeRequestPair(ctx)
	if stream == nil {
		stream = x.observeRequestPair(ctx, t)
	}
	if stream != nil {
		defer stream.Close()
		go func() {
			for {
				name, err := stream.Next(ctx)
				if err != nil {
					return
				}
				if name == lockdown.RequestPair {
					relayed <- struct{}{}
					return
				}
			}
		}()
	}
	// With request_pair relayed, the record poll is only a backstop (another
	// pairer saving a record without DeviceID); without it, it is the signal.
	poll := trustPoll
	if stream != nil {
		poll = trustBackstop
	}
	slowAt := time.Now().Add(trustPatience)
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-relayed:
			return seen(engine.ViaRequestPair)
		case now := <-tick.C:
			if !slowAt.IsZero() && !now.Before(slowAt) {
				slowAt = time.Time{}
				tick.Reset(poll * trustSlowdown)
			}
			rctx, cancel := context.WithTimeout(ctx, x.budget)
			_, err := usbmux.ReadPairRecord(rctx, x.addr, t.UDID)
			cancel()
			if err == nil {
				return seen(engine.ViaRecord)
			}
		}
	}
}

// keepRequestPair keeps s as the device's request_pair subscription, closing
// any previous one (nil just closes). A phone that left meanwhile keeps
// nothing: s is closed at once.
func (x *executor) keepRequestPair(ctx context.Context, s *lockdown.NotificationStream) {
	var old *lockdown.NotificationStream
	if !x.work(ctx, func(w *deviceWork) { old, w.requestPair = w.requestPair, s }) {
		if s != nil {
			s.Close()
		}
		return
	}
	if old != nil && old != s {
		old.Close()
	}
}

func (x *executor) takeRequestPair(ctx context.Context) *lockdown.NotificationStream {
	var s *lockdown.NotificationStream
	x.work(ctx, func(w *deviceWork) { s, w.requestPair = w.requestPair, nil })
	return s
}

// observeRequestPair subscribes to request_pair through the phone's
// insecure_notification_proxy (no pairing needed). nil when unavailable.
func (x *executor) observeRequestPair(ctx context.Context, t engine.Target) *lockdown.NotificationStream {
	sctx, cancel := context.WithTimeout(ctx, x.budget)
	defer cancel()
	conn, err := x.startService(sctx, t, lockdown.InsecureNotificationProxy)
	if err != nil {
		return nil
	}
	stream, err := lockdown.ObserveNotifications(sctx, conn, lockdown.RequestPair)
	if err != nil {
		conn.Close()
		return nil
	}
	return stream
}

// startService starts a session-less service and connects to it.
func (x *executor) startService(ctx context.Context, t engine.Target, name string) (net.Conn, error) {
	ld, err := x.lockdown(ctx, t)
	if err != nil {
		return nil, err
	}
	port, _, err := ld.StartService(ctx, name)
	ld.Close()
	if err != nil {
		return nil, err
	}
	return usbmux.Connect(ctx, x.addr, t.DeviceID, port)
}

// awaitUnlock polls every `every`, without Pair, until a locked and
// untrusted phone accepts a session-less service again (it refuses with
// PasswordProtected while locked). One lockdown connection is kept across
// polls (lockdownd drops one idle for 10 s; the polls keep it busy), so a
// poll is one StartService round trip (lockdown.ServicePoll) rather than a
// usbmuxd connection, a Connect and a request. Each poll must end by the
// next one, so its deadline falls on the next tick and no timer of its
// own wakes the process between polls. A phone that accepted the service
// while refusing Pair as locked gives no such signal; it is left alone
// rather than asked again and again.
func (x *executor) awaitUnlock(ctx context.Context, t engine.Target, every time.Duration) engine.Event {
	var gated bool
	x.work(ctx, func(w *deviceWork) { gated = w.gated })
	if !gated || every <= 0 {
		return nil
	}
	var poll *lockdown.ServicePoll
	defer func() {
		if poll != nil {
			poll.Close()
		}
	}()
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		var now time.Time
		select {
		case <-ctx.Done():
			return nil
		case now = <-tick.C:
		}
		unlocked, keep := x.pollUnlock(ctx, t, &poll, now.Add(every))
		if !keep && poll != nil {
			poll.Close()
			poll = nil
		}
		if unlocked {
			return engine.Unlocked{Key: t.Key, Epoch: t.Epoch}
		}
	}
}

// pollUnlock asks once, on *poll (connected first if nil); keep is false
// when the connection should not be used again.
func (x *executor) pollUnlock(ctx context.Context, t engine.Target, poll **lockdown.ServicePoll, deadline time.Time) (unlocked, keep bool) {
	if *poll == nil {
		cctx, cancel := context.WithDeadline(ctx, deadline)
		c, err := usbmux.Connect(cctx, x.addr, t.DeviceID, lockdown.Port)
		cancel()
		if err != nil {
			return false, false
		}
		if *poll, err = lockdown.NewServicePoll(c, lockdown.InsecureNotificationProxy, "trustwatch"); err != nil {
			return false, false
		}
	}
	p := *poll
	stop := context.AfterFunc(ctx, func() { p.Close() }) // cancelled (unplugged): unblock at once
	port, err := p.Ask(deadline)
	stop()
	switch {
	case err == nil:
		// Take the port, so the service lockdownd started is not left
		// waiting for us.
		cctx, cancel := context.WithTimeout(ctx, x.budget)
		if conn, err := usbmux.Connect(cctx, x.addr, t.DeviceID, port); err == nil {
			conn.Close()
		}
		cancel()
		return true, false
	case errors.Is(err, lockdown.ErrPasswordProtected):
		return false, true
	default:
		return false, false // a broken connection, or a refusal we do not know: start afresh
	}
}

// noRecord: usbmuxd has no usable record. Linux usbmuxd answers a missing
// one with result 2 (ENOENT); what Apple's daemons answer is unconfirmed,
// so any clean refusal counts as "no record" rather than as a failure.
func noRecord(err error) bool {
	var refused *usbmux.ResultError
	return errors.Is(err, usbmux.ErrNoPairRecord) || errors.As(err, &refused)
}

func failed(err error, doing string) engine.ProbeResult {
	return failedInto(engine.ProbeResult{}, err, doing)
}

func failedInto(r engine.ProbeResult, err error, doing string) engine.ProbeResult {
	r.State, r.Detail, r.Lockdown = engine.StateError, doing+": "+err.Error(), lockdownName(err)
	return r
}

// lockdownName is the lockdownd error name in err ("" when err is not a
// lockdownd Error reply).
func lockdownName(err error) string {
	var le *lockdown.Error
	if errors.As(err, &le) {
		return le.Code
	}
	return ""
}
