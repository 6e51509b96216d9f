package art

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image/png"
	"path"
)

// ICNSPath is the macOS app icon (the .app bundle's Resources/trustwatch.icns),
// relative to the icons package directory.
var ICNSPath = path.Join("icns", "app.icns")

// icnsTypes are the PNG element types of an .icns, by pixel size. Retina
// (@2x) variants share pixels with the next size up, so both are written.
var icnsTypes = []struct {
	typ  string
	size int
}{
	{"icp4", 16}, {"ic11", 32}, // 16 pt, @1x and @2x
	{"icp5", 32}, {"ic12", 64}, // 32 pt
	{"ic07", 128}, {"ic13", 256}, // 128 pt
	{"ic08", 256}, {"ic14", 512}, // 256 pt
	{"ic09", 512}, {"ic10", 1024}, // 512 pt
}

// ICNSSizes are the pixel sizes an .icns needs.
func ICNSSizes() []int {
	seen := map[int]bool{}
	var out []int
	for _, t := range icnsTypes {
		if !seen[t.size] {
			seen[t.size] = true
			out = append(out, t.size)
		}
	}
	return out
}

// EncodeICNS wraps PNG images (pixel size → PNG bytes) in Apple's icon
// container: "icns", total length, then (type, length, data) elements,
// lengths big-endian and including their 8-byte headers.
func EncodeICNS(pngs map[int][]byte) ([]byte, error) {
	var body bytes.Buffer
	for _, t := range icnsTypes {
		b, ok := pngs[t.size]
		if !ok {
			return nil, fmt.Errorf("icns: no %d px image for %s", t.size, t.typ)
		}
		cfg, err := png.DecodeConfig(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("icns %s: %w", t.typ, err)
		}
		if cfg.Width != t.size || cfg.Height != t.size {
			return nil, fmt.Errorf("icns %s: image is %dx%d, want %d", t.typ, cfg.Width, cfg.Height, t.size)
		}
		body.WriteString(t.typ)
		_ = binary.Write(&body, binary.BigEndian, uint32(8+len(b)))
		body.Write(b)
	}
	var out bytes.Buffer
	out.WriteString("icns")
	_ = binary.Write(&out, binary.BigEndian, uint32(8+body.Len()))
	out.Write(body.Bytes())
	return out.Bytes(), nil
}

// ICNSElement is one image of an .icns.
type ICNSElement struct {
	Type string
	Data []byte // PNG bytes
}

// DecodeICNS splits an .icns into its elements; it rejects a bad header,
// lengths that run past the end, and elements that are not PNG.
func DecodeICNS(b []byte) ([]ICNSElement, error) {
	be := binary.BigEndian
	if len(b) < 8 || string(b[:4]) != "icns" || int(be.Uint32(b[4:])) != len(b) {
		return nil, fmt.Errorf("icns: bad header")
	}
	var out []ICNSElement
	for off := 8; off < len(b); {
		if len(b)-off < 8 {
			return nil, fmt.Errorf("icns: truncated element header at %d", off)
		}
		typ, n := string(b[off:off+4]), int(be.Uint32(b[off+4:]))
		if n < 8 || n > len(b)-off {
			return nil, fmt.Errorf("icns: element %q at %d has length %d", typ, off, n)
		}
		data := b[off+8 : off+n]
		if !bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")) {
			return nil, fmt.Errorf("icns: element %q is not PNG", typ)
		}
		out = append(out, ICNSElement{Type: typ, Data: data})
		off += n
	}
	return out, nil
}

// ICNSTypeSize is the pixel size an element type holds, or 0.
func ICNSTypeSize(typ string) int {
	for _, t := range icnsTypes {
		if t.typ == typ {
			return t.size
		}
	}
	return 0
}
