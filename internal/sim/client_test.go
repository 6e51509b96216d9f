package sim

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"howett.net/plist"
)

// A minimal, independent usbmuxd/lockdownd client for the sim's own tests.

type testMux struct {
	t   testing.TB
	c   net.Conn
	tag uint32
}

func dialMux(t testing.TB, s *Server) *testMux {
	t.Helper()
	c, err := net.DialTimeout("unix", s.SocketPath(), 2*time.Second)
	if err != nil {
		t.Fatalf("dial usbmuxd: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return &testMux{t: t, c: c}
}

func (m *testMux) send(req map[string]any) uint32 {
	m.t.Helper()
	m.tag++
	payload, err := plist.Marshal(req, plist.XMLFormat)
	if err != nil {
		m.t.Fatal(err)
	}
	m.c.SetWriteDeadline(time.Now().Add(2 * time.Second))
	if _, err := m.c.Write(encodeMuxPacket(1, muxMsgPlist, m.tag, payload)); err != nil {
		m.t.Fatalf("usbmuxd write: %v", err)
	}
	return m.tag
}

// read reads one packet within timeout.
func (m *testMux) read(timeout time.Duration) (muxHeader, map[string]any, error) {
	m.c.SetReadDeadline(time.Now().Add(timeout))
	h, payload, err := readMuxPacket(m.c)
	if err != nil {
		return h, nil, err
	}
	if h.Version != 1 || h.Message != muxMsgPlist {
		return h, nil, fmt.Errorf("header version %d message %d, want 1 and 8", h.Version, h.Message)
	}
	d, err := decodeDict(payload, false)
	return h, d, err
}

// call sends req and returns the reply, checking the echoed tag.
func (m *testMux) call(req map[string]any) map[string]any {
	m.t.Helper()
	tag := m.send(req)
	h, d, err := m.read(3 * time.Second)
	if err != nil {
		m.t.Fatalf("usbmuxd %v: %v", req["MessageType"], err)
	}
	if h.Tag != tag {
		m.t.Fatalf("reply tag %d, want %d", h.Tag, tag)
	}
	return d
}

func resultNumber(t testing.TB, d map[string]any) int {
	t.Helper()
	if str(d, "MessageType") != "Result" {
		t.Fatalf("not a Result: %v", d)
	}
	n, ok := num(d, "Number")
	if !ok {
		t.Fatalf("Result without Number: %v", d)
	}
	return int(n)
}

// connect returns a raw pipe to port (host order) or the failing Result.
func (m *testMux) connect(devID, port int) (int, *testLockdown) {
	m.t.Helper()
	swapped := int(uint16(port)>>8 | uint16(port)<<8)
	r := resultNumber(m.t, m.call(map[string]any{"MessageType": "Connect", "DeviceID": devID, "PortNumber": swapped}))
	if r != 0 {
		return r, nil
	}
	return 0, &testLockdown{t: m.t, raw: m.c, rw: m.c}
}

func lockdownConn(t testing.TB, s *Server, d *Device) *testLockdown {
	t.Helper()
	r, l := dialMux(t, s).connect(d.DeviceID(), lockdownPort)
	if r != 0 {
		t.Fatalf("Connect to lockdownd: Result %d", r)
	}
	return l
}

type testLockdown struct {
	t   testing.TB
	raw net.Conn
	rw  io.ReadWriter
	tls *tls.Conn
}

func (l *testLockdown) sendRaw(payload []byte) {
	l.t.Helper()
	l.raw.SetWriteDeadline(time.Now().Add(2 * time.Second))
	if err := writeLockdownFrame(l.rw, payload); err != nil {
		l.t.Fatalf("lockdown write: %v", err)
	}
}

func (l *testLockdown) recv(timeout time.Duration) (map[string]any, error) {
	l.raw.SetReadDeadline(time.Now().Add(timeout))
	b, err := readLockdownFrame(l.rw)
	if err != nil {
		return nil, err
	}
	return decodeDict(b, false) // the phone answers in XML
}

func (l *testLockdown) call(req map[string]any) map[string]any {
	l.t.Helper()
	payload, err := plist.Marshal(req, plist.XMLFormat)
	if err != nil {
		l.t.Fatal(err)
	}
	l.sendRaw(payload)
	d, err := l.recv(3 * time.Second)
	if err != nil {
		l.t.Fatalf("lockdown %v: %v", req["Request"], err)
	}
	if got := str(d, "Request"); got != req["Request"] {
		l.t.Fatalf("reply echoes Request %q, want %q", got, req["Request"])
	}
	return d
}

func (l *testLockdown) getValue(key string) (any, string) {
	l.t.Helper()
	req := map[string]any{"Request": "GetValue", "Label": "simtest"}
	if key != "" {
		req["Key"] = key
	}
	d := l.call(req)
	return d["Value"], str(d, "Error")
}

// hostRecord is a parsed host-side pair record.
type hostRecord struct {
	HostID, SystemBUID                               string
	HostCertificate, HostPrivateKey, RootCertificate []byte
	DeviceCertificate, RootPrivateKey, EscrowBag     []byte
	WiFiMACAddress                                   string
}

func parseRecord(t testing.TB, b []byte) hostRecord {
	t.Helper()
	var r hostRecord
	if _, err := plist.Unmarshal(b, &r); err != nil {
		t.Fatalf("pair record: %v", err)
	}
	return r
}

// startSession runs StartSession and, when asked for, the client side of
// the TLS handshake with the record's host certificate.
func (l *testLockdown) startSession(rec hostRecord) (errName string, tlsErr error) {
	l.t.Helper()
	d := l.call(map[string]any{"Request": "StartSession", "Label": "simtest", "HostID": rec.HostID, "SystemBUID": rec.SystemBUID})
	if e := str(d, "Error"); e != "" {
		return e, nil
	}
	if str(d, "SessionID") == "" {
		l.t.Fatalf("StartSession without SessionID: %v", d)
	}
	if ssl, _ := d["EnableSessionSSL"].(bool); !ssl {
		l.t.Fatalf("EnableSessionSSL is not true: %v", d)
	}
	return "", l.enableTLS(rec)
}

func (l *testLockdown) enableTLS(rec hostRecord) error {
	cert, err := tls.X509KeyPair(rec.HostCertificate, rec.HostPrivateKey)
	if err != nil {
		l.t.Fatalf("host key pair: %v", err)
	}
	tc := tls.Client(l.raw, &tls.Config{Certificates: []tls.Certificate{cert}, InsecureSkipVerify: true})
	l.raw.SetDeadline(time.Now().Add(5 * time.Second))
	err = tc.Handshake()
	if err == nil {
		// With TLS 1.2 the server's verdict on our certificate arrives
		// within the handshake; make sure nothing is pending.
		l.rw, l.tls = tc, tc
	}
	l.raw.SetDeadline(time.Time{})
	return err
}

// pairAsHost does what a pairing host does: read DevicePublicKey, create
// certificates, send Pair. It returns the lockdown Error ("" on success)
// and the full host record that a host would save.
func pairAsHost(t testing.TB, l *testLockdown, host *hostIdentity, hostID string, buid string) (string, []byte) {
	t.Helper()
	pub, e := l.getValue("DevicePublicKey")
	if e != "" {
		t.Fatalf("GetValue DevicePublicKey: %s", e)
	}
	blk, _ := pemDecode(pub.([]byte))
	devPub, err := parsePKCS1Public(blk)
	if err != nil {
		t.Fatalf("DevicePublicKey: %v", err)
	}
	devDER, err := host.deviceCertFor(devPub)
	if err != nil {
		t.Fatal(err)
	}
	rec := map[string]any{
		"DeviceCertificate": pemCert(devDER),
		"HostCertificate":   pemCert(host.hostCert.Raw),
		"RootCertificate":   pemCert(host.rootCert.Raw),
		"HostID":            hostID,
		"SystemBUID":        buid,
	}
	d := l.call(map[string]any{"Request": "Pair", "Label": "simtest", "PairRecord": rec, "ProtocolVersion": "2",
		"PairingOptions": map[string]any{"ExtendedPairingErrors": true}})
	if e := str(d, "Error"); e != "" {
		return e, nil
	}
	escrow := data(d, "EscrowBag")
	if len(escrow) == 0 {
		t.Fatalf("successful Pair without EscrowBag: %v", d)
	}
	rec["HostPrivateKey"] = pemRSAPrivate(host.hostKey)
	rec["RootPrivateKey"] = pemRSAPrivate(host.rootKey)
	rec["EscrowBag"] = escrow
	b, err := plist.Marshal(rec, plist.XMLFormat)
	if err != nil {
		t.Fatal(err)
	}
	return "", b
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	end := time.Now().Add(d)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
