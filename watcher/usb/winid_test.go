package usb

import "testing"

func TestParseInstanceID(t *testing.T) {
	for _, c := range []struct {
		id       string
		vid, pid int
		serial   string
		ok       bool
	}{
		{`USB\VID_05AC&PID_12A8\00008030001A2B3C4D5E6F70`, 0x05AC, 0x12A8, "00008030001A2B3C4D5E6F70", true},
		{`usb\vid_05ac&pid_12a8\00008030001a2b3c4d5e6f70`, 0x05AC, 0x12A8, "00008030001a2b3c4d5e6f70", true},
		{`USB\VID_05AC&PID_12AB\0123456789abcdef0123456789abcdef01234567`, 0x05AC, 0x12AB, "0123456789abcdef0123456789abcdef01234567", true},
		// No serial: Windows makes one up, with '&'.
		{`USB\VID_05AC&PID_1281\5&2B4C9A&0&1`, 0x05AC, 0x1281, "", true},
		{`USB\VID_046D&PID_C52B\6&1A2B3C&0&2`, 0x046D, 0xC52B, "", true},
		// Per-interface children of the composite device: not a device of their own.
		{`USB\VID_05AC&PID_12A8&MI_00\7&3A0B1C2D&0&0000`, 0, 0, "", false},
		{`USB\VID_05AC&PID_12A8&MI_01\7&3A0B1C2D&0&0001`, 0, 0, "", false},
		{`USB\ROOT_HUB30\4&1C2D3E&0&0`, 0, 0, "", false},
		{`HID\VID_05AC&PID_12A8\00008030001A2B3C4D5E6F70`, 0, 0, "", false},
		{`USB\VID_05AC&PID_12A8\`, 0, 0, "", false},
		{`USB\VID_05AC&PID_12A8`, 0, 0, "", false},
		{`USB\VID_05AC&PID_12A8\a\b`, 0, 0, "", false},
		{`USB\VID_5AC&PID_12A8\x`, 0, 0, "", false},
		{`USB\VID_05AC&PID_12G8\x`, 0, 0, "", false},
		{`USB\VID_+5AC&PID_12A8\x`, 0, 0, "", false},
		{`USB\PID_12A8&VID_05AC\x`, 0, 0, "", false},
		{``, 0, 0, "", false},
		{`\\\`, 0, 0, "", false},
		{"USB\\VID_05AC&PID_12A8\\bad\x01serial", 0x05AC, 0x12A8, "", true},
	} {
		vid, pid, serial, ok := parseInstanceID(c.id)
		if vid != c.vid || pid != c.pid || serial != c.serial || ok != c.ok {
			t.Errorf("parseInstanceID(%q) = %#x, %#x, %q, %v; want %#x, %#x, %q, %v", c.id, vid, pid, serial, ok, c.vid, c.pid, c.serial, c.ok)
		}
	}
}

// The serial from the instance ID is matched to the Apple service's UDID.
func TestInstanceIDGivesUDID(t *testing.T) {
	for _, c := range []struct{ id, udid string }{
		{`USB\VID_05AC&PID_12A8\00008030001A2B3C4D5E6F70`, "00008030-001A2B3C4D5E6F70"},
		{`USB\VID_05AC&PID_12A8\00008030001a2b3c4d5e6f70`, "00008030-001A2B3C4D5E6F70"},
		{`USB\VID_05AC&PID_12AB\0123456789ABCDEF0123456789ABCDEF01234567`, "0123456789abcdef0123456789abcdef01234567"},
		{`USB\VID_05AC&PID_12A8\6&1A2B3C&0&2`, ""},
		{`USB\VID_05AC&PID_1281\5&2B4C9A&0&1`, ""},
	} {
		_, pid, serial, _ := parseInstanceID(c.id)
		kind, _ := Classify(AppleVendorID, pid)
		d := Device{ProductID: pid, Serial: serial, Kind: kind}
		if got := d.UDID(); got != c.udid {
			t.Errorf("%s: UDID %q, want %q", c.id, got, c.udid)
		}
	}
}

func TestInstanceIDFromInterface(t *testing.T) {
	for _, c := range []struct{ path, id string }{
		{`\\?\USB#VID_05AC&PID_12A8#00008030001A2B3C4D5E6F70#{a5dcbf10-6530-11d2-901f-00c04fb951ed}`, `USB\VID_05AC&PID_12A8\00008030001A2B3C4D5E6F70`},
		{`\??\USB#VID_05AC&PID_1281#5&2b4c9a&0&1#{a5dcbf10-6530-11d2-901f-00c04fb951ed}`, `USB\VID_05AC&PID_1281\5&2b4c9a&0&1`},
		{`USB#VID_05AC&PID_12A8#x#{a5dcbf10-6530-11d2-901f-00c04fb951ed}`, ""},
		{`\\?\USB#VID_05AC&PID_12A8#x`, ""},
		{`\\?\USB#VID_05AC&PID_12A8#x#{a5dcbf10`, ""},
		{``, ""},
	} {
		if got := instanceIDFromInterface(c.path); got != c.id {
			t.Errorf("instanceIDFromInterface(%q) = %q, want %q", c.path, got, c.id)
		}
	}
}

func TestIsAppleInstanceID(t *testing.T) {
	for id, want := range map[string]bool{
		`USB\VID_05AC&PID_12A8\x`: true,
		`usb\vid_05ac&pid_1281\x`: true,
		`USB\VID_05AD&PID_12A8\x`: false,
		`HID\VID_05AC&PID_12A8\x`: false,
		`USB\VID_05AC`:            false,
		``:                        false,
	} {
		if got := isAppleInstanceID(id); got != want {
			t.Errorf("isAppleInstanceID(%q) = %v", id, got)
		}
	}
}

// Device Manager's problem codes that keep the Apple service from a phone
// are named, with the step each needs; the others are not driver problems.
// (internal/say's tests check the words in every language.)
func TestDriverProblem(t *testing.T) {
	for _, c := range []struct {
		problem       int
		want, wantNxt string
	}{
		{0, "", ""},
		{28, "usb.problem.28", "usb.next.install"},
		{22, "usb.problem.22", "usb.next.enable"},
		{10, "usb.problem.10", "usb.next.install"},
		{43, "usb.problem.43", "usb.next.restart"},
		{45, "", ""}, // "not connected": not a driver problem
		{-1, "", ""},
	} {
		if got, next := (Device{Problem: c.problem}).DriverProblem(); got != c.want || next != c.wantNxt {
			t.Errorf("problem %d: %q %q, want %q %q", c.problem, got, next, c.want, c.wantNxt)
		}
	}
}

// A device whose problem code changes while plugged in (a driver was
// installed) is announced again, without an unplug in between.
func TestTrackerProblemChange(t *testing.T) {
	tr := newTracker()
	d := Device{Address: 7, Path: `USB\VID_05AC&PID_12A8\00008030001A2B3C4D5E6F70`, ProductID: 0x12A8, Problem: 28}
	if evs := tr.scan([]Device{d}, true); len(evs) != 1 || evs[0].Kind != Added || evs[0].Device.Problem != 28 {
		t.Fatalf("first scan: %v", evs)
	}
	if evs := tr.scan([]Device{d}, true); len(evs) != 0 {
		t.Fatalf("same scan again: %v", evs)
	}
	d.Problem = 0
	if evs := tr.scan([]Device{d}, true); len(evs) != 1 || evs[0].Kind != Added || evs[0].Device.Problem != 0 {
		t.Fatalf("after the driver install: %v", evs)
	}
	if evs := tr.scan(nil, true); len(evs) != 1 || evs[0].Kind != Removed {
		t.Fatalf("unplugged: %v", evs)
	}
}
