package plistval

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"howett.net/plist"

	"github.com/trustwatch/trustwatch/internal/hostile"
)

// sample is a value of every type, in both encodings.
var sample = map[string]any{
	"MessageType": "Result",
	"Number":      uint64(7),
	"Negative":    int64(-3),
	"Real":        1.5,
	"Yes":         true,
	"No":          false,
	"Data":        []byte{0, 1, 2, 0xff},
	"When":        time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC),
	"Unicode":     "Anna’s iPhone ☃",
	"List":        []any{"a", uint64(1), map[string]any{"Deep": []any{}}},
	"Empty":       map[string]any{},
}

// What we decode agrees with howett.net/plist wherever both succeed.
func TestDecodeAgreesWithHowett(t *testing.T) {
	for _, format := range []int{plist.XMLFormat, plist.BinaryFormat} {
		body, err := plist.Marshal(sample, format)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Dict(body)
		if err != nil {
			t.Fatalf("format %d: %v", format, err)
		}
		var want any
		if _, err := plist.Unmarshal(body, &want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(any(got), want) {
			t.Errorf("format %d:\n got %#v\nwant %#v", format, got, want)
		}
	}
}

func TestLimits(t *testing.T) {
	cases := []struct {
		name string
		body []byte
		want error
	}{
		{"xml nested 25", hostile.DeepXML(25), ErrTooDeep},
		{"xml nested 250000", hostile.DeepXML(250_000), ErrTooDeep},
		{"binary nested 25", hostile.DeepBinary(25), ErrTooDeep},
		{"binary nested 450000", hostile.DeepBinary(450_000), ErrTooDeep},
		{"binary fan-out 2^20", hostile.FanOutBinary(20), ErrTooLarge},
		{"binary fan-out 2^64", hostile.FanOutBinary(64), ErrTooDeep},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			_, err := Dict(c.body)
			if !errors.Is(err, c.want) || !errors.Is(err, ErrNotPlist) {
				t.Fatalf("%d bytes: err = %v, want %v", len(c.body), err, c.want)
			}
			if took := time.Since(start); took > time.Second {
				t.Errorf("refusing took %v", took)
			}
			t.Logf("%d bytes refused in %v: %v", len(c.body), time.Since(start), err)
		})
	}
	// Within the limits, the same shapes decode.
	for _, body := range [][]byte{hostile.DeepXML(DefaultLimits.MaxDepth - 1), hostile.DeepBinary(DefaultLimits.MaxDepth - 1), hostile.FanOutBinary(10)} {
		if _, err := Dict(body); err != nil {
			t.Errorf("within limits: %v", err)
		}
	}
}

// A device list of 2,000 entries (Linux usbmuxd's own format) decodes well
// within the limits.
func TestDeviceListWithinLimits(t *testing.T) {
	body := hostile.DeviceListXML(2000)
	m, err := Dict(body)
	if err != nil {
		t.Fatalf("%d bytes: %v", len(body), err)
	}
	if l, _ := m["DeviceList"].([]any); len(l) != 2000 {
		t.Fatalf("%d entries", len(l))
	}
}

func TestDecodeHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	body := hostile.DeviceListXML(500)
	if _, err := DictContext(ctx, body, DefaultLimits); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context: %v", err)
	}
}

// FuzzDecode: any input gives a value or an error, never a panic, and
// within the limits; where howett.net/plist also decodes it, both agree.
func FuzzDecode(f *testing.F) {
	for _, format := range []int{plist.XMLFormat, plist.BinaryFormat} {
		body, _ := plist.Marshal(sample, format)
		f.Add(body)
	}
	f.Add(hostile.DeepXML(30))
	f.Add(hostile.DeepBinary(30))
	f.Add(hostile.FanOutBinary(24))
	f.Add(hostile.DeviceListXML(3))
	f.Add([]byte("bplist00"))
	f.Add([]byte(`<plist><dict><key>A</key><integer>0x1F</integer></dict></plist>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		lim := Limits{MaxDepth: 8, MaxElements: 4096}
		v, err := Decode(context.Background(), data, lim)
		if err != nil {
			return
		}
		if d := depthOf(v); d > lim.MaxDepth {
			t.Fatalf("depth %d accepted", d)
		}
		if len(data) > 4096 {
			return
		}
		var want any
		if _, herr := plist.Unmarshal(data, &want); herr == nil && !reflect.DeepEqual(normalize(v), normalize(want)) {
			t.Fatalf("disagree with howett:\n got %#v\nwant %#v", v, want)
		}
	})
}

func depthOf(v any) int {
	switch x := v.(type) {
	case []any:
		d := 0
		for _, e := range x {
			d = max(d, depthOf(e)+1)
		}
		return d
	case map[string]any:
		d := 0
		for _, e := range x {
			d = max(d, depthOf(e)+1)
		}
		return d
	}
	return 0
}

// normalize makes NaNs comparable.
func normalize(v any) any {
	switch x := v.(type) {
	case float64:
		if x != x {
			return "NaN"
		}
	case float32:
		if x != x {
			return "NaN"
		}
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalize(e)
		}
		return out
	}
	return v
}
