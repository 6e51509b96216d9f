package art

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/png"
	"path"
)

// PNGSizes are the pixel sizes drawn as PNG: the tray sizes of common
// panels (16, 22, 24, 32), Windows' scaled tray sizes (20, 40), and
// larger ones for notifications and app launchers.
var PNGSizes = []int{16, 20, 22, 24, 32, 40, 48, 64, 128, 256}

// ICOSizes are the frames of each Windows .ico.
var ICOSizes = []int{16, 20, 24, 32, 40, 48, 64, 256}

// TemplateSize is the macOS template image's pixel size: systray shows it
// at 16×16 points, so 32 px is sharp on Retina displays.
const TemplateSize = 32

// PNGPath, ICOPath and TemplatePath name the generated files, relative to
// the icons package directory.
func PNGPath(k Kind, size int) string {
	return path.Join("png", fmt.Sprintf("%s-%d.png", k.Name(), size))
}
func ICOPath(k Kind) string { return path.Join("ico", k.Name()+".ico") }
func TemplatePath(k Kind) string {
	return path.Join("template", fmt.Sprintf("%s-%d.png", k.Name(), TemplateSize))
}

// Files renders every generated file: path → contents.
func Files() (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, k := range Kinds {
		frames := map[int][]byte{}
		for _, s := range PNGSizes {
			b, err := encodePNG(Draw(k, s, false))
			if err != nil {
				return nil, err
			}
			out[PNGPath(k, s)] = b
			frames[s] = b
		}
		var list [][]byte
		for _, s := range ICOSizes {
			b, ok := frames[s]
			if !ok {
				return nil, fmt.Errorf("ico size %d is not among the PNG sizes", s)
			}
			list = append(list, b)
		}
		ico, err := EncodeICO(list)
		if err != nil {
			return nil, err
		}
		out[ICOPath(k)] = ico
		t, err := encodePNG(Draw(k, TemplateSize, true))
		if err != nil {
			return nil, err
		}
		out[TemplatePath(k)] = t
	}
	// The macOS app icon: every PNG size already drawn, plus 512 and 1024.
	icns := map[int][]byte{}
	for _, s := range ICNSSizes() {
		if b, ok := out[PNGPath(App, s)]; ok {
			icns[s] = b
			continue
		}
		b, err := encodePNG(Draw(App, s, false))
		if err != nil {
			return nil, err
		}
		icns[s] = b
	}
	b, err := EncodeICNS(icns)
	if err != nil {
		return nil, err
	}
	out[ICNSPath] = b
	return out, nil
}

func encodePNG(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// EncodeICO wraps square PNG frames in an ICO container (PNG frames are
// valid in .ico since Windows Vista, and LoadImage reads them).
func EncodeICO(frames [][]byte) ([]byte, error) {
	if len(frames) == 0 || len(frames) > 0xffff {
		return nil, fmt.Errorf("ico: %d frames", len(frames))
	}
	var buf bytes.Buffer
	le := binary.LittleEndian
	hdr := make([]byte, 6)
	le.PutUint16(hdr[2:], 1) // type: icon
	le.PutUint16(hdr[4:], uint16(len(frames)))
	buf.Write(hdr)
	offset := 6 + 16*len(frames)
	for _, f := range frames {
		cfg, err := png.DecodeConfig(bytes.NewReader(f))
		if err != nil {
			return nil, fmt.Errorf("ico frame: %w", err)
		}
		if cfg.Width != cfg.Height || cfg.Width < 1 || cfg.Width > 256 {
			return nil, fmt.Errorf("ico frame: %dx%d is not square or larger than 256", cfg.Width, cfg.Height)
		}
		e := make([]byte, 16)
		e[0] = byte(cfg.Width % 256) // 0 means 256
		e[1] = byte(cfg.Height % 256)
		le.PutUint16(e[4:], 1)  // planes
		le.PutUint16(e[6:], 32) // bits per pixel
		le.PutUint32(e[8:], uint32(len(f)))
		le.PutUint32(e[12:], uint32(offset))
		buf.Write(e)
		offset += len(f)
	}
	for _, f := range frames {
		buf.Write(f)
	}
	return buf.Bytes(), nil
}

// ICOFrame is one image inside an .ico.
type ICOFrame struct {
	Size int
	Data []byte // PNG bytes
}

// DecodeICO splits an .ico made of PNG frames; it rejects anything else
// with an error (BMP frames, truncated or overlapping entries).
func DecodeICO(b []byte) ([]ICOFrame, error) {
	le := binary.LittleEndian
	if len(b) < 6 || le.Uint16(b) != 0 || le.Uint16(b[2:]) != 1 {
		return nil, fmt.Errorf("ico: bad header")
	}
	n := int(le.Uint16(b[4:]))
	if n == 0 || len(b) < 6+16*n {
		return nil, fmt.Errorf("ico: %d entries do not fit in %d bytes", n, len(b))
	}
	var out []ICOFrame
	for i := 0; i < n; i++ {
		e := b[6+16*i : 6+16*(i+1)]
		size := int(e[0])
		if size == 0 {
			size = 256
		}
		ln, off := int(le.Uint32(e[8:])), int(le.Uint32(e[12:]))
		if off < 6+16*n || ln <= 0 || off > len(b) || ln > len(b)-off {
			return nil, fmt.Errorf("ico: entry %d points outside the file", i)
		}
		data := b[off : off+ln]
		if !bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")) {
			return nil, fmt.Errorf("ico: entry %d is not a PNG frame", i)
		}
		out = append(out, ICOFrame{Size: size, Data: data})
	}
	return out, nil
}
