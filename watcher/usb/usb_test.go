package usb

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

func TestClassify(t *testing.T) {
	cases := []struct {
		vid, pid int
		kind     Kind
		ok       bool
	}{
		{0x05AC, 0x12A8, KindMobile, true},
		{0x05AC, 0x1290, KindMobile, true},
		{0x05AC, 0x12AF, KindMobile, true},
		{0x05AC, 0x12B0, 0, false}, // HomePod
		{0x05AC, 0x128F, 0, false},
		{0x05AC, 0x1280, KindRecovery, true},
		{0x05AC, 0x1283, KindRecovery, true},
		{0x05AC, 0x1284, 0, false},
		{0x05AC, 0x1227, KindDFU, true},
		{0x05AC, 0x1222, KindDFU, true},
		{0x05AC, 0x8600, 0, false}, // T2
		{0x046D, 0x12A8, 0, false}, // not Apple
	}
	for _, c := range cases {
		k, ok := Classify(c.vid, c.pid)
		if ok != c.ok || (ok && k != c.kind) {
			t.Errorf("Classify(%04x, %04x) = %v, %v; want %v, %v", c.vid, c.pid, k, ok, c.kind, c.ok)
		}
	}
}

func TestLocationID(t *testing.T) {
	if got := (Device{Bus: 1, Address: 5}).LocationID(); got != 0x10005 {
		t.Errorf("LocationID(1,5) = %#x", got)
	}
	if got := (Device{Bus: 3, Address: 127}).LocationID(); got != 3<<16|127 {
		t.Errorf("LocationID(3,127) = %#x", got)
	}
}

func TestPortPathAndSpeed(t *testing.T) {
	if s := portPath(1, []int{1}); s != "1-1" {
		t.Errorf("portPath = %q", s)
	}
	if s := portPath(2, []int{3, 4, 1}); s != "2-3.4.1" {
		t.Errorf("portPath = %q", s)
	}
	if s := portPath(1, nil); s != "usb1" {
		t.Errorf("portPath root = %q", s)
	}
	for in, want := range map[int]int{0: 0, 1: 1, 2: 12, 3: 480, 4: 5000, 5: 10000, 99: 0} {
		if got := speedMbps(in); got != want {
			t.Errorf("speedMbps(%d) = %d, want %d", in, got, want)
		}
	}
}

func TestPrintable(t *testing.T) {
	for s, want := range map[string]bool{
		"00008030001A2B3C4D5E6F70":        true,
		"CPID:8030 ECID:1 SRTG:[iBoot-1]": true,
		"":                                false,
		"abc\x00def":                      false,
		"caf\u00e9":                       false,
		string(make([]byte, 300)):         false,
	} {
		if printable(s) != want {
			t.Errorf("printable(%q) = %v", s, !want)
		}
	}
}

func dev(addr int, pid int, speed int, serial string) Device {
	return Device{Bus: 1, Address: addr, Port: addr, Path: fmt.Sprintf("1-%d", addr), ProductID: pid, SpeedMbps: speed, Serial: serial}
}

func evs(es []Event) string {
	s := ""
	for _, e := range es {
		s += fmt.Sprintf("%s:%d ", e.Kind, e.Device.Address)
	}
	return s
}

func TestTracker(t *testing.T) {
	a, b := dev(5, 0x12A8, 480, "A"), dev(6, 0x1227, 480, "")
	tr := newTracker()
	steps := []struct {
		name string
		do   func() []Event
		want string
	}{
		{"initial scan adds both, sorted", func() []Event { return tr.scan([]Device{b, a}, true) }, "added:5 added:6 "},
		{"same scan again: nothing", func() []Event { return tr.scan([]Device{a, b}, true) }, ""},
		{"serial readable later: same device", func() []Event { return tr.scan([]Device{a, dev(6, 0x1227, 480, "X")}, true) }, ""},
		{"left removes at once", func() []Event { return tr.left(key{1, 5}) }, "removed:5 "},
		{"left again: nothing", func() []Event { return tr.left(key{1, 5}) }, ""},
		{"stale scan still shows it: tombstone hides it", func() []Event { return tr.scan([]Device{a, b}, true) }, ""},
		{"scan without it clears the tombstone", func() []Event { return tr.scan([]Device{b}, true) }, ""},
		{"replug at the same address adds again", func() []Event { return tr.scan([]Device{a, b}, true) }, "added:5 "},
		{"incomplete scan never removes", func() []Event { return tr.scan([]Device{a}, false) }, ""},
		{"complete scan removes the missing one", func() []Event { return tr.scan([]Device{a}, true) }, "removed:6 "},
		{"same address, other device: remove then add", func() []Event { return tr.scan([]Device{dev(5, 0x12A8, 12, "A")}, true) }, "removed:5 added:5 "},
		{"left then arrived at the same address before any scan", func() []Event {
			out := tr.left(key{1, 5})
			tr.arrived(key{1, 5})
			return append(out, tr.scan([]Device{a}, true)...)
		}, "removed:5 added:5 "},
		{"left for an unknown device", func() []Event { return tr.left(key{2, 9}) }, ""},
		{"empty complete scan removes all", func() []Event { return tr.scan(nil, true) }, "removed:5 "},
	}
	for _, s := range steps {
		if got := evs(s.do()); got != s.want {
			t.Fatalf("%s: got %q, want %q", s.name, got, s.want)
		}
	}
}

func TestUDID(t *testing.T) {
	cases := []struct {
		kind   Kind
		serial string
		want   string
	}{
		{KindMobile, "00008030001A2B3C4D5E6F70", "00008030-001A2B3C4D5E6F70"},
		{KindMobile, "00008030001a2b3c4d5e6f70", "00008030-001A2B3C4D5E6F70"},
		{KindMobile, "F1C15F36C3461BF9B24D568084D17CFB2D4243C4", "f1c15f36c3461bf9b24d568084d17cfb2d4243c4"},
		{KindMobile, "", ""},
		{KindMobile, "not-a-udid", ""},
		{KindDFU, "CPID:8030 CPRV:11 CPFM:03 SCEP:01 BDID:0C ECID:001A2B3C4D5E6F70 IBFL:3C SRTG:[iBoot-4513.0.0.0.3]", "00008030-001A2B3C4D5E6F70"},
		{KindRecovery, "CPID:8101 CPRV:11 BDID:08 ECID:000A1B2C3D4E5F60 IBFL:3D SRNM:[X]", "00008101-000A1B2C3D4E5F60"},
		{KindRecovery, "CPID:6000 ECID:1234", "00006000-0000000000001234"},
		{KindDFU, "CPID:8015 CPRV:11 ECID:001A2B3C4D5E6F70", ""}, // A11: hashed UDID
		{KindDFU, "CPID:8960 ECID:001A2B3C4D5E6F70", ""},         // A7
		{KindDFU, "CPID:8030 ECID:zz", ""},
		{KindDFU, "CPID:8030", ""},
		{KindDFU, "ECID:001A2B3C4D5E6F70", ""},
		{KindDFU, "CPID:8030 ECID:00112233445566778899", ""}, // too long
	}
	for _, c := range cases {
		if got := (Device{Kind: c.kind, Serial: c.serial}).UDID(); got != c.want {
			t.Errorf("UDID(%v, %q) = %q, want %q", c.kind, c.serial, got, c.want)
		}
	}
}

func TestDevSignatureIsOrderFree(t *testing.T) {
	a, b := dev(5, 0x12A8, 480, "A"), dev(6, 0x1227, 480, "")
	if devSignature([]Device{a, b}) != devSignature([]Device{b, a}) {
		t.Error("signature depends on order")
	}
	if devSignature(nil) != 0 || devSignature([]Device{a}) == devSignature([]Device{b}) {
		t.Error("signature does not tell sets apart")
	}
	c := a
	c.ProductID = 0x1281
	if devSignature([]Device{a}) == devSignature([]Device{c}) {
		t.Error("signature ignores the product ID")
	}
}

// Random sequences of scans and hotplug hints: per device, events must
// alternate Added/Removed starting with Added, and a complete scan must
// leave exactly the scanned, non-tombstoned devices known.
func TestTrackerRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for run := 0; run < 200; run++ {
		tr := newTracker()
		last := map[key]EventKind{}
		check := func(evs []Event) {
			for _, e := range evs {
				k := e.Device.key()
				prev, seen := last[k]
				if (!seen && e.Kind != Added) || (seen && prev == e.Kind && e.Kind == Added) {
					// Removed+Added for a changed device is fine; two Added
					// in a row or a first Removed is not.
					t.Fatalf("run %d: %v after %v (seen %v)", run, e, prev, seen)
				}
				if seen && prev == Removed && e.Kind == Removed {
					t.Fatalf("run %d: Removed twice for %v", run, k)
				}
				last[k] = e.Kind
			}
		}
		for step := 0; step < 50; step++ {
			addr := 5 + rng.IntN(3)
			switch rng.IntN(4) {
			case 0:
				check(tr.left(key{1, addr}))
			case 1:
				tr.arrived(key{1, addr})
			default:
				var devs []Device
				for a := 5; a < 8; a++ {
					if rng.IntN(2) == 0 {
						devs = append(devs, dev(a, 0x12A8, []int{12, 480}[rng.IntN(2)], ""))
					}
				}
				complete := rng.IntN(4) != 0
				check(tr.scan(devs, complete))
				if complete {
					want := map[key]bool{}
					for _, d := range devs {
						if !tr.gone[d.key()] {
							want[d.key()] = true
						}
					}
					if len(want) != len(tr.known) {
						t.Fatalf("run %d: known %v after complete scan of %v", run, tr.known, devs)
					}
					for k := range want {
						if !tr.has(k) {
							t.Fatalf("run %d: %v scanned but not known", run, k)
						}
					}
				}
			}
		}
	}
}
