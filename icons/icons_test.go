package icons

import (
	"bytes"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"testing"

	"github.com/trustwatch/trustwatch/icons/internal/art"
	"github.com/trustwatch/trustwatch/watcher/engine"
)

func decode(t *testing.T, name string, b []byte) *image.NRGBA {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	n := image.NewNRGBA(img.Bounds())
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
			n.Set(x, y, img.At(x, y))
		}
	}
	return n
}

// TestGeneratedFilesUpToDate fails when the committed files differ from
// what internal/art draws: run `go generate ./icons` after changing it.
// Pixels are compared, not bytes, so a new Go PNG encoder does not matter.
func TestGeneratedFilesUpToDate(t *testing.T) {
	want, err := art.Files()
	if err != nil {
		t.Fatal(err)
	}
	for name, wb := range want {
		got, err := os.ReadFile(filepath.FromSlash(name))
		if err != nil {
			t.Errorf("%s missing (run go generate ./icons): %v", name, err)
			continue
		}
		if filepath.Ext(name) == ".ico" {
			gf, err := art.DecodeICO(got)
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			wf, _ := art.DecodeICO(wb)
			if len(gf) != len(wf) {
				t.Errorf("%s: %d frames, want %d", name, len(gf), len(wf))
				continue
			}
			for i := range gf {
				if gf[i].Size != wf[i].Size || !bytes.Equal(decode(t, name, gf[i].Data).Pix, decode(t, name, wf[i].Data).Pix) {
					t.Errorf("%s frame %d (%d px) is stale (run go generate ./icons)", name, i, gf[i].Size)
				}
			}
			continue
		}
		if filepath.Ext(name) == ".icns" {
			ge, err := art.DecodeICNS(got)
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			we, _ := art.DecodeICNS(wb)
			if len(ge) != len(we) {
				t.Errorf("%s: %d elements, want %d", name, len(ge), len(we))
				continue
			}
			for i := range ge {
				if ge[i].Type != we[i].Type || !bytes.Equal(decode(t, name, ge[i].Data).Pix, decode(t, name, we[i].Data).Pix) {
					t.Errorf("%s element %s is stale (run go generate ./icons)", name, ge[i].Type)
				}
			}
			continue
		}
		if !bytes.Equal(decode(t, name, got).Pix, decode(t, name, wb).Pix) {
			t.Errorf("%s is stale (run go generate ./icons)", name)
		}
	}
	// and nothing left over from an older generator
	for _, dir := range []string{"png", "ico", "template", "icns"} {
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if _, ok := want[dir+"/"+e.Name()]; !ok {
				t.Errorf("%s/%s is not produced by the generator; delete it", dir, e.Name())
			}
		}
	}
}

func TestForEveryLevel(t *testing.T) {
	seen := map[string]Level{}
	for _, l := range append(Levels, Level(-1), Level(99)) {
		b := For(l)
		if len(b) == 0 {
			t.Fatalf("For(%v) is empty", l)
		}
		if l >= Idle && l <= Problem {
			if prev, dup := seen[string(b)]; dup {
				t.Errorf("For(%v) is the same image as For(%v)", l, prev)
			}
			seen[string(b)] = l
		} else if !bytes.Equal(b, For(Problem)) {
			t.Errorf("For(%v): unknown levels must show the problem icon", l)
		}
		switch runtime.GOOS {
		case "windows":
			if fr, err := art.DecodeICO(b); err != nil || len(fr) != len(art.ICOSizes) {
				t.Errorf("For(%v): not an ICO with %d frames: %v", l, len(art.ICOSizes), err)
			}
		default:
			img := decode(t, l.String(), b)
			if img.Bounds().Dx() != 32 || img.Bounds().Dy() != 32 {
				t.Errorf("For(%v) is %v, want 32x32", l, img.Bounds())
			}
		}
	}
	if len(App()) == 0 {
		t.Fatal("App() is empty")
	}
	a := decode(t, "AppPNG", AppPNG())
	if a.Bounds().Dx() != 128 {
		t.Errorf("AppPNG is %v, want 128x128", a.Bounds())
	}
}

// TestLegibleAtTraySizes checks, at every tray size, that each badge has
// its colour, a white glyph on it, and that the tray icons differ in
// enough pixels to tell apart. It reads the committed files.
func TestLegibleAtTraySizes(t *testing.T) {
	kinds := map[Level]art.Kind{Idle: art.Idle, OK: art.OK, Waiting: art.Waiting, Attention: art.Attention, Problem: art.Problem}
	for _, size := range []int{16, 22, 24, 32} {
		imgs := map[Level]*image.NRGBA{}
		for _, l := range Levels {
			name := art.PNGPath(kinds[l], size)
			b, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			img := decode(t, name, b)
			if img.Bounds().Dx() != size {
				t.Fatalf("%s is %v", name, img.Bounds())
			}
			imgs[l] = img
			var green, blue, amber, red, white, opaque int
			for i := 0; i < len(img.Pix); i += 4 {
				r, g, bl, a := int(img.Pix[i]), int(img.Pix[i+1]), int(img.Pix[i+2]), img.Pix[i+3]
				if a < 250 {
					continue
				}
				opaque++
				switch {
				case r > 240 && g > 240 && bl > 240:
					white++
				case g > r+60 && g > bl+40:
					green++
				case bl > r+120 && bl > g+60:
					blue++
				case r > 200 && g > 100 && g < 170 && bl < 60:
					amber++
				case r > 180 && g < 80 && bl < 80:
					red++
				}
			}
			min := size * size / 12 // the badge is about a quarter of the icon
			switch l {
			case Idle:
				if green+blue+amber+red > 0 {
					t.Errorf("%s: idle icon has badge colours", name)
				}
			case OK:
				if green < min {
					t.Errorf("%s: %d green pixels, want ≥ %d", name, green, min)
				}
			case Waiting:
				if blue < min {
					t.Errorf("%s: %d blue pixels, want ≥ %d", name, blue, min)
				}
			case Attention:
				if amber < min {
					t.Errorf("%s: %d amber pixels, want ≥ %d", name, amber, min)
				}
			case Problem:
				if red < min {
					t.Errorf("%s: %d red pixels, want ≥ %d", name, red, min)
				}
			}
			if opaque < size*size/3 {
				t.Errorf("%s: only %d opaque pixels", name, opaque)
			}
			if l != Idle && !glyphVisible(img) {
				t.Errorf("%s: no white glyph inside the badge", name)
			}
		}
		for i, a := range Levels {
			for _, b := range Levels[i+1:] {
				if d := diff(imgs[a], imgs[b]); d < size*size/20 {
					t.Errorf("%d px: %v and %v differ in only %d pixels", size, a, b, d)
				}
			}
		}
	}
}

// glyphVisible looks for white pixels inside the badge, where only the
// glyph is white.
func glyphVisible(img *image.NRGBA) bool {
	return len(glyphMask(img)) >= 3
}

// glyphMask is the set of white pixels whose centre lies in the badge.
func glyphMask(img *image.NRGBA) map[int]bool {
	s := img.Bounds().Dx()
	cx, cy, r := art.Badge(s)
	m := map[int]bool{}
	for y := 0; y < s; y++ {
		for x := 0; x < s; x++ {
			if math.Hypot(float64(x)+0.5-cx, float64(y)+0.5-cy) > r {
				continue
			}
			c := img.NRGBAAt(x, y)
			if c.A > 200 && c.R > 200 && c.G > 200 && c.B > 200 {
				m[y*s+x] = true
			}
		}
	}
	return m
}

func diff(a, b *image.NRGBA) int {
	n := 0
	for i := 0; i < len(a.Pix); i += 4 {
		d := 0
		for j := 0; j < 4; j++ {
			v := int(a.Pix[i+j]) - int(b.Pix[i+j])
			if v < 0 {
				v = -v
			}
			d += v
		}
		if d > 60 {
			n++
		}
	}
	return n
}

func TestTemplatesAreMonochrome(t *testing.T) {
	for _, k := range art.Kinds {
		name := art.TemplatePath(k)
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		img := decode(t, name, b)
		var opaque, clear int
		for i := 0; i < len(img.Pix); i += 4 {
			if a := img.Pix[i+3]; a > 0 {
				if img.Pix[i] != 0 || img.Pix[i+1] != 0 || img.Pix[i+2] != 0 {
					t.Fatalf("%s: pixel %d is not black", name, i/4)
				}
				opaque++
			} else {
				clear++
			}
		}
		if opaque < 100 || clear < 100 {
			t.Errorf("%s: %d inked and %d clear pixels; a template needs both", name, opaque, clear)
		}
	}
}

func TestICO(t *testing.T) {
	for _, k := range art.Kinds {
		b, err := os.ReadFile(art.ICOPath(k))
		if err != nil {
			t.Fatal(err)
		}
		frames, err := art.DecodeICO(b)
		if err != nil {
			t.Fatalf("%s: %v", art.ICOPath(k), err)
		}
		var sizes []int
		for _, f := range frames {
			img := decode(t, art.ICOPath(k), f.Data)
			if img.Bounds().Dx() != f.Size {
				t.Errorf("%s: entry says %d px, frame is %v", art.ICOPath(k), f.Size, img.Bounds())
			}
			sizes = append(sizes, f.Size)
		}
		if !sort.IntsAreSorted(sizes) || len(sizes) != len(art.ICOSizes) || sizes[0] != 16 || sizes[len(sizes)-1] != 256 {
			t.Errorf("%s: frame sizes %v, want %v", art.ICOPath(k), sizes, art.ICOSizes)
		}
	}
	// bad input is an error, not a panic
	good, _ := os.ReadFile(art.ICOPath(art.OK))
	for name, b := range map[string][]byte{
		"empty": nil, "header only": good[:6], "truncated": good[:len(good)/2],
		"bmp frame": append(append([]byte{}, good[:6+16*len(art.ICOSizes)]...), make([]byte, len(good))...),
	} {
		if _, err := art.DecodeICO(b); err == nil {
			t.Errorf("DecodeICO(%s) accepted bad input", name)
		}
	}
	if _, err := art.EncodeICO([][]byte{[]byte("not a png")}); err == nil {
		t.Error("EncodeICO accepted a non-PNG frame")
	}
}

// Every level has its own notification image, distinct from the others
// and from the app icon, and decodable at 128 px.
func TestNotificationPNGPerLevel(t *testing.T) {
	seen := map[string]Level{}
	for _, l := range Levels {
		b := NotificationPNG(l)
		img := decode(t, l.String(), b)
		if img.Bounds().Dx() != 128 || img.Bounds().Dy() != 128 {
			t.Errorf("%s: %v, want 128×128", l, img.Bounds())
		}
		if bytes.Equal(b, AppPNG()) {
			t.Errorf("%s: the app icon, not the level's badge", l)
		}
		if prev, dup := seen[string(b)]; dup {
			t.Errorf("%s and %s share one image", l, prev)
		}
		seen[string(b)] = l
	}
	if !bytes.Equal(NotificationPNG(Level(99)), AppPNG()) {
		t.Error("an unknown level must fall back to the app icon")
	}
}

// TestICNS checks the macOS app icon: every element type macOS looks for,
// each a PNG of its size, and a decoder that refuses broken files.
func TestICNS(t *testing.T) {
	b, err := os.ReadFile(filepath.FromSlash(art.ICNSPath))
	if err != nil {
		t.Fatal(err)
	}
	els, err := art.DecodeICNS(b)
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]bool{}
	for _, e := range els {
		types[e.Type] = true
		cfg, err := png.DecodeConfig(bytes.NewReader(e.Data))
		if err != nil {
			t.Fatalf("%s: %v", e.Type, err)
		}
		if want := art.ICNSTypeSize(e.Type); cfg.Width != want || cfg.Height != want {
			t.Errorf("%s is %dx%d, want %d", e.Type, cfg.Width, cfg.Height, want)
		}
	}
	for _, typ := range []string{"icp4", "icp5", "ic07", "ic08", "ic09", "ic10", "ic11", "ic12", "ic13", "ic14"} {
		if !types[typ] {
			t.Errorf("element %s missing", typ)
		}
	}
	for name, bad := range map[string][]byte{
		"empty":            nil,
		"wrong magic":      append([]byte("icnx"), b[4:]...),
		"truncated":        b[:len(b)-1],
		"element too long": append(append([]byte("icns\x00\x00\x00\x10"), "ic07"...), 0, 0, 0, 0xff),
		"not png":          []byte("icns\x00\x00\x00\x14ic07\x00\x00\x00\x0cJPEG"),
	} {
		if _, err := art.DecodeICNS(bad); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}

// TestBadgeGlyphsDifferInShape: the badges must tell apart by their white
// glyph alone (check, dots, "!", "×"), not only by colour, for people who
// do not see the colours and for monochrome panels.
func TestBadgeGlyphsDifferInShape(t *testing.T) {
	badged := []Level{OK, Waiting, Attention, Problem}
	kinds := map[Level]art.Kind{OK: art.OK, Waiting: art.Waiting, Attention: art.Attention, Problem: art.Problem}
	for _, size := range []int{16, 22, 24, 32} {
		masks := map[Level]map[int]bool{}
		for _, l := range badged {
			name := art.PNGPath(kinds[l], size)
			b, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			m := glyphMask(decode(t, name, b))
			masks[l] = m
		}
		for i, a := range badged {
			for _, b := range badged[i+1:] {
				d := 0
				for p := range masks[a] {
					if !masks[b][p] {
						d++
					}
				}
				for p := range masks[b] {
					if !masks[a][p] {
						d++
					}
				}
				if d < 3 {
					t.Errorf("%d px: the %v and %v glyphs differ in %d white pixels; they must differ in shape", size, a, b, d)
				}
			}
		}
	}
}

func TestStateLevel(t *testing.T) {
	want := map[engine.State]Level{
		engine.StateReady:              OK,
		engine.StateProbing:            Idle,
		engine.StateLocked:             Waiting,
		engine.StateLockedSinceRestart: Waiting,
		engine.StateUntrustedLocked:    Waiting,
		engine.StateTrustPending:       Waiting,
		engine.StateUntrusted:          Attention,
		engine.StateTrustDenied:        Attention,
		engine.StateTrustRevoked:       Attention,
		engine.StateNoData:             Problem,
		engine.StateUnstable:           Problem,
		engine.StateRecovery:           Problem,
		engine.StateServiceUnavailable: Problem,
		engine.StateError:              Problem,
	}
	for _, s := range engine.AllStates {
		w, ok := want[s]
		if !ok {
			t.Errorf("state %q has no expected level in this test", s)
			continue
		}
		if got := StateLevel(s); got != w {
			t.Errorf("StateLevel(%s) = %v, want %v", s, got, w)
		}
	}
	if got := StateLevel("something-new"); got != Problem {
		t.Errorf("an unknown state shows %v, want problem", got)
	}
}
