package sim

import (
	"testing"
	"time"
)

func TestPreflight(t *testing.T) {
	s, err := Start(Options{Preflight: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	m := dialMux(t, s)
	m.send(map[string]any{"MessageType": "Listen"})
	if _, d, err := m.read(time.Second); err != nil || resultNumber(t, d) != 0 {
		t.Fatal(d, err)
	}
	event := func(want string) map[string]any {
		t.Helper()
		_, d, err := m.read(2 * time.Second)
		if err != nil || str(d, "MessageType") != want {
			t.Fatalf("want %s event, got %v %v", want, d, err)
		}
		return d
	}
	noEvent := func() {
		t.Helper()
		if _, d, err := m.read(100 * time.Millisecond); err == nil {
			t.Fatalf("unexpected event %v", d)
		}
	}

	trusted := s.AddDevice(DeviceConfig{Trusted: true})
	event("Attached")
	if st := trusted.Stats(); st.PairRequests != 0 {
		t.Errorf("trusted phone got a preflight Pair: %+v", st)
	}

	bfu := s.AddDevice(DeviceConfig{Trusted: true, BFU: true})
	event("Attached")
	if bfu.Stats().PairRequests != 0 {
		t.Error("BFU phone was paired by preflight")
	}

	// Untrusted and unlocked: the alert shows without any client, and a
	// Trust tap ends in a saved record and a Paired event.
	fresh := s.AddDevice(DeviceConfig{})
	event("Attached")
	if st := fresh.Stats(); !fresh.DialogShowing() || st.PairRequests != 1 || st.DialogShows != 1 {
		t.Fatalf("preflight did not show the alert: %+v", st)
	}
	if _, ok := s.PairRecord(fresh.UDID()); ok {
		t.Fatal("record before Trust")
	}
	fresh.TapTrust()
	ev := event("Paired")
	if id, _ := num(ev, "DeviceID"); int(id) != fresh.DeviceID() {
		t.Errorf("Paired for %d, want %d", id, fresh.DeviceID())
	}
	raw, ok := s.PairRecord(fresh.UDID())
	if !ok || !fresh.Trusts(s.HostID()) {
		t.Fatal("preflight did not pair after Trust")
	}
	if e, err := lockdownConn(t, s, fresh).startSession(parseRecord(t, raw)); e != "" || err != nil {
		t.Fatalf("session with preflight's record: %s %v", e, err)
	}

	// Untrusted and locked: listed, no alert; unlocking later does not bring it.
	locked := s.AddDevice(DeviceConfig{Locked: true})
	event("Attached")
	locked.Unlock()
	if locked.DialogShowing() || locked.Stats().PairRequests != 1 {
		t.Errorf("locked: dialog %v, %+v", locked.DialogShowing(), locked.Stats())
	}

	// Denied: listed, Pair answered UserDeniedPairing, no alert.
	denied := s.AddDevice(DeviceConfig{Denied: true})
	event("Attached")
	if denied.DialogShowing() {
		t.Error("denied phone shows the alert")
	}

	// A stale record is deleted and the phone asked again.
	bad := s.AddDevice(DeviceConfig{BadRecord: true})
	event("Attached")
	if _, ok := s.PairRecord(bad.UDID()); ok || !bad.DialogShowing() {
		t.Errorf("bad record: kept %v, dialog %v", ok, bad.DialogShowing())
	}

	// A phone whose lockdownd misbehaves is never listed.
	silent := s.AddDevice(DeviceConfig{Trusted: true, Fault: FaultLockdownSilent})
	noEvent()
	if !silent.Attached() || silent.Visible() {
		t.Errorf("silent: attached %v visible %v", silent.Attached(), silent.Visible())
	}
	if r, _ := dialMux(t, s).connect(silent.DeviceID(), lockdownPort); r != 2 {
		t.Errorf("Connect to an unlisted phone: Result %d, want 2", r)
	}
	list := dialMux(t, s).call(map[string]any{"MessageType": "ListDevices"})["DeviceList"].([]any)
	if len(list) != 6 {
		t.Errorf("ListDevices has %d entries, want 6", len(list))
	}
	silent.Detach()
	noEvent() // never listed, so no Detached either
	silent.SetFault(FaultNone)
	silent.Attach()
	event("Attached")
}
