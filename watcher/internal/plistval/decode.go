package plistval

import (
	"context"
	"errors"
	"fmt"
)

// Limits bound what one plist may cost to decode. They are checked while
// decoding, before anything deeper or larger is built, so a hostile daemon
// or phone cannot make trustwatch recurse, allocate or spin without end.
type Limits struct {
	// MaxDepth is how deeply containers (arrays, dictionaries) may nest.
	MaxDepth int
	// MaxElements is how many values the decoded result may hold, counted
	// as built: an object a binary plist references twice counts twice, so
	// a few hundred bytes that fan out into billions of values are refused.
	MaxElements int
	// MaxBytes is how many string and data bytes the result may hold, for
	// the same reason (a large string referenced many times). 0 means
	// twice the input's size.
	MaxBytes int
}

// DefaultLimits fit everything usbmuxd and lockdownd send, with room: the
// deepest real message (a device list: dict → array → dict → dict) nests
// 4 deep, and a device list at the usbmux frame cap holds about 20,000
// values.
var DefaultLimits = Limits{MaxDepth: 24, MaxElements: 1 << 17}

var (
	// ErrTooDeep: containers nest deeper than Limits.MaxDepth.
	ErrTooDeep = errors.New("nested too deeply")
	// ErrTooLarge: more values or bytes than the limits allow.
	ErrTooLarge = errors.New("too many values")
)

// ctxEvery is how many values are decoded between two looks at the
// context: often enough to stop within a millisecond, rarely enough to cost
// nothing.
const ctxEvery = 1024

// budget tracks what a decode has spent against its limits.
type budget struct {
	ctx      context.Context
	lim      Limits
	elements int
	bytes    int
}

func newBudget(ctx context.Context, lim Limits, inputLen int) *budget {
	if lim.MaxDepth <= 0 {
		lim.MaxDepth = DefaultLimits.MaxDepth
	}
	if lim.MaxElements <= 0 {
		lim.MaxElements = DefaultLimits.MaxElements
	}
	if lim.MaxBytes <= 0 {
		lim.MaxBytes = 2*inputLen + 64
	}
	return &budget{ctx: ctx, lim: lim}
}

// value accounts for one more value at depth (the top level is depth 0).
func (b *budget) value(depth int) error {
	if depth > b.lim.MaxDepth {
		return fmt.Errorf("%w: more than %d levels", ErrTooDeep, b.lim.MaxDepth)
	}
	b.elements++
	if b.elements > b.lim.MaxElements {
		return fmt.Errorf("%w: more than %d", ErrTooLarge, b.lim.MaxElements)
	}
	if b.elements%ctxEvery == 0 && b.ctx != nil {
		if err := b.ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}

// spend accounts for n string or data bytes.
func (b *budget) spend(n int) error {
	b.bytes += n
	if b.bytes > b.lim.MaxBytes {
		return fmt.Errorf("%w: more than %d bytes of strings and data", ErrTooLarge, b.lim.MaxBytes)
	}
	return nil
}

// Decode decodes an XML or binary plist within lim, stopping when ctx
// ends. Values have the types howett.net/plist gives an `any`: string,
// uint64 (int64 when negative), float64 (float32 for 4-byte binary reals),
// bool, []byte, time.Time, []any, map[string]any and plist.UID.
func Decode(ctx context.Context, body []byte, lim Limits) (any, error) {
	b := newBudget(ctx, lim, len(body))
	start := skipSpace(body)
	switch {
	case hasPrefix(body[start:], "bplist"):
		return decodeBinary(b, body[start:])
	case hasPrefix(body[start:], "<"):
		return decodeXML(b, body[start:])
	}
	return nil, errors.New("neither XML nor a binary plist")
}

func skipSpace(b []byte) int {
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n' || b[i] == 0) {
		i++
	}
	return i
}

func hasPrefix(b []byte, p string) bool { return len(b) >= len(p) && string(b[:len(p)]) == p }
