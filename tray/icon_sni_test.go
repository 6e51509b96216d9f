//go:build !darwin && !windows

package tray

import (
	"bytes"
	"image"
	"image/png"
	"testing"

	"github.com/trustwatch/trustwatch/icons"
)

// TestSNIPNGMatchesSource checks the arithmetic of the systray workaround
// without a desktop: decoded as systray v1.12.2 decodes it (image.Decode,
// then the low byte of each premultiplied RGBA() value), every level's
// re-encoded icon gives the source's straight ARGB. TestTrayOnXfcePanel
// checks the same bytes as the real tray publishes them over D-Bus.
func TestSNIPNGMatchesSource(t *testing.T) {
	for _, l := range icons.Levels {
		src, err := png.Decode(bytes.NewReader(icons.For(l)))
		if err != nil {
			t.Fatal(err)
		}
		img, _, err := image.Decode(bytes.NewReader(sniIcon(l)))
		if err != nil {
			t.Fatalf("%v: %v", l, err)
		}
		if img.Bounds().Size() != src.Bounds().Size() {
			t.Fatalf("%v: %v, want %v", l, img.Bounds(), src.Bounds())
		}
		var partial, bad int
		for y := 0; y < src.Bounds().Dy(); y++ {
			for x := 0; x < src.Bounds().Dx(); x++ {
				want := straight(src, x, y)
				if want[0] != 0 && want[0] != 0xff {
					partial++
				}
				r, g, b, a := img.At(x, y).RGBA()
				if got := [4]byte{byte(a), byte(r), byte(g), byte(b)}; got != want {
					if bad++; bad <= 3 {
						t.Errorf("%v (%d,%d): systray would publish %v, want %v", l, x, y, got, want)
					}
				}
			}
		}
		if partial < 10 {
			t.Errorf("%v: only %d anti-aliased pixels; the test needs edges to mean anything", l, partial)
		}
		if bad > 0 {
			t.Errorf("%v: %d pixels wrong", l, bad)
		}
	}
}

// TestSNIPNGOtherInputs: opaque and 16-bit PNGs convert too, and garbage
// is an error, not a panic.
func TestSNIPNGOtherInputs(t *testing.T) {
	if _, err := sniPNG([]byte("not a png")); err == nil {
		t.Error("sniPNG accepted garbage")
	}
	if _, err := sniPNG(nil); err == nil {
		t.Error("sniPNG accepted nothing")
	}
	opaque := image.NewRGBA(image.Rect(0, 0, 3, 2))
	for i := range opaque.Pix {
		opaque.Pix[i] = byte(i * 37)
	}
	for i := 3; i < len(opaque.Pix); i += 4 {
		opaque.Pix[i] = 0xff
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, opaque); err != nil {
		t.Fatal(err)
	}
	out, err := sniPNG(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := image.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	for y := 0; y < 2; y++ {
		for x := 0; x < 3; x++ {
			c := opaque.RGBAAt(x, y)
			r, g, b, a := img.At(x, y).RGBA()
			if got, want := [4]byte{byte(a), byte(r), byte(g), byte(b)}, [4]byte{0xff, c.R, c.G, c.B}; got != want {
				t.Errorf("opaque (%d,%d): %v, want %v", x, y, got, want)
			}
		}
	}
}
