package usbmux

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"github.com/trustwatch/trustwatch/internal/hostile"
)

// FuzzReadFrame: any byte stream from a daemon gives a frame or an error,
// never a panic, and never a frame that breaks the length rules.
func FuzzReadFrame(f *testing.F) {
	ok, _ := encodeFrame(1, map[string]any{"MessageType": "Result", "Number": 0})
	f.Add(ok)
	f.Add(ok[:10])
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0, 8, 0, 0, 0, 1, 0, 0, 0})
	f.Add([]byte{20, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0})
	// Depth and size: nesting past the limit, shared references that fan
	// out, and a real-format device list.
	for _, body := range [][]byte{hostile.DeepXML(40), hostile.DeepBinary(40), hostile.FanOutBinary(30), hostile.DeviceListXML(3)} {
		f.Add(rawFrame(1, msgPlist, body))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		for i := 0; i < 4; i++ {
			h, m, err := readFrame(context.Background(), r)
			if err != nil {
				if !errors.Is(err, ErrProtocol) && !errors.Is(err, io.EOF) {
					t.Fatalf("unexpected error kind: %v", err)
				}
				return
			}
			if h.Length < headerSize || h.Length > MaxFrameSize || m == nil {
				t.Fatalf("accepted bad frame %+v %v", h, m)
			}
			// Whatever decoded must be safe to interpret.
			decodeDevice(m)
			resultNumber(m)
		}
	})
}

// FuzzParseAddress: never panics; accepted addresses round-trip through
// String, which is what status JSON shows.
func FuzzParseAddress(f *testing.F) {
	for _, s := range []string{"UNIX:///var/run/usbmuxd", "UNIX:/x", "unix:///x", "/x", "127.0.0.1:27015", "tcp://[::1]:1", "tcp://", "unix://", ":", "::::", "[::1", "tcp://a:b:c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAddress(s)
		if err != nil {
			return
		}
		if a.Network != "unix" && a.Network != "tcp" {
			t.Fatalf("%q gave network %q", s, a.Network)
		}
		b, err := ParseAddress(a.String())
		if err != nil || b != a {
			t.Fatalf("%q -> %q -> %+v, %v", s, a.String(), b, err)
		}
	})
}

// rawFrame wraps body in a usbmuxd header as a daemon would.
func rawFrame(tag, msg uint32, body []byte) []byte {
	b := make([]byte, headerSize, headerSize+len(body))
	binary.LittleEndian.PutUint32(b[0:], uint32(headerSize+len(body)))
	binary.LittleEndian.PutUint32(b[4:], versionPlist)
	binary.LittleEndian.PutUint32(b[8:], msg)
	binary.LittleEndian.PutUint32(b[12:], tag)
	return append(b, body...)
}
