package sim

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseDeviceSpec(t *testing.T) {
	cfg, err := ParseDeviceSpec("name=Anna's iPhone, product=iPhone15,2,ios=17.5,id=7,pid=0x12a8,location=0x10005,state=locked,network,fault=tls-stall,no-lock-relay")
	if err != nil {
		t.Fatal(err)
	}
	want := DeviceConfig{Name: "Anna's iPhone", ProductType: "iPhone15,2", ProductVersion: "17.5", DeviceID: 7, ProductID: 0x12a8,
		LocationID: 0x10005, Trusted: true, Locked: true, Network: true, Fault: FaultTLSStall, NoLockRelay: true}
	if cfg != want {
		t.Errorf("got %+v\nwant %+v", cfg, want)
	}
	states := map[string]DeviceConfig{
		"ready":                {Trusted: true},
		"locked":               {Trusted: true, Locked: true},
		"locked-since-restart": {Trusted: true, Locked: true, BFU: true},
		"untrusted":            {},
		"untrusted-locked":     {Locked: true},
		"trust-pending":        {Dialog: true},
		"trust-denied":         {Denied: true},
		"trust-revoked":        {Revoked: true},
		"bad-record":           {BadRecord: true},
		"no-data":              {Detached: true},
	}
	if len(states) != len(DeviceStates) {
		t.Fatalf("DeviceStates has %d entries, table %d", len(DeviceStates), len(states))
	}
	for st, want := range states {
		got, err := ParseDeviceSpec("state=" + st)
		if err != nil || got != want {
			t.Errorf("state=%s: %+v %v, want %+v", st, got, err, want)
		}
	}
	for _, bad := range []string{"state=happy", "color=red", "id=x", "pid=0x123456", "fault=boom", "justaword", "name=a,name=b", "network=maybe"} {
		if _, err := ParseDeviceSpec(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestParseScript(t *testing.T) {
	steps, err := ParseScript("after 2s unlock; at 5s tap-trust @Anna's iPhone # comment\n fault=lockdown-reset @3\nadd=name=Ben,state=ready;quit")
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != 5 {
		t.Fatalf("%d steps: %+v", len(steps), steps)
	}
	if s := steps[0]; s.Wait != 2*time.Second || s.At != -1 || s.Action != "unlock" || s.Target != "" {
		t.Errorf("step 0: %+v", s)
	}
	if s := steps[1]; s.At != 5*time.Second || s.Action != "tap-trust" || s.Target != "Anna's iPhone" {
		t.Errorf("step 1: %+v", s)
	}
	if s := steps[2]; s.Action != "fault" || s.Arg != "lockdown-reset" || s.Target != "3" {
		t.Errorf("step 2: %+v", s)
	}
	if s := steps[3]; s.Action != "add" || s.Arg != "name=Ben,state=ready" {
		t.Errorf("step 3: %+v", s)
	}
	for _, bad := range []string{"after unlock", "after -1s unlock", "dance", "unlock now", "fault=nope", "mux-fault=nope", "unlock @", "lock=1", "after 1s", "add=state=weird"} {
		if _, err := ParseScript(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestPlay(t *testing.T) {
	s := quietServer(t)
	a := s.AddDevice(DeviceConfig{Locked: true})
	b := s.AddDevice(DeviceConfig{Trusted: true})
	steps, err := ParseScript("after 10ms unlock @1; await-dialog; tap-trust; lock @" + b.Name() + "; add=name=Cleo,state=trust-denied; mux-stop; mux-restart; quit; unlock")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	done := make(chan error, 1)
	go func() {
		done <- s.Play(context.Background(), steps, func(f string, a ...any) { lines = append(lines, f) })
	}()
	waitFor(t, "unlock", 2*time.Second, func() bool { return !a.Locked() })
	host, _ := pooledHost("simtest-client")
	if e, _ := pairAsHost(t, lockdownConn(t, s, a), host, "BBBBBBBB-2222-4333-8444-555555555555", s.SystemBUID()); e != "PairingDialogResponsePending" {
		t.Fatalf("Pair: %s", e)
	}
	select {
	case err := <-done:
		if !errors.Is(err, ErrQuit) {
			t.Fatalf("Play: %v", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Play did not finish")
	}
	if a.DialogShowing() || !b.Locked() || a.Locked() {
		t.Errorf("after play: dialog %v, b locked %v, a locked %v", a.DialogShowing(), b.Locked(), a.Locked())
	}
	if c := s.Device("Cleo"); c == nil {
		t.Error("add did not add Cleo")
	}
	if list := dialMux(t, s).call(map[string]any{"MessageType": "ListDevices"})["DeviceList"].([]any); len(list) != 3 {
		t.Errorf("after mux-restart: %d devices", len(list))
	}
	// A missing target is an error; a cancelled context stops waiting.
	bad, _ := ParseScript("unlock @nobody")
	if err := s.Play(context.Background(), bad, nil); err == nil || !strings.Contains(err.Error(), "nobody") {
		t.Errorf("missing target: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	wait, _ := ParseScript("after 1h unlock")
	if err := s.Play(ctx, wait, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("cancel: %v", err)
	}
}
