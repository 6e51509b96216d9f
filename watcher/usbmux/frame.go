package usbmux

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"howett.net/plist"

	"github.com/trustwatch/trustwatch/watcher/internal/plistval"
)

const (
	headerSize = 16
	// MaxFrameSize caps a usbmuxd message. The largest real one is the
	// device list: Linux usbmuxd writes 523 bytes per phone (measured on
	// its exact format, 25-character UDID), Apple's daemons somewhat more
	// and list Wi-Fi-sync phones a second time. At MaxTrackedDevices (512)
	// that is 270 kB on Linux and about 720 kB at worst on a Mac; a pair
	// record reply is about 10 kB. 2 MiB leaves at least 2.9× headroom and
	// refuses the 4 MiB lists that only a hostile daemon sends.
	MaxFrameSize = 2 << 20

	versionPlist = 1
	msgResult    = 1
	msgPlist     = 8
)

// header is the 16-byte little-endian usbmuxd header.
type header struct {
	Length  uint32 // including the header
	Version uint32
	Message uint32
	Tag     uint32
}

// encodeFrame builds a plist request frame with our identity keys added.
func encodeFrame(tag uint32, body map[string]any) ([]byte, error) {
	payload, err := plist.Marshal(body, plist.XMLFormat)
	if err != nil {
		return nil, fmt.Errorf("usbmux: encode %v: %w", body["MessageType"], err)
	}
	if len(payload)+headerSize > MaxFrameSize {
		return nil, fmt.Errorf("usbmux: request of %d bytes exceeds %d", len(payload)+headerSize, MaxFrameSize)
	}
	buf := make([]byte, headerSize, headerSize+len(payload))
	binary.LittleEndian.PutUint32(buf[0:], uint32(headerSize+len(payload)))
	binary.LittleEndian.PutUint32(buf[4:], versionPlist)
	binary.LittleEndian.PutUint32(buf[8:], msgPlist)
	binary.LittleEndian.PutUint32(buf[12:], tag)
	return append(buf, payload...), nil
}

// parseHeader validates a header before anything is allocated for the body.
func parseHeader(b []byte) (header, error) {
	h := header{
		Length:  binary.LittleEndian.Uint32(b[0:]),
		Version: binary.LittleEndian.Uint32(b[4:]),
		Message: binary.LittleEndian.Uint32(b[8:]),
		Tag:     binary.LittleEndian.Uint32(b[12:]),
	}
	if h.Length < headerSize {
		return h, fmt.Errorf("%w: frame length %d is shorter than the %d-byte header", ErrProtocol, h.Length, headerSize)
	}
	if h.Length > MaxFrameSize {
		return h, fmt.Errorf("%w: frame length %d exceeds the %d-byte limit", ErrProtocol, h.Length, MaxFrameSize)
	}
	return h, nil
}

// readFrame reads one message and decodes its plist body, within the
// decoder's limits and giving up when ctx ends.
func readFrame(ctx context.Context, r io.Reader) (header, map[string]any, error) {
	var hb [headerSize]byte
	if _, err := io.ReadFull(r, hb[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return header{}, nil, fmt.Errorf("%w: truncated header: %v", ErrProtocol, err)
		}
		return header{}, nil, err
	}
	h, err := parseHeader(hb[:])
	if err != nil {
		return h, nil, err
	}
	body := make([]byte, h.Length-headerSize)
	if _, err := io.ReadFull(r, body); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return h, nil, fmt.Errorf("%w: truncated message: want %d body bytes: %v", ErrProtocol, len(body), io.ErrUnexpectedEOF)
		}
		return h, nil, err
	}
	m, err := decodeBody(ctx, h, body)
	return h, m, err
}

// decodeBody turns a message body into a dictionary. A binary RESULT
// (message 1, as old daemons send to binary clients) becomes the same
// {MessageType: Result, Number: n} a plist daemon would send.
func decodeBody(ctx context.Context, h header, body []byte) (map[string]any, error) {
	switch {
	case h.Message == msgPlist:
		return decodePlist(ctx, body)
	case h.Message == msgResult && h.Version == 0 && len(body) == 4:
		return map[string]any{"MessageType": "Result", "Number": uint64(binary.LittleEndian.Uint32(body))}, nil
	default:
		return nil, fmt.Errorf("%w: unexpected message type %d (version %d, %d body bytes)", ErrProtocol, h.Message, h.Version, len(body))
	}
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

var asInt, asString = plistval.Int, plistval.String
