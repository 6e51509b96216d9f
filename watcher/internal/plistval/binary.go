package plistval

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
	"unicode/utf16"

	"howett.net/plist"
)

// binDec decodes a binary plist (bplist00). Objects are read through the
// offset table each time they are referenced, each reference counted
// against the budget, so shared references cannot fan out unchecked and a
// reference cycle ends at MaxDepth.
type binDec struct {
	b        *budget
	buf      []byte
	offSize  int
	refSize  int
	nObjects uint64
	table    uint64 // offset of the offset table
}

func decodeBinary(b *budget, buf []byte) (any, error) {
	const trailer = 32
	if len(buf) < 8+1+trailer {
		return nil, errors.New("binary plist: too short")
	}
	if v := buf[6:8]; v[0] != '0' || (v[1] != '0' && v[1] != '1') {
		return nil, errors.New("binary plist: unknown version")
	}
	t := buf[len(buf)-trailer:]
	d := &binDec{
		b:        b,
		buf:      buf,
		offSize:  int(t[6]),
		refSize:  int(t[7]),
		nObjects: binary.BigEndian.Uint64(t[8:]),
		table:    binary.BigEndian.Uint64(t[24:]),
	}
	top := binary.BigEndian.Uint64(t[16:])
	end := uint64(len(buf) - trailer)
	switch {
	case d.offSize < 1 || d.offSize > 8 || d.refSize < 1 || d.refSize > 8:
		return nil, errors.New("binary plist: bad integer sizes in the trailer")
	case d.nObjects == 0 || top >= d.nObjects:
		return nil, errors.New("binary plist: bad object count")
	case d.table < 8 || d.table > end || d.nObjects > (end-d.table)/uint64(d.offSize):
		return nil, errors.New("binary plist: offset table out of bounds")
	case d.refSize < 8 && d.nObjects > 1<<(8*uint(d.refSize)):
		return nil, errors.New("binary plist: more objects than references can name")
	}
	return d.object(top, 0)
}

// uintAt reads an n-byte big-endian unsigned integer (n ≤ 8).
func (d *binDec) uintAt(off uint64, n int) (uint64, error) {
	if off > uint64(len(d.buf)) || uint64(n) > uint64(len(d.buf))-off {
		return 0, errors.New("binary plist: read past the end")
	}
	var v uint64
	for _, c := range d.buf[off : off+uint64(n)] {
		v = v<<8 | uint64(c)
	}
	return v, nil
}

// span checks that n bytes from off lie within the object area.
func (d *binDec) span(off, n uint64) ([]byte, error) {
	if off > d.table || n > d.table-off {
		return nil, errors.New("binary plist: object runs past the object area")
	}
	return d.buf[off : off+n], nil
}

func (d *binDec) object(ref uint64, depth int) (any, error) {
	if err := d.b.value(depth); err != nil {
		return nil, err
	}
	if ref >= d.nObjects {
		return nil, fmt.Errorf("binary plist: reference %d out of range", ref)
	}
	off, err := d.uintAt(d.table+ref*uint64(d.offSize), d.offSize)
	if err != nil {
		return nil, err
	}
	if off < 8 || off >= d.table {
		return nil, errors.New("binary plist: object offset out of bounds")
	}
	marker := d.buf[off]
	kind, low := marker>>4, marker&0x0f
	switch kind {
	case 0x0:
		switch marker {
		case 0x08:
			return false, nil
		case 0x09:
			return true, nil
		}
	case 0x1:
		return d.integer(off+1, low)
	case 0x2:
		switch low {
		case 2:
			raw, err := d.span(off+1, 4)
			if err != nil {
				return nil, err
			}
			return math.Float32frombits(binary.BigEndian.Uint32(raw)), nil
		case 3:
			raw, err := d.span(off+1, 8)
			if err != nil {
				return nil, err
			}
			return math.Float64frombits(binary.BigEndian.Uint64(raw)), nil
		}
	case 0x3:
		if marker == 0x33 {
			raw, err := d.span(off+1, 8)
			if err != nil {
				return nil, err
			}
			f := math.Float64frombits(binary.BigEndian.Uint64(raw))
			if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e15 {
				return nil, errors.New("binary plist: date out of range")
			}
			sec, frac := math.Modf(f + 978307200) // Apple's epoch is 2001-01-01
			return time.Unix(int64(sec), int64(frac*float64(time.Second))).In(time.UTC), nil
		}
	case 0x4, 0x5, 0x6:
		n, at, err := d.count(off, low)
		if err != nil {
			return nil, err
		}
		size := n
		if kind == 0x6 {
			if n > math.MaxUint64/2 {
				return nil, errors.New("binary plist: string too long")
			}
			size = 2 * n
		}
		raw, err := d.span(at, size)
		if err != nil {
			return nil, err
		}
		if err := d.b.spend(len(raw)); err != nil {
			return nil, err
		}
		switch kind {
		case 0x4:
			out := make([]byte, len(raw))
			copy(out, raw)
			return out, nil
		case 0x5:
			return string(raw), nil
		}
		u := make([]uint16, n)
		for i := range u {
			u[i] = binary.BigEndian.Uint16(raw[2*i:])
		}
		return string(utf16.Decode(u)), nil
	case 0x8:
		raw, err := d.span(off+1, uint64(low)+1)
		if err != nil {
			return nil, err
		}
		if len(raw) > 8 {
			return nil, errors.New("binary plist: UID too wide")
		}
		var v uint64
		for _, c := range raw {
			v = v<<8 | uint64(c)
		}
		return plist.UID(v), nil
	case 0xA:
		n, at, err := d.count(off, low)
		if err != nil {
			return nil, err
		}
		refs, err := d.refs(at, n)
		if err != nil {
			return nil, err
		}
		out := make([]any, 0, min(n, 1024))
		for i := uint64(0); i < n; i++ {
			r, _ := d.uintAt(refs+i*uint64(d.refSize), d.refSize)
			v, err := d.object(r, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case 0xD:
		n, at, err := d.count(off, low)
		if err != nil {
			return nil, err
		}
		if n > math.MaxUint64/2 {
			return nil, errors.New("binary plist: dictionary too large")
		}
		refs, err := d.refs(at, 2*n)
		if err != nil {
			return nil, err
		}
		m := make(map[string]any, min(n, 1024))
		for i := uint64(0); i < n; i++ {
			kr, _ := d.uintAt(refs+i*uint64(d.refSize), d.refSize)
			vr, _ := d.uintAt(refs+(n+i)*uint64(d.refSize), d.refSize)
			k, err := d.object(kr, depth+1)
			if err != nil {
				return nil, err
			}
			ks, ok := k.(string)
			if !ok {
				return nil, fmt.Errorf("binary plist: dictionary key is %T, not a string", k)
			}
			v, err := d.object(vr, depth+1)
			if err != nil {
				return nil, err
			}
			m[ks] = v
		}
		if uid, ok := asUID(m); ok {
			return uid, nil
		}
		return m, nil
	}
	return nil, fmt.Errorf("binary plist: unsupported object 0x%02x", marker)
}

// integer reads a 1, 2, 4, 8 or 16-byte integer: unsigned unless it is an
// 8-byte value with the top bit set or a 16-byte one with all high bits set.
func (d *binDec) integer(at uint64, low byte) (any, error) {
	if low > 4 {
		return nil, errors.New("binary plist: integer too wide")
	}
	n := uint64(1) << low
	raw, err := d.span(at, n)
	if err != nil {
		return nil, err
	}
	switch n {
	case 8:
		v := binary.BigEndian.Uint64(raw)
		if v>>63 == 1 {
			return int64(v), nil
		}
		return v, nil
	case 16:
		hi, lo := binary.BigEndian.Uint64(raw), binary.BigEndian.Uint64(raw[8:])
		if hi == math.MaxUint64 {
			return int64(lo), nil
		}
		return lo, nil
	}
	var v uint64
	for _, c := range raw {
		v = v<<8 | uint64(c)
	}
	return v, nil
}

// count reads a container or string length: the marker's low nibble, or an
// integer object after it when that nibble is 0xF. It returns where the
// contents start.
func (d *binDec) count(off uint64, low byte) (n, at uint64, err error) {
	if low != 0x0f {
		return uint64(low), off + 1, nil
	}
	hdr, err := d.span(off+1, 1)
	if err != nil {
		return 0, 0, err
	}
	if hdr[0]>>4 != 0x1 || hdr[0]&0x0f > 3 {
		return 0, 0, errors.New("binary plist: bad length")
	}
	w := uint64(1) << (hdr[0] & 0x0f)
	raw, err := d.span(off+2, w)
	if err != nil {
		return 0, 0, err
	}
	for _, c := range raw {
		n = n<<8 | uint64(c)
	}
	return n, off + 2 + w, nil
}

// refs checks that n object references starting at at lie in the object area.
func (d *binDec) refs(at, n uint64) (uint64, error) {
	if n > (d.table+1)/uint64(d.refSize) {
		return 0, errors.New("binary plist: container runs past the object area")
	}
	if _, err := d.span(at, n*uint64(d.refSize)); err != nil {
		return 0, err
	}
	return at, nil
}
