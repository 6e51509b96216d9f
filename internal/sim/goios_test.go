package sim

import (
	"strings"
	"testing"
	"time"

	"github.com/danielpaulus/go-ios/ios"
)

// TestGoIOS checks the sim against go-ios v1.3.2, an independent Go stack:
// its listing, Listen, pair-record reading, TLS session (Go's TLS client
// with go-ios's SHA-1 certificates) and its Pair flow.
func TestGoIOS(t *testing.T) {
	s := quietServer(t)
	t.Setenv("USBMUXD_SOCKET_ADDRESS", strings.ToLower(s.Address()[:4])+s.Address()[4:])
	trusted := s.AddDevice(DeviceConfig{Trusted: true, Locked: true})
	fresh := s.AddDevice(DeviceConfig{Network: true})

	list, err := ios.ListDevices()
	if err != nil {
		t.Fatal(err)
	}
	var usb []ios.DeviceEntry
	for _, e := range list.DeviceList {
		if e.Properties.ConnectionType == "USB" {
			usb = append(usb, e)
		}
	}
	if len(list.DeviceList) != 3 || len(usb) != 2 {
		t.Fatalf("go-ios lists %d entries (%d USB): %+v", len(list.DeviceList), len(usb), list.DeviceList)
	}
	entry := func(d *Device) ios.DeviceEntry {
		for _, e := range usb {
			if e.DeviceID == d.DeviceID() {
				return e
			}
		}
		t.Fatalf("%s not listed", d.UDID())
		return ios.DeviceEntry{}
	}
	te, fe := entry(trusted), entry(fresh)
	if te.Properties.SerialNumber != trusted.UDID() || te.Properties.ProductID != 0x12a8 {
		t.Errorf("properties %+v", te.Properties)
	}

	// A session with the record the sim stored.
	vals, err := ios.GetValuesPlist(te)
	if err != nil {
		t.Fatalf("go-ios session: %v", err)
	}
	if vals["PasswordProtected"] != true || vals["DeviceName"] != trusted.Name() {
		t.Errorf("values: PasswordProtected=%v DeviceName=%v", vals["PasswordProtected"], vals["DeviceName"])
	}

	// Listen: one Attached per entry (go-ios does not filter Network).
	recv, closeListen, err := ios.Listen()
	if err != nil {
		t.Fatal(err)
	}
	defer closeListen()
	got := make(chan ios.AttachedMessage, 16)
	go func() {
		for {
			m, err := recv()
			if err != nil {
				close(got)
				return
			}
			got <- m
		}
	}()
	seen := 0
	timeout := time.After(3 * time.Second)
	for seen < 3 {
		select {
		case m := <-got:
			if !m.DeviceAttached() {
				t.Fatalf("unexpected %+v", m)
			}
			seen++
		case <-timeout:
			t.Fatalf("go-ios Listen saw %d Attached, want 3", seen)
		}
	}

	// Pair: pending, then Trust, then a working session with go-ios's own
	// SHA-1 signed certificates.
	err = ios.Pair(fe)
	if err == nil || !strings.Contains(err.Error(), "accept the PairingDialog") {
		t.Fatalf("first Pair: %v", err)
	}
	fresh.TapTrust()
	if err := ios.Pair(fe); err != nil {
		t.Fatalf("Pair after Trust: %v", err)
	}
	rec, err := ios.ReadPairRecord(fresh.UDID())
	if err != nil {
		t.Fatal(err)
	}
	if !fresh.Trusts(rec.HostID) {
		t.Fatalf("device does not trust go-ios's HostID %s", rec.HostID)
	}
	if _, err := ios.GetValuesPlist(fe); err != nil {
		t.Fatalf("session with go-ios's record: %v", err)
	}
	if st := fresh.Stats(); st.TLSHandshakes != 1 || st.SavePairRecords != 1 {
		t.Errorf("stats %+v", st)
	}
	fresh.Detach()
	select {
	case m := <-got:
		if !m.DeviceDetached() || m.DeviceID != fresh.DeviceID() {
			t.Errorf("want Detached %d, got %+v", fresh.DeviceID(), m)
		}
	case <-time.After(2 * time.Second):
		t.Error("no Detached via go-ios Listen")
	}
}
