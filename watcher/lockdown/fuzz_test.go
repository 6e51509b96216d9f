package lockdown

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/trustwatch/trustwatch/internal/hostile"
)

// FuzzReadFrame: any byte stream from a device gives messages or an error,
// never a panic or an oversized allocation.
func FuzzReadFrame(f *testing.F) {
	ok, _ := encodeFrame(map[string]any{"Request": "QueryType", "Type": TypeLockdown})
	f.Add(ok)
	f.Add(ok[:7])
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Add(append([]byte{0, 0, 0, 48}, append([]byte("bplist00"), bytes.Repeat([]byte{0xff}, 40)...)...))
	// Depth and size: nesting past the limit and shared references that fan out.
	for _, body := range [][]byte{hostile.DeepXML(40), hostile.DeepBinary(40), hostile.FanOutBinary(30)} {
		f.Add(append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		for i := 0; i < 4; i++ {
			m, err := readFrame(context.Background(), r)
			if err != nil {
				if !errors.Is(err, ErrProtocol) && !errors.Is(err, io.EOF) {
					t.Fatalf("unexpected error kind: %v", err)
				}
				return
			}
			if m == nil {
				t.Fatal("nil message without error")
			}
		}
	})
}

// FuzzNotificationFrames: the resumable frame splitter of the notification
// stream agrees with readFrame on where messages end.
func FuzzNotificationFrames(f *testing.F) {
	relay, _ := encodeFrame(map[string]any{"Command": "RelayNotification", "Name": RequestPair})
	death, _ := encodeFrame(map[string]any{"Command": "ProxyDeath"})
	f.Add(append(relay, death...), uint8(3))
	f.Add(relay[:9], uint8(1))
	f.Add(binary.BigEndian.AppendUint32(nil, MaxFrameSize+1), uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, step uint8) {
		chunk := int(step%16) + 1
		s := &NotificationStream{}
		var got []map[string]any
		var streamErr error
	feed:
		for i := 0; i < len(data); i += chunk {
			s.buf = append(s.buf, data[i:min(i+chunk, len(data))]...)
			for {
				m, ok, err := s.takeFrame()
				if err != nil {
					streamErr = err
					break feed
				}
				if !ok {
					break
				}
				got = append(got, m)
			}
		}
		// Reference: the blocking reader over the same bytes.
		r := bytes.NewReader(data)
		for i := range got {
			m, err := readFrame(context.Background(), r)
			if err != nil {
				t.Fatalf("message %d: stream decoded it, readFrame says %v", i, err)
			}
			if len(m) != len(got[i]) {
				t.Fatalf("message %d differs", i)
			}
		}
		if streamErr != nil {
			if _, err := readFrame(context.Background(), r); err == nil {
				t.Fatalf("stream failed (%v) where readFrame succeeded", streamErr)
			}
		}
	})
}

// FuzzParsePairRecord: arbitrary bytes never panic, and errors never quote
// the input (it may hold private keys).
func FuzzParsePairRecord(f *testing.F) {
	good, _ := (&PairRecord{HostID: "H", SystemBUID: "B", HostCertificate: []byte("c"), HostPrivateKey: []byte("SECRETKEY")}).Marshal()
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte("bplist00"))
	f.Add([]byte(`<plist><dict><key>HostID</key><integer>1</integer></dict></plist>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rec, err := ParsePairRecord(data)
		if err != nil {
			if !errors.Is(err, ErrBadPairRecord) {
				t.Fatalf("error is not ErrBadPairRecord: %v", err)
			}
			if bytes.Contains(data, []byte("SECRETKEY")) && strings.Contains(err.Error(), "SECRETKEY") {
				t.Fatalf("error quotes the record: %v", err)
			}
			return
		}
		if rec.HostID == "" || rec.SystemBUID == "" || len(rec.HostCertificate) == 0 || len(rec.HostPrivateKey) == 0 {
			t.Fatalf("accepted incomplete record %v", rec)
		}
		if strings.Contains(rec.String(), "SECRETKEY") {
			t.Fatal("String leaks the key")
		}
		if _, err := rec.Marshal(); err != nil {
			t.Fatalf("parsed record does not marshal: %v", err)
		}
	})
}
