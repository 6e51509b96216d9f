package lockdown

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"howett.net/plist"
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

// readFrame reads and decodes one message.
func readFrame(r io.Reader) (map[string]any, error) {
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
	return decodePlist(body)
}

// decodePlist accepts an XML or binary plist with a dictionary at the top.
// Other plist dialects (OpenStep text) are not lockdown and are rejected.
func decodePlist(body []byte) (m map[string]any, err error) {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if !bytes.HasPrefix(trimmed, []byte("bplist00")) && !bytes.HasPrefix(trimmed, []byte("<")) {
		return nil, fmt.Errorf("%w: message is neither an XML nor a binary plist", ErrProtocol)
	}
	// howett.net/plist re-panics runtime errors on some malformed binary
	// plists; a broken device must not take the tray down.
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf("%w: malformed plist: %v", ErrProtocol, r)
		}
	}()
	var v any
	if _, err := plist.Unmarshal(body, &v); err != nil {
		return nil, fmt.Errorf("%w: malformed plist: %v", ErrProtocol, err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: plist top level is %T, want a dictionary", ErrProtocol, v)
	}
	return m, nil
}

func asInt(v any) (int64, bool) {
	switch x := v.(type) {
	case uint64:
		if x > 1<<63-1 {
			return 0, false
		}
		return int64(x), true
	case int64:
		return x, true
	case int:
		return int64(x), true
	case float64:
		if x != x || x < -1<<62 || x > 1<<62 || x != float64(int64(x)) {
			return 0, false
		}
		return int64(x), true
	}
	return 0, false
}

func asBool(v any) (bool, bool) {
	switch x := v.(type) {
	case bool:
		return x, true
	case uint64:
		return x != 0, true
	case int64:
		return x != 0, true
	}
	return false, false
}
