package plistval

import (
	"errors"
	"testing"
)

func TestInt(t *testing.T) {
	for _, c := range []struct {
		v    any
		want int64
		ok   bool
	}{
		{uint64(7), 7, true}, {int64(-3), -3, true}, {uint32(5), 5, true}, {float64(62078), 62078, true},
		{"32498", 32498, true}, {float64(1.5), 0, false}, {uint64(1 << 63), 0, false}, {"x", 0, false}, {nil, 0, false},
	} {
		if got, ok := Int(c.v); got != c.want || ok != c.ok {
			t.Errorf("Int(%#v) = %d %v", c.v, got, ok)
		}
	}
}

func TestDict(t *testing.T) {
	good := `<?xml version="1.0"?><plist version="1.0"><dict><key>A</key><integer>1</integer></dict></plist>`
	if m, err := Dict([]byte(good)); err != nil || m["A"] != uint64(1) {
		t.Fatalf("%v %v", m, err)
	}
	for _, bad := range []string{"", "junk", "<plist><array/></plist>", "bplist00\x00\x01", "(a, b)"} {
		if _, err := Dict([]byte(bad)); !errors.Is(err, ErrNotPlist) {
			t.Errorf("Dict(%q): %v", bad, err)
		}
	}
}
