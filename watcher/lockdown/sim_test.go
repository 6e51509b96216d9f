package lockdown_test

// Integration tests against internal/sim, a usbmuxd + lockdownd simulator
// with real TLS sessions. They drive watcher/usbmux and watcher/lockdown the
// way trustwatch's executor does.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/trustwatch/trustwatch/internal/sim"
	"github.com/trustwatch/trustwatch/internal/simtest"
	"github.com/trustwatch/trustwatch/watcher/lockdown"
	"github.com/trustwatch/trustwatch/watcher/usbmux"
)

// dial opens a lockdown connection to the device with this UDID.
func dial(ctx context.Context, addr usbmux.Address, udid string) (*lockdown.Conn, usbmux.DeviceInfo, error) {
	devs, err := usbmux.ListDevices(ctx, addr)
	if err != nil {
		return nil, usbmux.DeviceInfo{}, err
	}
	for _, d := range devs {
		if d.IsUSB() && usbmux.NormalizeUDID(d.UDID) == usbmux.NormalizeUDID(udid) {
			raw, err := usbmux.Connect(ctx, addr, d.DeviceID, lockdown.Port)
			if err != nil {
				return nil, d, err
			}
			return lockdown.New(raw, ""), d, nil
		}
	}
	return nil, usbmux.DeviceInfo{}, fmt.Errorf("device %s not listed", udid)
}

// diagnose is the executor's probe in miniature: it maps what the phone
// says to a contract state name. allowPair sends at most one Pair.
func diagnose(ctx context.Context, addr usbmux.Address, udid string, allowPair bool) (string, lockdown.Info, error) {
	c, _, err := dial(ctx, addr, udid)
	if err != nil {
		return "", lockdown.Info{}, err
	}
	defer c.Close()
	if ty, err := c.QueryType(ctx); err != nil {
		return "", lockdown.Info{}, err
	} else if ty != lockdown.TypeLockdown {
		return "recovery-mode", lockdown.Info{}, nil
	}
	info, err := c.DeviceInfo(ctx)
	if err != nil {
		return "", info, err
	}
	data, err := usbmux.ReadPairRecord(ctx, addr, udid)
	if errors.Is(err, usbmux.ErrNoPairRecord) {
		if !allowPair {
			return "untrusted", info, nil
		}
		pem, err := c.DevicePublicKey(ctx)
		if err != nil {
			return "", info, err
		}
		buid, err := usbmux.ReadBUID(ctx, addr)
		if err != nil {
			return "", info, err
		}
		rec, err := lockdown.NewPairRecord(pem, buid)
		if err != nil {
			return "", info, err
		}
		_, err = c.Pair(ctx, rec)
		switch {
		case errors.Is(err, lockdown.ErrPairingDialogResponsePending):
			return "trust-pending", info, nil
		case errors.Is(err, lockdown.ErrPasswordProtected):
			return "untrusted-locked", info, nil
		case errors.Is(err, lockdown.ErrUserDeniedPairing):
			return "trust-denied", info, nil
		case err != nil:
			return "", info, err
		}
		return "paired-now", info, nil
	}
	if err != nil {
		return "", info, err
	}
	rec, err := lockdown.ParsePairRecord(data)
	if err != nil {
		return "trust-revoked", info, nil
	}
	sid, err := c.StartSession(ctx, rec)
	switch {
	case errors.Is(err, lockdown.ErrInvalidHostID), errors.Is(err, lockdown.ErrTLS):
		return "trust-revoked", info, nil
	case errors.Is(err, lockdown.ErrPasswordProtected):
		return "locked-since-restart", info, nil
	case err != nil:
		return "", info, err
	}
	locked, err := c.PasswordProtected(ctx)
	if err != nil {
		return "", info, err
	}
	if err := c.StopSession(ctx, sid); err != nil {
		return "", info, err
	}
	if locked {
		return "locked", info, nil
	}
	return "ready", info, nil
}

func TestSimSituations(t *testing.T) {
	s, addr := simtest.StartAddr(t, sim.Options{}, usbmux.ParseAddress)
	cases := []struct {
		name      string
		cfg       sim.DeviceConfig
		want      string
		pairs     int // Pair requests the probe may send
		handshake int // completed TLS sessions
	}{
		{"ready", sim.DeviceConfig{Trusted: true}, "ready", 0, 1},
		{"locked", sim.DeviceConfig{Trusted: true, Locked: true}, "locked", 0, 1},
		{"bfu", sim.DeviceConfig{Trusted: true, BFU: true}, "locked-since-restart", 0, 0},
		{"revoked", sim.DeviceConfig{Revoked: true}, "trust-revoked", 0, 0},
		{"bad record", sim.DeviceConfig{BadRecord: true}, "trust-revoked", 0, 0},
		{"untrusted locked", sim.DeviceConfig{Locked: true}, "untrusted-locked", 1, 0},
		{"pending", sim.DeviceConfig{}, "trust-pending", 1, 0},
		{"pending after preflight", sim.DeviceConfig{Dialog: true}, "trust-pending", 1, 0},
		{"denied", sim.DeviceConfig{Denied: true}, "trust-denied", 1, 0},
		{"wifi duplicate", sim.DeviceConfig{Trusted: true, Network: true}, "ready", 0, 1},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.Name = fmt.Sprintf("Phone %d", i)
			d := s.AddDevice(cfg)
			fds := simtest.FDs(t)
			start := time.Now()
			state, info, err := diagnose(simtest.Ctx(t, 5*time.Second), addr, d.UDID(), true)
			took := time.Since(start)
			if err != nil {
				t.Fatalf("diagnose: %v\nrequests: %q", err, d.Stats().Requests)
			}
			if state != tc.want {
				t.Fatalf("state %q, want %q\nrequests: %q", state, tc.want, d.Stats().Requests)
			}
			if info.Name != cfg.Name || info.ProductType != d.ProductType() || info.ProductVersion != d.ProductVersion() ||
				usbmux.NormalizeUDID(info.UDID) != usbmux.NormalizeUDID(d.UDID()) || info.DeviceClass != "iPhone" {
				t.Fatalf("info %+v", info)
			}
			st := d.Stats()
			if st.PairRequests != tc.pairs || st.TLSHandshakes != tc.handshake || st.SavePairRecords != 0 {
				t.Fatalf("pairs %d (want %d), handshakes %d (want %d), saves %d", st.PairRequests, tc.pairs, st.TLSHandshakes, tc.handshake, st.SavePairRecords)
			}
			if st.DialogFlashes > 0 && !cfg.Dialog {
				t.Fatalf("dialog flashed %d times", st.DialogFlashes)
			}
			// Every socket of the probe is closed (the sim's own end lives in
			// this process too, so wait for it).
			simtest.WaitFDs(t, fds)
			t.Logf("%s: %v, %d requests", tc.name, took.Round(time.Millisecond), len(st.Requests))
			d.Detach()
		})
	}
}

func TestSimNoPair(t *testing.T) {
	s, addr := simtest.StartAddr(t, sim.Options{}, usbmux.ParseAddress)
	d := s.AddDevice(sim.DeviceConfig{})
	state, _, err := diagnose(simtest.Ctx(t, 5*time.Second), addr, d.UDID(), false)
	if err != nil || state != "untrusted" {
		t.Fatalf("%q %v", state, err)
	}
	if n := d.Stats().PairRequests; n != 0 {
		t.Fatalf("--no-pair sent %d Pair requests", n)
	}
}

// Trust flow: Pair shows the dialog, the user taps Trust, the next Pair
// succeeds, SavePairRecord (with DeviceID) makes usbmuxd send Paired, and
// the saved record opens a TLS session.
func TestSimPairAfterTrust(t *testing.T) {
	s, addr := simtest.StartAddr(t, sim.Options{}, usbmux.ParseAddress)
	d := s.AddDevice(sim.DeviceConfig{})
	ctx := simtest.Ctx(t, 10*time.Second)
	l, err := usbmux.Listen(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ev, err := l.Next()
	if err != nil || ev.Kind != usbmux.Attached || ev.Device.UDID != d.UDID() {
		t.Fatalf("first event %+v %v", ev, err)
	}
	c, info, err := dial(ctx, addr, d.UDID())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	pub, err := c.GetValue(ctx, "", "DevicePublicKey")
	if err != nil {
		t.Fatal(err)
	}
	pem, ok := pub.([]byte)
	if !ok {
		t.Fatalf("DevicePublicKey is %T", pub)
	}
	buid, err := usbmux.ReadBUID(ctx, addr)
	if err != nil || buid != s.SystemBUID() {
		t.Fatalf("ReadBUID %q %v", buid, err)
	}
	rec, err := lockdown.NewPairRecord(pem, buid)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Pair(ctx, rec); !errors.Is(err, lockdown.ErrPairingDialogResponsePending) {
		t.Fatalf("first Pair: %v", err)
	}
	if !d.DialogShowing() {
		t.Fatal("no Trust dialog after Pair")
	}
	d.TapTrust()
	bag, err := c.Pair(ctx, rec)
	if err != nil || len(bag) == 0 {
		t.Fatalf("Pair after TapTrust: %d-byte bag, %v", len(bag), err)
	}
	data, err := rec.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := usbmux.SavePairRecord(ctx, addr, d.UDID(), info.DeviceID, data); err != nil {
		t.Fatal(err)
	}
	ev, err = l.Next()
	if err != nil || ev.Kind != usbmux.Paired || ev.DeviceID != info.DeviceID || ev.Device.UDID != d.UDID() {
		t.Fatalf("want Paired for %d, got %+v %v", info.DeviceID, ev, err)
	}
	stored, err := usbmux.ReadPairRecord(ctx, addr, d.UDID())
	if err != nil {
		t.Fatal(err)
	}
	back, err := lockdown.ParsePairRecord(stored)
	if err != nil || back.HostID != rec.HostID || string(back.EscrowBag) != string(bag) {
		t.Fatalf("stored record: %v (%v)", back, err)
	}
	// A fresh connection now gets a real TLS session with the record.
	state, _, err := diagnose(ctx, addr, d.UDID(), false)
	if err != nil || state != "ready" {
		t.Fatalf("after pairing: %q %v", state, err)
	}
	if st := d.Stats(); st.TLSHandshakes != 1 || st.DialogShows != 1 || st.DialogFlashes != 0 {
		t.Fatalf("stats %+v", st)
	}
	// Unpair forgets us; StartSession then says InvalidHostID.
	c2, _, err := dial(ctx, addr, d.UDID())
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if err := c2.Unpair(ctx, back); err != nil {
		t.Fatal(err)
	}
	if _, err := c2.StartSession(ctx, back); !errors.Is(err, lockdown.ErrInvalidHostID) {
		t.Fatalf("after Unpair: %v", err)
	}
	if err := usbmux.DeletePairRecord(ctx, addr, d.UDID()); err != nil {
		t.Fatal(err)
	}
	if _, err := usbmux.ReadPairRecord(ctx, addr, d.UDID()); !errors.Is(err, usbmux.ErrNoPairRecord) {
		t.Fatalf("after delete: %v", err)
	}
}

// The insecure notification proxy relays request_pair when Trust is tapped.
func TestSimRequestPairNotification(t *testing.T) {
	s, addr := simtest.StartAddr(t, sim.Options{}, usbmux.ParseAddress)
	d := s.AddDevice(sim.DeviceConfig{Dialog: true})
	ctx := simtest.Ctx(t, 10*time.Second)
	c, info, err := dial(ctx, addr, d.UDID())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	port, ssl, err := c.StartService(ctx, lockdown.InsecureNotificationProxy)
	if err != nil || ssl {
		t.Fatalf("StartService: %d %v %v", port, ssl, err)
	}
	raw, err := usbmux.Connect(ctx, addr, info.DeviceID, port)
	if err != nil {
		t.Fatal(err)
	}
	ns, err := lockdown.ObserveNotifications(ctx, raw, lockdown.RequestPair)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	// Nothing yet: a short wait times out and the stream stays usable.
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	if _, err := ns.Next(short); !errors.Is(err, lockdown.ErrTimeout) {
		t.Fatalf("before TapTrust: %v", err)
	}
	cancel()
	d.After(50*time.Millisecond, (*sim.Device).TapTrust)
	name, err := ns.Next(ctx)
	if err != nil || name != lockdown.RequestPair {
		t.Fatalf("Next = %q %v", name, err)
	}
	// Unplugging ends the stream cleanly.
	d.Detach()
	if _, err := ns.Next(ctx); err == nil || errors.Is(err, lockdown.ErrTimeout) {
		t.Fatalf("after Detach: %v", err)
	}
}

func TestSimFaults(t *testing.T) {
	s, addr := simtest.StartAddr(t, sim.Options{}, usbmux.ParseAddress)
	cases := []struct {
		fault sim.Fault
		want  error
	}{
		{sim.FaultLockdownGarbage, lockdown.ErrProtocol},
		{sim.FaultLockdownSilent, lockdown.ErrTimeout},
		{sim.FaultLockdownReset, lockdown.ErrDisconnected},
		{sim.FaultTLSStall, lockdown.ErrTimeout},
		{sim.FaultConnectRefused, usbmux.ErrConnectionRefused},
		{sim.FaultMuxGarbage, usbmux.ErrProtocol},
	}
	fds := simtest.FDs(t)
	gor := simtest.Goroutines()
	for _, tc := range cases {
		t.Run(tc.fault.String(), func(t *testing.T) {
			d := s.AddDevice(sim.DeviceConfig{Trusted: true, Fault: tc.fault})
			start := time.Now()
			_, _, err := diagnose(simtest.Ctx(t, 400*time.Millisecond), addr, d.UDID(), false)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if errors.Is(err, lockdown.ErrTLS) {
				t.Fatalf("%v must not look like a rejected record", err)
			}
			if took := time.Since(start); took > 2*time.Second { // deadline 400 ms
				t.Fatalf("took %v", took)
			}
			d.Detach()
		})
	}
	simtest.WaitFDs(t, fds)
	simtest.WaitGoroutines(t, gor)
}

// Repeated probes of every kind leave no sockets behind.
func TestSimNoLeaks(t *testing.T) {
	s, addr := simtest.StartAddr(t, sim.Options{}, usbmux.ParseAddress)
	udids := []string{
		s.AddDevice(sim.DeviceConfig{Trusted: true}).UDID(),
		s.AddDevice(sim.DeviceConfig{Revoked: true}).UDID(),
		s.AddDevice(sim.DeviceConfig{BadRecord: true}).UDID(),
		s.AddDevice(sim.DeviceConfig{Trusted: true, BFU: true}).UDID(),
	}
	// Warm up (lazy key generation in the sim).
	for _, u := range udids {
		if _, _, err := diagnose(simtest.Ctx(t, 5*time.Second), addr, u, false); err != nil {
			t.Fatal(err)
		}
	}
	fds := simtest.FDs(t)
	gor := simtest.Goroutines()
	start := time.Now()
	const rounds = 10
	for i := 0; i < rounds; i++ {
		for _, u := range udids {
			if _, _, err := diagnose(simtest.Ctx(t, 5*time.Second), addr, u, false); err != nil {
				t.Fatal(err)
			}
		}
	}
	per := time.Since(start) / (rounds * time.Duration(len(udids)))
	simtest.WaitFDs(t, fds)
	simtest.WaitGoroutines(t, gor)
	t.Logf("%d probes, %v per probe (ListDevices, Connect, QueryType, GetValue, ReadPairRecord, StartSession+TLS, ...)", rounds*len(udids), per)
}

// BenchmarkProbeReady: one full diagnosis of a trusted phone (ListDevices,
// Connect, QueryType, GetValue, ReadPairRecord, StartSession with TLS,
// PasswordProtected, StopSession).
func BenchmarkProbeReady(b *testing.B) {
	s, addr := simtest.StartAddr(b, sim.Options{}, usbmux.ParseAddress)
	d := s.AddDevice(sim.DeviceConfig{Trusted: true})
	ctx := context.Background()
	for b.Loop() {
		if st, _, err := diagnose(ctx, addr, d.UDID(), false); err != nil || st != "ready" {
			b.Fatal(st, err)
		}
	}
}

// openLockObserver starts a session on the device and observes lockstate
// through its notification_proxy (service TLS), as the executor does.
func openLockObserver(ctx context.Context, t *testing.T, s *sim.Server, addr usbmux.Address, d *sim.Device) (*lockdown.NotificationStream, error) {
	t.Helper()
	raw, ok := s.PairRecord(d.UDID())
	if !ok {
		t.Fatal("no record")
	}
	rec, err := lockdown.ParsePairRecord(raw)
	if err != nil {
		t.Fatal(err)
	}
	c, info, err := dial(ctx, addr, d.UDID())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close() // the stream outlives the lockdown connection
	id, err := c.StartSession(ctx, rec)
	if err != nil {
		t.Fatal(err)
	}
	stream, err := lockdown.ObserveLockState(ctx, c, rec, func(ctx context.Context, port uint16) (net.Conn, error) {
		return usbmux.Connect(ctx, addr, info.DeviceID, port)
	})
	if err == nil {
		_ = c.StopSession(ctx, id)
	}
	return stream, err
}

// observing waits until the phone has the lockstate observer registered.
func observing(t *testing.T, d *sim.Device) {
	t.Helper()
	simtest.Eventually(t, "the lockstate observer registered", func() error {
		if strings.Contains(strings.Join(d.Stats().Requests, "\n"), "np ObserveNotification "+lockdown.LockState) {
			return nil
		}
		return errors.New("not in the phone's request log")
	})
}

func TestSimLockStateObserver(t *testing.T) {
	s, addr := simtest.StartAddr(t, sim.Options{}, usbmux.ParseAddress)
	d := s.AddDevice(sim.DeviceConfig{Trusted: true})
	ctx := simtest.Ctx(t, 10*time.Second)
	fds, gor := simtest.FDs(t), simtest.Goroutines()
	ns, err := openLockObserver(ctx, t, s, addr, d)
	if err != nil {
		t.Fatal(err)
	}
	observing(t, d)
	for i, change := range []func(){d.Lock, d.Unlock, d.Lock} {
		change()
		if name, err := ns.Next(ctx); err != nil || name != lockdown.LockState {
			t.Fatalf("change %d: %q %v", i, name, err)
		}
	}
	// Quiet while nothing changes; a timeout leaves it usable.
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	if _, err := ns.Next(short); !errors.Is(err, lockdown.ErrTimeout) {
		t.Fatalf("idle: %v", err)
	}
	cancel()
	d.Unlock()
	if name, err := ns.Next(ctx); err != nil || name != lockdown.LockState {
		t.Fatalf("after a timeout: %q %v", name, err)
	}
	ns.Close()
	simtest.WaitFDs(t, fds)
	simtest.WaitGoroutines(t, gor)
}

func TestSimLockStateObserverFaults(t *testing.T) {
	s, addr := simtest.StartAddr(t, sim.Options{}, usbmux.ParseAddress)
	ctx := simtest.Ctx(t, 10*time.Second)
	refusing := s.AddDevice(sim.DeviceConfig{Trusted: true, ProxyFault: sim.ProxyFaultRefuse})
	if _, err := openLockObserver(ctx, t, s, addr, refusing); !errors.Is(err, lockdown.ErrInvalidService) {
		t.Fatalf("refused: %v", err)
	}
	garbage := s.AddDevice(sim.DeviceConfig{Trusted: true, ProxyFault: sim.ProxyFaultGarbage})
	ns, err := openLockObserver(ctx, t, s, addr, garbage)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ns.Next(ctx); !errors.Is(err, lockdown.ErrProtocol) {
		t.Fatalf("garbage: %v", err)
	}
	ns.Close()
	dropping := s.AddDevice(sim.DeviceConfig{Trusted: true})
	ns, err = openLockObserver(ctx, t, s, addr, dropping)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	observing(t, dropping)
	dropping.SetProxyFault(sim.ProxyFaultDrop)
	if _, err := ns.Next(ctx); err == nil || errors.Is(err, lockdown.ErrTimeout) {
		t.Fatalf("dropped: %v", err)
	}
	// Unplugging ends a stream too.
	plugged := s.AddDevice(sim.DeviceConfig{Trusted: true})
	ns2, err := openLockObserver(ctx, t, s, addr, plugged)
	if err != nil {
		t.Fatal(err)
	}
	defer ns2.Close()
	plugged.Detach()
	if _, err := ns2.Next(ctx); err == nil || errors.Is(err, lockdown.ErrTimeout) {
		t.Fatalf("detached: %v", err)
	}
}

// The unlock poll against the simulator: refused while locked, on one
// connection; the port once unlocked.
func TestSimServicePoll(t *testing.T) {
	s, addr := simtest.StartAddr(t, sim.Options{}, usbmux.ParseAddress)
	d := s.AddDevice(sim.DeviceConfig{Locked: true})
	ctx := simtest.Ctx(t, 10*time.Second)
	devs, err := usbmux.ListDevices(ctx, addr)
	if err != nil || len(devs) != 1 {
		t.Fatal(devs, err)
	}
	raw, err := usbmux.Connect(ctx, addr, devs[0].DeviceID, lockdown.Port)
	if err != nil {
		t.Fatal(err)
	}
	p, err := lockdown.NewServicePoll(raw, lockdown.InsecureNotificationProxy, "")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for i := 0; i < 3; i++ {
		if _, err := p.Ask(time.Now().Add(2 * time.Second)); !errors.Is(err, lockdown.ErrPasswordProtected) {
			t.Fatalf("locked, poll %d: %v", i, err)
		}
	}
	d.Unlock()
	port, err := p.Ask(time.Now().Add(2 * time.Second))
	if err != nil || port == 0 {
		t.Fatalf("unlocked: %d %v", port, err)
	}
	if n := d.Stats().LockdownConnections; n != 1 {
		t.Errorf("%d lockdown connections for 4 polls", n)
	}
}
