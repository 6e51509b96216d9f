package engine

import (
	"testing"
	"time"
)

func TestSnapshotExpire(t *testing.T) {
	ready := Device{Key: "a", State: StateReady, Guide: StateReady.Anchor(), Advice: StateAdvice(StateReady)}
	probing := Device{Key: "b", State: StateProbing, Detail: "asking lockdownd"}
	tests := []struct {
		name        string
		in          Snapshot
		wantMuxErr  string
		wantDevices []Device
	}{
		{"nothing heard", Snapshot{}, "no answer from usbmuxd within 10s", []Device{}},
		{"refused keeps its reason", Snapshot{Usbmux: Usbmux{Error: "permission denied"}}, "permission denied", []Device{}},
		{"final states stay, probing becomes an error", Snapshot{Usbmux: Usbmux{Reachable: true}, Devices: []Device{ready, probing}}, "",
			[]Device{ready, {Key: "b", State: StateError, Guide: StateError.Anchor(), Advice: StateAdvice(StateError), Detail: "no answer from the device within 10s"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := append([]Device(nil), tc.in.Devices...)
			got := tc.in.Expire(10 * time.Second)
			if got.Usbmux.Error != tc.wantMuxErr {
				t.Errorf("usbmuxd error %q, want %q", got.Usbmux.Error, tc.wantMuxErr)
			}
			if got.Devices == nil || len(got.Devices) != len(tc.wantDevices) {
				t.Fatalf("devices %+v, want %+v", got.Devices, tc.wantDevices)
			}
			for i := range got.Devices {
				if got.Devices[i] != tc.wantDevices[i] {
					t.Errorf("device %d: %+v, want %+v", i, got.Devices[i], tc.wantDevices[i])
				}
			}
			for i := range before {
				if tc.in.Devices[i] != before[i] {
					t.Errorf("Expire changed its receiver's device %d", i)
				}
			}
			if !got.AllFinal() {
				t.Error("an expired snapshot still has a device in progress")
			}
		})
	}
}
