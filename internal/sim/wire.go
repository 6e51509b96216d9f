package sim

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"howett.net/plist"
)

// usbmuxd wire constants (usbmuxd src/usbmuxd-proto.h).
const (
	muxHeaderSize = 16
	// muxMaxPacket bounds what we accept from a client; real requests are a
	// few kB (SavePairRecord ~10 kB), so 4 MiB is generous yet stops a bogus
	// length field from allocating gigabytes.
	muxMaxPacket = 4 << 20

	muxMsgResult  = 1
	muxMsgConnect = 2
	muxMsgListen  = 3
	muxMsgPlist   = 8

	resultOK          = 0
	resultBadCommand  = 1
	resultBadDev      = 2
	resultConnRefused = 3
	resultBadVersion  = 6

	errnoENOENT = 2
	errnoEINVAL = 22

	lockdownPort = 62078
	// lockdown frames are small plists; 4 MiB mirrors the mux bound.
	lockdownMaxFrame = 4 << 20

	writeTimeout = 5 * time.Second
)

type muxHeader struct {
	Length, Version, Message, Tag uint32
}

var errPacketTooLarge = errors.New("packet too large")

// readMuxPacket reads one usbmuxd packet (16-byte LE header + payload).
func readMuxPacket(r io.Reader) (muxHeader, []byte, error) {
	var raw [muxHeaderSize]byte
	if _, err := io.ReadFull(r, raw[:]); err != nil {
		return muxHeader{}, nil, err
	}
	h := muxHeader{
		Length:  binary.LittleEndian.Uint32(raw[0:]),
		Version: binary.LittleEndian.Uint32(raw[4:]),
		Message: binary.LittleEndian.Uint32(raw[8:]),
		Tag:     binary.LittleEndian.Uint32(raw[12:]),
	}
	if h.Length < muxHeaderSize {
		return h, nil, fmt.Errorf("usbmux header length %d < %d", h.Length, muxHeaderSize)
	}
	if h.Length > muxMaxPacket {
		return h, nil, fmt.Errorf("usbmux header length %d: %w", h.Length, errPacketTooLarge)
	}
	payload := make([]byte, h.Length-muxHeaderSize)
	if _, err := io.ReadFull(r, payload); err != nil {
		return h, nil, fmt.Errorf("usbmux payload: %w", err)
	}
	return h, payload, nil
}

func encodeMuxPacket(version, message, tag uint32, payload []byte) []byte {
	b := make([]byte, muxHeaderSize+len(payload))
	binary.LittleEndian.PutUint32(b[0:], uint32(len(b)))
	binary.LittleEndian.PutUint32(b[4:], version)
	binary.LittleEndian.PutUint32(b[8:], message)
	binary.LittleEndian.PutUint32(b[12:], tag)
	copy(b[muxHeaderSize:], payload)
	return b
}

func mustXML(v any) []byte {
	b, err := plist.MarshalIndent(v, plist.XMLFormat, "\t")
	if err != nil {
		// Only our own maps of plain types reach here; failing is a bug in the sim.
		panic(fmt.Sprintf("sim: plist marshal: %v", err))
	}
	return b
}

// isXMLPlist reports whether b looks like an XML plist. howett.net/plist also
// parses OpenStep text, which would let plain junk decode as a string.
func isXMLPlist(b []byte) bool {
	t := bytes.TrimLeft(b, " \t\r\n\x00")
	return bytes.HasPrefix(t, []byte("<?xml")) || bytes.HasPrefix(t, []byte("<plist")) || bytes.HasPrefix(t, []byte("<!DOCTYPE"))
}

func isBinaryPlist(b []byte) bool { return bytes.HasPrefix(b, []byte("bplist00")) }

// decodeDict decodes an XML (or, if allowBinary, binary) plist dictionary.
func decodeDict(b []byte, allowBinary bool) (map[string]any, error) {
	if !isXMLPlist(b) && !(allowBinary && isBinaryPlist(b)) {
		return nil, errors.New("payload is not a plist")
	}
	var m map[string]any
	if _, err := plist.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("bad plist: %w", err)
	}
	if m == nil {
		return nil, errors.New("plist is not a dictionary")
	}
	return m, nil
}

func readLockdownFrame(r io.Reader) ([]byte, error) {
	var l [4]byte
	if _, err := io.ReadFull(r, l[:]); err != nil {
		return nil, err
	}
	return readLockdownBody(r, binary.BigEndian.Uint32(l[:]))
}

func readLockdownBody(r io.Reader, n uint32) ([]byte, error) {
	if n > lockdownMaxFrame {
		return nil, fmt.Errorf("lockdown frame length %d: %w", n, errPacketTooLarge)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, fmt.Errorf("lockdown frame body: %w", err)
	}
	return b, nil
}

func writeLockdownFrame(w io.Writer, payload []byte) error {
	b := make([]byte, 4+len(payload))
	binary.BigEndian.PutUint32(b, uint32(len(payload)))
	copy(b[4:], payload)
	_, err := w.Write(b)
	return err
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

func num(m map[string]any, k string) (int64, bool) {
	switch v := m[k].(type) {
	case uint64:
		return int64(v), true
	case int64:
		return v, true
	case int:
		return int64(v), true
	case float64:
		return int64(v), true
	}
	return 0, false
}

func data(m map[string]any, k string) []byte {
	b, _ := m[k].([]byte)
	return b
}

func dict(m map[string]any, k string) map[string]any {
	d, _ := m[k].(map[string]any)
	return d
}

// recordConn hands a TLS stack exactly one TLS record at a time, never reading
// past the record boundary. lockdownd goes back to plaintext on the same socket
// after StopSession, so bytes that follow the client's close_notify must stay
// in the socket rather than in crypto/tls's read buffer.
type recordConn struct {
	net.Conn
	hdr       [5]byte
	hdrLeft   int // header bytes still to hand out
	bodyLeft  int // body bytes of the current record still to hand out
	hdrOffset int
}

func (c *recordConn) Read(p []byte) (int, error) {
	if c.hdrLeft == 0 && c.bodyLeft == 0 {
		if _, err := io.ReadFull(c.Conn, c.hdr[:]); err != nil {
			return 0, err
		}
		c.hdrLeft, c.hdrOffset = 5, 0
		c.bodyLeft = int(binary.BigEndian.Uint16(c.hdr[3:]))
	}
	if c.hdrLeft > 0 {
		n := copy(p, c.hdr[c.hdrOffset:])
		c.hdrOffset += n
		c.hdrLeft -= n
		return n, nil
	}
	if len(p) > c.bodyLeft {
		p = p[:c.bodyLeft]
	}
	n, err := c.Conn.Read(p)
	c.bodyLeft -= n
	return n, err
}
