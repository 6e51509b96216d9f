package watcher

import (
	"context"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/trustwatch/trustwatch/internal/sim"
	"github.com/trustwatch/trustwatch/internal/simtest"
	"github.com/trustwatch/trustwatch/watcher/engine"
	"github.com/trustwatch/trustwatch/watcher/usbmux"
)

type rig struct {
	t    testing.TB
	sim  *sim.Server
	w    *Watcher
	snap <-chan engine.Snapshot
	stop func()
}

func newRig(t testing.TB, cfg engine.Config) *rig { return newRigBudget(t, cfg, 0) }

func newRigBudget(t testing.TB, cfg engine.Config, budget time.Duration) *rig {
	t.Helper()
	s, addr := simtest.StartAddr(t, sim.Options{}, usbmux.ParseAddress)
	w := New(Config{Address: addr, Engine: cfg, ProbeBudget: budget})
	ctx, cancel := context.WithCancel(context.Background())
	snaps, unsub := w.Subscribe()
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	r := &rig{t: t, sim: s, w: w, snap: snaps}
	r.stop = func() {
		cancel()
		<-done
		unsub()
		s.Close()
	}
	t.Cleanup(r.stop)
	return r
}

// await waits for the device with this UDID to reach state.
func (r *rig) await(udid string, state engine.State, within time.Duration) engine.Device {
	r.t.Helper()
	deadline := time.After(within)
	key := engine.NormalizeUDID(udid)
	for {
		if d, ok := r.w.Snapshot().Device(key); ok && d.State == state {
			return d
		}
		select {
		case <-r.snap:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			d, _ := r.w.Snapshot().Device(key)
			r.t.Fatalf("%s: no %s within %v (now %q %s)", udid, state, within, d.State, d.Detail)
		}
	}
}

var trayCfg = engine.Config{Mode: engine.ModeFollow, AllowPair: true}

func TestFixTrustPairsOnceAndSaves(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   sim.DeviceConfig
		start engine.State
		eng   engine.Config
	}{
		{"untrusted", sim.DeviceConfig{}, engine.StateUntrusted, engine.Config{Mode: engine.ModeFollow}},
		{"trust-revoked", sim.DeviceConfig{Revoked: true}, engine.StateTrustRevoked, trayCfg},
		{"bad record", sim.DeviceConfig{BadRecord: true}, engine.StateTrustRevoked, trayCfg},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, tc.eng)
			d := r.sim.AddDevice(tc.cfg)
			dev := r.await(d.UDID(), tc.start, 5*time.Second)
			r.w.FixTrust(dev.Key)
			r.await(d.UDID(), engine.StateTrustPending, 5*time.Second)
			time.Sleep(100 * time.Millisecond)
			d.TapTrust()
			r.await(d.UDID(), engine.StateReady, 5*time.Second)
			if st := d.Stats(); st.DialogShows != 1 || st.DialogFlashes != 0 {
				t.Errorf("dialog shown %d, flashed %d", st.DialogShows, st.DialogFlashes)
			}
			if _, ok := r.sim.PairRecord(d.UDID()); !ok {
				t.Error("record not saved")
			}
		})
	}
}

func TestForgetRemovesPairing(t *testing.T) {
	r := newRig(t, trayCfg)
	d := r.sim.AddDevice(sim.DeviceConfig{Trusted: true})
	dev := r.await(d.UDID(), engine.StateReady, 5*time.Second)
	r.w.Forget(dev.Key)
	r.await(d.UDID(), engine.StateUntrusted, 5*time.Second)
	if _, ok := r.sim.PairRecord(d.UDID()); ok {
		t.Error("the host's record is still in usbmuxd")
	}
	if len(d.TrustedHosts()) != 0 {
		t.Errorf("the phone still trusts %v", d.TrustedHosts())
	}
	if n := d.Stats().PairRequests; n != 0 {
		t.Errorf("Forget sent %d Pair requests", n)
	}
}

func TestLockedPhoneBecomesReadyWhenUnlocked(t *testing.T) {
	r := newRig(t, trayCfg)
	d := r.sim.AddDevice(sim.DeviceConfig{Trusted: true, BFU: true})
	r.await(d.UDID(), engine.StateLockedSinceRestart, 5*time.Second)
	d.Unlock()
	r.await(d.UDID(), engine.StateReady, 5*time.Second)
}

func TestRunLeavesNoGoroutines(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	r := newRig(t, trayCfg)
	d := r.sim.AddDevice(sim.DeviceConfig{Locked: true}) // AwaitUnlock polling
	r.await(d.UDID(), engine.StateUntrustedLocked, 5*time.Second)
	p := r.sim.AddDevice(sim.DeviceConfig{})
	r.await(p.UDID(), engine.StateTrustPending, 5*time.Second) // AwaitTrust with a live proxy stream
	r.stop()
	goleak.VerifyNone(t, ignore)
}

// A device pulled out in the middle of a probe, a lockdown that never
// answers, a TLS handshake that stalls: the device goes away or ends in
// error within the budget, and nothing is left running.
func TestTortureMidProbe(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	r := newRigBudget(t, trayCfg, time.Second)
	pulled := r.sim.AddDevice(sim.DeviceConfig{Trusted: true, Fault: sim.FaultLockdownSilent})
	stalled := r.sim.AddDevice(sim.DeviceConfig{Trusted: true, Fault: sim.FaultTLSStall})
	time.Sleep(200 * time.Millisecond)
	pulled.Detach()
	key := engine.NormalizeUDID(pulled.UDID())
	deadline := time.Now().Add(2 * time.Second)
	for {
		if _, ok := r.w.Snapshot().Device(key); !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a device pulled mid-probe is still listed")
		}
		time.Sleep(10 * time.Millisecond)
	}
	d := r.await(stalled.UDID(), engine.StateError, 3*time.Second)
	if d.Detail == "" {
		t.Error("error without detail")
	}
	r.stop()
	goleak.VerifyNone(t, ignore)
}

// BenchmarkAttachToFinalState measures attach → final state per state, in
// process (the bench script measures the same through `watch --json`).
// trust-denied is absent: a replug brings the Trust prompt back, so it
// cannot be repeated on one simulated phone.
func BenchmarkAttachToFinalState(b *testing.B) {
	for _, c := range []struct {
		want engine.State
		cfg  sim.DeviceConfig
	}{
		{engine.StateReady, sim.DeviceConfig{Trusted: true}},
		{engine.StateLocked, sim.DeviceConfig{Trusted: true, Locked: true}},
		{engine.StateTrustPending, sim.DeviceConfig{}},
		{engine.StateUntrustedLocked, sim.DeviceConfig{Locked: true}},
		{engine.StateTrustRevoked, sim.DeviceConfig{Revoked: true}},
	} {
		b.Run(string(c.want), func(b *testing.B) {
			r := newRig(b, engine.Config{AllowPair: true, UnstableCycles: 1 << 30}) // replugs here are not flapping
			c.cfg.Detached = true
			d := r.sim.AddDevice(c.cfg)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				d.Attach()
				r.await(d.UDID(), c.want, 5*time.Second)
				b.StopTimer()
				d.Detach()
				key := engine.NormalizeUDID(d.UDID())
				for {
					if _, ok := r.w.Snapshot().Device(key); !ok {
						break
					}
					time.Sleep(time.Millisecond)
				}
				b.StartTimer()
			}
		})
	}
}
