//go:build !darwin && !windows

package tray

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"sync"

	"fyne.io/systray"

	"github.com/trustwatch/trustwatch/icons"
)

// setIcon publishes the level's icon as the StatusNotifierItem pixmap.
func setIcon(l icons.Level) { systray.SetIcon(sniIcon(l)) }

var (
	sniMu    sync.Mutex
	sniCache = map[icons.Level][]byte{}
)

// sniIcon is icons.For(l) prepared for systray (see sniPNG), made once
// per level.
func sniIcon(l icons.Level) []byte {
	sniMu.Lock()
	defer sniMu.Unlock()
	if b, ok := sniCache[l]; ok {
		return b
	}
	b, err := sniPNG(icons.For(l))
	if err != nil {
		// cannot happen with the embedded icons (a test decodes them
		// all); fringes are better than no icon
		b = icons.For(l)
	}
	sniCache[l] = b
	return b
}

// sniPNG works around fyne.io/systray v1.12.2 on Linux and the BSDs. A
// StatusNotifierItem's IconPixmap is ARGB32 in network byte order with
// straight (not premultiplied) alpha, but systray's PNG conversion
// (argbForImage) stores byte(v) of each 16-bit premultiplied value that
// color.RGBA() returns: the LOW byte. That is right for fully opaque and
// fully transparent pixels only; at every anti-aliased edge it is noise,
// the purple and green fringes around the badge. systray has no way to
// pass a pixmap directly, so sniPNG re-encodes src as a 16-bit PNG whose
// premultiplied 16-bit values have exactly src's straight 8-bit values as
// their low bytes: systray's conversion then yields src's pixels, byte for
// byte. Only systray reads the result (any other viewer would show it
// dark); the tray tests read the pixmap back over D-Bus and compare it
// with src, so a systray that changes its conversion fails them.
func sniPNG(src []byte) ([]byte, error) {
	img, err := png.Decode(bytes.NewReader(src))
	if err != nil {
		return nil, fmt.Errorf("tray icon: %w", err)
	}
	bnd := img.Bounds()
	out := image.NewNRGBA64(image.Rect(0, 0, bnd.Dx(), bnd.Dy()))
	for y := 0; y < bnd.Dy(); y++ {
		for x := 0; x < bnd.Dx(); x++ {
			c := straight(img, bnd.Min.X+x, bnd.Min.Y+y)
			a16 := uint32(c[0]) * 0x101 // byte(a16) == a8
			i := out.PixOffset(x, y)
			for ch, v8 := range c[1:] {
				v16 := low16(uint32(v8), a16)
				out.Pix[i+2*ch], out.Pix[i+2*ch+1] = byte(v16>>8), byte(v16)
			}
			out.Pix[i+6], out.Pix[i+7] = byte(a16>>8), byte(a16)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, out); err != nil {
		return nil, fmt.Errorf("tray icon: %w", err)
	}
	return buf.Bytes(), nil
}

// straight is the pixel's ARGB with straight 8-bit alpha, as the
// StatusNotifierItem spec wants it.
func straight(img image.Image, x, y int) [4]byte {
	if n, ok := img.(*image.NRGBA); ok {
		c := n.NRGBAAt(x, y)
		return [4]byte{c.A, c.R, c.G, c.B}
	}
	r, g, b, a := img.At(x, y).RGBA()
	if a == 0 {
		return [4]byte{}
	}
	un := func(v uint32) byte { return byte(v * 0xffff / a >> 8) }
	return [4]byte{byte(a >> 8), un(r), un(g), un(b)}
}

// low16 is the smallest 16-bit value c whose premultiplication by a16,
// as color.NRGBA64.RGBA computes it (c*a16/0xffff, rounded down), is v8:
// its low byte is then v8. a16 = a8*0x101 ≥ 0x101 for any visible pixel,
// so v8 ≤ 0xff is always within reach; a transparent pixel is all zero.
func low16(v8, a16 uint32) uint32 {
	if a16 == 0 {
		return 0
	}
	return (v8*0xffff + a16 - 1) / a16
}
