package watcher

import (
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/trustwatch/trustwatch/internal/sim"
	"github.com/trustwatch/trustwatch/watcher/engine"
)

// countLog counts the phone's request-log entries that start with prefix.
func countLog(d *sim.Device, prefix string) int {
	n := 0
	for _, e := range d.Stats().Requests {
		if strings.HasPrefix(e, prefix) {
			n++
		}
	}
	return n
}

const observeLockState = "np ObserveNotification com.apple.springboard.lockstate"

// waitLog waits until the phone's log has at least n entries with prefix.
func waitLog(t *testing.T, d *sim.Device, prefix string, n int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for countLog(d, prefix) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%q seen %d times within %v, want %d", prefix, countLog(d, prefix), within, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A trusted phone is followed live both ways, including one that was ready
// at plug-in: one notification_proxy session, no polling while it is ready.
func TestLockFollowedLive(t *testing.T) {
	t.Parallel()
	r := newRig(t, trayCfg)
	d := r.sim.AddDevice(sim.DeviceConfig{Trusted: true})
	r.await(d.UDID(), engine.StateReady, 5*time.Second)
	waitLog(t, d, observeLockState, 1, 5*time.Second)
	if n := r.w.exec.followed.Load(); n != 1 {
		t.Fatalf("%d observers for one phone", n)
	}
	for i := 0; i < 2; i++ {
		t0 := time.Now()
		d.Lock()
		r.await(d.UDID(), engine.StateLocked, time.Second)
		t.Logf("lock → locked in %v", time.Since(t0))
		t0 = time.Now()
		d.Unlock()
		r.await(d.UDID(), engine.StateReady, time.Second)
		t.Logf("unlock → ready in %v", time.Since(t0))
	}
	sessions := d.Stats().StartSessions
	time.Sleep(3 * time.Second)
	if n := d.Stats().StartSessions - sessions; n != 0 {
		t.Errorf("%d sessions in 3 s while ready; a ready phone is followed by events only", n)
	}
	if n := countLog(d, observeLockState); n != 1 {
		t.Errorf("lockstate observed %d times, want one session for the whole plug", n)
	}
	d.Detach()
	deadline := time.Now().Add(3 * time.Second)
	for r.w.exec.followed.Load() > 0 {
		if time.Now().After(deadline) {
			t.Fatal("the lockstate observer outlived the detach")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// An iOS that does not relay lockstate: the backstop poll (every 2 s in
// the first two minutes) still sees the unlock.
func TestLockNotRelayedIsPolled(t *testing.T) {
	t.Parallel()
	r := newRig(t, trayCfg)
	d := r.sim.AddDevice(sim.DeviceConfig{Trusted: true, Locked: true, NoLockRelay: true})
	r.await(d.UDID(), engine.StateLocked, 5*time.Second)
	waitLog(t, d, observeLockState, 1, 5*time.Second)
	time.Sleep(2 * time.Second)
	d.Unlock()
	r.await(d.UDID(), engine.StateReady, 3*time.Second)
}

// A phone that refuses the observer, sends garbage on it, or drops it:
// it is re-opened with backoff (10 s first), never in a tight loop, and
// the diagnosis is unaffected.
func TestLockObserverFaults(t *testing.T) {
	t.Parallel()
	r := newRig(t, trayCfg)
	refusing := r.sim.AddDevice(sim.DeviceConfig{Trusted: true, ProxyFault: sim.ProxyFaultRefuse})
	garbage := r.sim.AddDevice(sim.DeviceConfig{Trusted: true, ProxyFault: sim.ProxyFaultGarbage})
	dropping := r.sim.AddDevice(sim.DeviceConfig{Trusted: true})
	for _, d := range []*sim.Device{refusing, garbage, dropping} {
		r.await(d.UDID(), engine.StateReady, 5*time.Second)
	}
	waitLog(t, dropping, observeLockState, 1, 5*time.Second)
	dropping.SetProxyFault(sim.ProxyFaultDrop)
	dropping.SetProxyFault(sim.ProxyFaultNone)
	time.Sleep(3 * time.Second)
	const start = "lockdown StartService com.apple.mobile.notification_proxy"
	for _, d := range []*sim.Device{refusing, garbage, dropping} {
		if n := countLog(d, start); n != 1 {
			t.Errorf("%s: notification_proxy started %d times in 3 s, want 1 (backoff)", d.Name(), n)
		}
		if got := r.w.Snapshot().Devices; len(got) != 3 {
			t.Fatalf("devices %+v", got)
		}
	}
	for _, d := range r.w.Snapshot().Devices {
		if d.State != engine.StateReady {
			t.Errorf("%s: %s %s", d.Name, d.State, d.Detail)
		}
	}
	// The dropped one comes back after the backoff and follows again.
	waitLog(t, dropping, observeLockState, 2, 12*time.Second)
	dropping.Lock()
	r.await(dropping.UDID(), engine.StateLocked, time.Second)
}

// A locked, untrusted phone is polled on one kept lockdown connection: a
// poll is one StartService round trip, not a new connection to the phone.
func TestUnlockPollKeepsItsConnection(t *testing.T) {
	t.Parallel()
	r := newRig(t, trayCfg)
	d := r.sim.AddDevice(sim.DeviceConfig{Locked: true})
	r.await(d.UDID(), engine.StateUntrustedLocked, 5*time.Second)
	conns := d.Stats().LockdownConnections
	const poll = "lockdown StartService com.apple.mobile.insecure_notification_proxy -> PasswordProtected"
	polls := countLog(d, poll)
	time.Sleep(4 * time.Second)
	if n := countLog(d, poll) - polls; n < 3 || n > 5 {
		t.Errorf("%d polls in 4 s, want one every 0.9 s", n)
	}
	if n := d.Stats().LockdownConnections - conns; n > 1 {
		t.Errorf("%d new lockdown connections for the polls, want at most 1", n)
	}
	t0 := time.Now()
	d.Unlock()
	r.await(d.UDID(), engine.StateTrustPending, time.Second)
	t.Logf("unlock → trust-pending in %v", time.Since(t0))
}

func TestLockFollowersLeaveNoGoroutines(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	r := newRig(t, trayCfg)
	ready := r.sim.AddDevice(sim.DeviceConfig{Trusted: true})
	locked := r.sim.AddDevice(sim.DeviceConfig{Trusted: true, Locked: true})
	r.await(ready.UDID(), engine.StateReady, 5*time.Second)
	r.await(locked.UDID(), engine.StateLocked, 5*time.Second)
	waitLog(t, ready, observeLockState, 1, 5*time.Second)
	waitLog(t, locked, observeLockState, 1, 5*time.Second)
	r.stop()
	goleak.VerifyNone(t, ignore)
}

// A re-check reads only the lock, with the record that opened the last
// session; a record the phone no longer accepts is not taken for an
// answer, the full probe decides.
func TestRecheckReadsOnlyTheLock(t *testing.T) {
	t.Parallel()
	r := newRig(t, trayCfg)
	d := r.sim.AddDevice(sim.DeviceConfig{Trusted: true, Locked: true, NoLockRelay: true})
	r.await(d.UDID(), engine.StateLocked, 5*time.Second)
	mark := len(d.Stats().Requests)
	sessions := countLog(d, "lockdown StartSession")
	waitLog(t, d, "lockdown StartSession", sessions+2, 5*time.Second) // backstop checks every 2 s
	for _, e := range d.Stats().Requests[mark:] {
		if e == "lockdown GetValue" || strings.HasPrefix(e, "lockdown GetValue DeviceName") {
			t.Fatalf("a lock re-check read the device info: %q", d.Stats().Requests[mark:])
		}
	}
	if n := r.sim.MuxStats().Requests["ReadPairRecord"]; n > 3 {
		t.Errorf("%d ReadPairRecord requests: re-checks read the record again", n)
	}
	// Trust reset while locked: the next check finds out.
	d.ResetTrust()
	dev := r.await(d.UDID(), engine.StateTrustRevoked, 4*time.Second)
	if dev.Name != "Anna's iPhone" {
		t.Errorf("name lost: %+v", dev)
	}
}
