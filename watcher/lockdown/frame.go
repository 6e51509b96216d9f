package lockdown

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"howett.net/plist"

	"github.com/trustwatch/trustwatch/watcher/internal/plistval"
)

// MaxFrameSize caps one lockdown or service message. The largest real
// replies (a full GetValue dump, a pair record) are tens of kB.
const MaxFrameSize = 4 << 20

// encodeFrame is a 4-byte big-endian length followed by an XML plist, the
// form every host library sends.
func encodeFrame(v any) ([]byte, error) {
	payload, err := plist.Marshal(v, plist.XMLFormat)
	if err != nil {
		return nil, fmt.Errorf("lockdown: encode request: %w", err)
	}
	if len(payload) > MaxFrameSize {
		return nil, fmt.Errorf("lockdown: request of %d bytes exceeds %d", len(payload), MaxFrameSize)
	}
	buf := make([]byte, 4, 4+len(payload))
	binary.BigEndian.PutUint32(buf, uint32(len(payload)))
	return append(buf, payload...), nil
}

// checkLength validates a frame length before anything is allocated.
func checkLength(n uint32) error {
	if n == 0 {
		return fmt.Errorf("%w: empty message", ErrProtocol)
	}
	if n > MaxFrameSize {
		return fmt.Errorf("%w: message length %d exceeds the %d-byte limit", ErrProtocol, n, MaxFrameSize)
	}
	return nil
}

// readFrame reads and decodes one message, within the decoder's limits and
// giving up when ctx ends.
func readFrame(ctx context.Context, r io.Reader) (map[string]any, error) {
	var lb [4]byte
	if _, err := io.ReadFull(r, lb[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: truncated length prefix", ErrProtocol)
		}
		return nil, err
	}
	n := binary.BigEndian.Uint32(lb[:])
	if err := checkLength(n); err != nil {
		return nil, err
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: truncated message: want %d bytes", ErrProtocol, n)
		}
		return nil, err
	}
	return decodePlist(ctx, body)
}

// decodePlist decodes a reply body; anything that is not a plist
// dictionary is a protocol error.
func decodePlist(ctx context.Context, body []byte) (map[string]any, error) {
	m, err := plistval.DictContext(ctx, body, plistval.DefaultLimits)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w: %v", ErrProtocol, err)
	}
	return m, nil
}

var asInt, asBool = plistval.Int, plistval.Bool

// maxCodeLen bounds an Error string from the phone: lockdownd's codes are
// short identifiers, and a hostile one must not become a 3 MB status line.
const maxCodeLen = 64

// clipCode keeps an Error string printable and short.
func clipCode(s string) string {
	out := make([]rune, 0, min(len(s), maxCodeLen))
	for _, r := range s {
		if len(out) == maxCodeLen {
			return string(out) + "…"
		}
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			r = '?'
		}
		out = append(out, r)
	}
	return string(out)
}
