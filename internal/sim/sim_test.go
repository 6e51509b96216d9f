package sim

import (
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"howett.net/plist"
)

func quietServer(t *testing.T) *Server {
	t.Helper()
	s, err := Start(Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestListDevicesAndBasics(t *testing.T) {
	s := quietServer(t)
	a := s.AddDevice(DeviceConfig{})
	b := s.AddDevice(DeviceConfig{Network: true, UDID: "00008101000A11112222333E", ProductID: 0x12a8, LocationID: 0x20007})
	s.AddDevice(DeviceConfig{Detached: true})
	if a.UDID() != "00008030-001A2B3C4D5E6F70" || a.DeviceID() != 1 || a.Name() != "Anna's iPhone" {
		t.Errorf("defaults: udid %s id %d name %q", a.UDID(), a.DeviceID(), a.Name())
	}
	if b.UDID() != "00008101-000A11112222333E" || b.USBSerial() != "00008101000A11112222333E" {
		t.Errorf("hyphen form: %s / %s", b.UDID(), b.USBSerial())
	}
	if !strings.HasPrefix(s.Address(), "UNIX:///") {
		t.Errorf("Address %q", s.Address())
	}
	m := dialMux(t, s)
	list, _ := m.call(map[string]any{"MessageType": "ListDevices", "ProgName": "simtest"})["DeviceList"].([]any)
	if len(list) != 3 {
		t.Fatalf("DeviceList has %d entries, want 3 (2 USB + 1 Network): %v", len(list), list)
	}
	var usb, netw int
	for _, e := range list {
		ent := e.(map[string]any)
		p := dict(ent, "Properties")
		if str(ent, "MessageType") != "Attached" {
			t.Errorf("entry MessageType %q", str(ent, "MessageType"))
		}
		switch str(p, "ConnectionType") {
		case "USB":
			usb++
			if sp, _ := num(p, "ConnectionSpeed"); sp != 480000000 {
				t.Errorf("ConnectionSpeed %d", sp)
			}
			if pid, _ := num(p, "ProductID"); pid != 0x12a8 {
				t.Errorf("ProductID %#x", pid)
			}
			id, _ := num(p, "DeviceID")
			loc, _ := num(p, "LocationID")
			if id == int64(b.DeviceID()) && (loc != 0x20007 || str(p, "SerialNumber") != b.UDID()) {
				t.Errorf("b properties: %v", p)
			}
			if id == int64(a.DeviceID()) && (loc != 1<<16|5 || str(p, "SerialNumber") != a.UDID()) {
				t.Errorf("a properties: %v", p)
			}
		case "Network":
			netw++
			id, _ := num(p, "DeviceID")
			if int(id) != b.NetworkDeviceID() || str(p, "SerialNumber") != b.UDID() || id == int64(b.DeviceID()) {
				t.Errorf("network entry %v (usb id %d)", p, b.DeviceID())
			}
		}
	}
	if usb != 2 || netw != 1 {
		t.Errorf("usb %d network %d", usb, netw)
	}
	if buid := str(m.call(map[string]any{"MessageType": "ReadBUID"}), "BUID"); buid != s.SystemBUID() || len(buid) != 36 {
		t.Errorf("BUID %q", buid)
	}
	if n := resultNumber(t, m.call(map[string]any{"MessageType": "Frobnicate"})); n != 1 {
		t.Errorf("unknown request: Result %d, want 1", n)
	}
	if n := resultNumber(t, m.call(map[string]any{"MessageType": "ReadPairRecord", "PairRecordID": a.UDID()})); n != 2 {
		t.Errorf("missing record: Result %d, want 2", n)
	}
	if n := resultNumber(t, m.call(map[string]any{"MessageType": "ReadPairRecord"})); n != 22 {
		t.Errorf("no PairRecordID: Result %d, want 22", n)
	}
	// The store: save, read (either UDID form), delete.
	if n := resultNumber(t, m.call(map[string]any{"MessageType": "SavePairRecord", "PairRecordID": a.UDID(), "PairRecordData": []byte("<rec/>")})); n != 0 {
		t.Fatalf("SavePairRecord: %d", n)
	}
	if got := data(m.call(map[string]any{"MessageType": "ReadPairRecord", "PairRecordID": a.USBSerial()}), "PairRecordData"); string(got) != "<rec/>" {
		t.Errorf("ReadPairRecord = %q", got)
	}
	if rec, ok := s.PairRecord(a.UDID()); !ok || string(rec) != "<rec/>" {
		t.Errorf("Server.PairRecord = %q %v", rec, ok)
	}
	if n := resultNumber(t, m.call(map[string]any{"MessageType": "DeletePairRecord", "PairRecordID": a.UDID()})); n != 0 {
		t.Errorf("DeletePairRecord: %d", n)
	}
	if n := resultNumber(t, m.call(map[string]any{"MessageType": "DeletePairRecord", "PairRecordID": a.UDID()})); n != 2 {
		t.Errorf("DeletePairRecord again: %d, want 2", n)
	}
	if st := a.Stats(); st.SavePairRecords != 1 {
		t.Errorf("SavePairRecords %d", st.SavePairRecords)
	}
	ms := s.MuxStats()
	if ms.Connections != 1 || ms.Requests["ReadPairRecord"] != 3 || ms.Requests["ListDevices"] != 1 || ms.Requests["Frobnicate"] != 1 || ms.ListenClients != 0 {
		t.Errorf("MuxStats %+v", ms)
	}
	if got := s.Device("Ben's iPhone"); got != b {
		t.Errorf("Device by name: %v", got)
	}
}

func TestListenEvents(t *testing.T) {
	s := quietServer(t)
	a := s.AddDevice(DeviceConfig{})
	m := dialMux(t, s)
	tag := m.send(map[string]any{"MessageType": "Listen", "ProgName": "simtest"})
	next := func() (muxHeader, map[string]any) {
		t.Helper()
		h, d, err := m.read(2 * time.Second)
		if err != nil {
			t.Fatalf("listen read: %v", err)
		}
		return h, d
	}
	h, d := next()
	if h.Tag != tag || resultNumber(t, d) != 0 {
		t.Fatalf("first Listen packet: tag %d %v", h.Tag, d)
	}
	h, d = next()
	if h.Tag != 0 || str(d, "MessageType") != "Attached" || str(dict(d, "Properties"), "SerialNumber") != a.UDID() {
		t.Fatalf("initial Attached: tag %d %v", h.Tag, d)
	}
	b := s.AddDevice(DeviceConfig{Network: true})
	for _, want := range []string{"USB", "Network"} {
		_, d = next()
		if str(d, "MessageType") != "Attached" || str(dict(d, "Properties"), "ConnectionType") != want {
			t.Fatalf("want Attached %s, got %v", want, d)
		}
	}
	b.Detach()
	for _, id := range []int{b.DeviceID(), b.NetworkDeviceID()} {
		_, d = next()
		if got, _ := num(d, "DeviceID"); str(d, "MessageType") != "Detached" || int(got) != id {
			t.Fatalf("want Detached %d, got %v", id, d)
		}
		if _, has := d["Properties"]; has {
			t.Errorf("Detached carries Properties: %v", d)
		}
	}
	// SavePairRecord with DeviceID -> Paired; without -> nothing.
	m2 := dialMux(t, s)
	m2.call(map[string]any{"MessageType": "SavePairRecord", "PairRecordID": a.UDID(), "PairRecordData": []byte("x")})
	m2.call(map[string]any{"MessageType": "SavePairRecord", "PairRecordID": a.UDID(), "PairRecordData": []byte("x"), "DeviceID": a.DeviceID()})
	_, d = next()
	if got, _ := num(d, "DeviceID"); str(d, "MessageType") != "Paired" || int(got) != a.DeviceID() {
		t.Fatalf("want Paired %d, got %v", a.DeviceID(), d)
	}
	if _, d, err := m.read(150 * time.Millisecond); err == nil {
		t.Fatalf("unexpected event %v", d)
	}
	// Re-attach after detach is announced again; Attach is idempotent.
	b.Attach()
	b.Attach()
	next()
	next()
	if _, d, err := m.read(100 * time.Millisecond); err == nil {
		t.Fatalf("double Attach produced %v", d)
	}
}

func TestConnectPorts(t *testing.T) {
	s := quietServer(t)
	d := s.AddDevice(DeviceConfig{})
	off := s.AddDevice(DeviceConfig{Detached: true})
	m := dialMux(t, s)
	// 62078 sent unswapped is some other port: refused.
	if r := resultNumber(t, m.call(map[string]any{"MessageType": "Connect", "DeviceID": d.DeviceID(), "PortNumber": 62078})); r != 3 {
		t.Errorf("unswapped port: Result %d, want 3", r)
	}
	if r, _ := m.connect(99, lockdownPort); r != 2 {
		t.Errorf("unknown DeviceID: Result %d, want 2", r)
	}
	if r, _ := m.connect(off.DeviceID(), lockdownPort); r != 2 {
		t.Errorf("detached device: Result %d, want 2", r)
	}
	r, l := m.connect(d.DeviceID(), lockdownPort)
	if r != 0 {
		t.Fatalf("Connect: Result %d", r)
	}
	if ty := str(l.call(map[string]any{"Request": "QueryType", "Label": "simtest"}), "Type"); ty != "com.apple.mobile.lockdown" {
		t.Errorf("QueryType %q", ty)
	}
	l.call(map[string]any{"Request": "Goodbye", "Label": "simtest"})
	if _, err := l.recv(time.Second); err == nil {
		t.Error("connection still open after Goodbye")
	}
	if st := d.Stats(); st.LockdownConnections != 1 {
		t.Errorf("LockdownConnections %d", st.LockdownConnections)
	}
}

func TestGetValue(t *testing.T) {
	s := quietServer(t)
	d := s.AddDevice(DeviceConfig{Name: "Zoë's iPhone", ProductType: "iPhone16,1", ProductVersion: "18.0", Locked: true})
	l := lockdownConn(t, s, d)
	for key, want := range map[string]any{"DeviceName": "Zoë's iPhone", "ProductType": "iPhone16,1", "ProductVersion": "18.0",
		"DeviceClass": "iPhone", "UniqueDeviceID": d.UDID()} {
		if v, e := l.getValue(key); e != "" || v != want {
			t.Errorf("GetValue %s = %v (%s), want %v", key, v, e, want)
		}
	}
	if v, e := l.getValue("WiFiAddress"); e != "" || len(v.(string)) != 17 {
		t.Errorf("WiFiAddress %v %s", v, e)
	}
	pub, e := l.getValue("DevicePublicKey")
	if e != "" {
		t.Fatal(e)
	}
	der, _ := pemDecode(pub.([]byte))
	if k, err := parsePKCS1Public(der); err != nil || k.N.BitLen() != keyBits {
		t.Errorf("DevicePublicKey: %v", err)
	}
	if !bytes.HasPrefix(pub.([]byte), []byte("-----BEGIN RSA PUBLIC KEY-----")) {
		t.Errorf("DevicePublicKey is not a PKCS#1 PEM: %.40q", pub)
	}
	for _, key := range []string{"PasswordProtected", "NoSuchKey"} {
		if _, e := l.getValue(key); e != "MissingValue" {
			t.Errorf("session-less %s: Error %q, want MissingValue", key, e)
		}
	}
	all, e := l.getValue("")
	dump, _ := all.(map[string]any)
	if e != "" || dump["DeviceName"] != "Zoë's iPhone" {
		t.Fatalf("dump: %v %s", all, e)
	}
	if _, has := dump["PasswordProtected"]; has {
		t.Error("session-less dump contains PasswordProtected")
	}
	// A binary plist request is accepted too.
	bin, _ := plist.Marshal(map[string]any{"Request": "GetValue", "Key": "ProductVersion"}, plist.BinaryFormat)
	l.sendRaw(bin)
	r, err := l.recv(2 * time.Second)
	if err != nil || r["Value"] != "18.0" {
		t.Errorf("binary request: %v %v", r, err)
	}
}

// session-related situations with an independent Go TLS client.
func TestSessionSituations(t *testing.T) {
	s := quietServer(t)
	cases := []struct {
		name     string
		cfg      DeviceConfig
		wantErr  string
		wantTLS  bool
		wantLock bool
	}{
		{"trusted-unlocked", DeviceConfig{Trusted: true}, "", true, false},
		{"trusted-locked", DeviceConfig{Trusted: true, Locked: true}, "", true, true},
		{"bfu", DeviceConfig{Trusted: true, BFU: true}, "PasswordProtected", false, false},
		{"revoked", DeviceConfig{Revoked: true}, "InvalidHostID", false, false},
		{"bad-record", DeviceConfig{BadRecord: true}, "", false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := s.AddDevice(c.cfg)
			raw, ok := s.PairRecord(d.UDID())
			if !ok {
				t.Fatal("no host record stored")
			}
			rec := parseRecord(t, raw)
			if rec.HostID != s.HostID() || rec.SystemBUID != s.SystemBUID() || len(rec.EscrowBag) == 0 {
				t.Errorf("record fields: HostID %s BUID %s escrow %d", rec.HostID, rec.SystemBUID, len(rec.EscrowBag))
			}
			l := lockdownConn(t, s, d)
			e, tlsErr := l.startSession(rec)
			if e != c.wantErr {
				t.Fatalf("StartSession error %q, want %q", e, c.wantErr)
			}
			if e != "" {
				return
			}
			if !c.wantTLS {
				if tlsErr == nil {
					// TLS 1.2: the rejection must surface in the handshake.
					t.Fatal("TLS handshake succeeded with a mismatched record")
				}
				waitFor(t, "TLS failure counted", time.Second, func() bool { return d.Stats().TLSFailures == 1 })
				return
			}
			if tlsErr != nil {
				t.Fatalf("TLS handshake: %v", tlsErr)
			}
			if v := l.tls.ConnectionState().Version; v != tls.VersionTLS12 {
				t.Errorf("TLS version %x, want 1.2", v)
			}
			if pc := l.tls.ConnectionState().PeerCertificates; len(pc) != 1 || !bytes.Equal(pemCert(pc[0].Raw), rec.DeviceCertificate) {
				t.Error("server certificate is not the record's DeviceCertificate")
			}
			v, e := l.getValue("PasswordProtected")
			if e != "" || v != c.wantLock {
				t.Errorf("PasswordProtected = %v (%s), want %v", v, e, c.wantLock)
			}
			if st := d.Stats(); st.StartSessions != 1 || st.TLSHandshakes != 1 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func TestStopSessionBackToPlaintext(t *testing.T) {
	s := quietServer(t)
	d := s.AddDevice(DeviceConfig{Trusted: true})
	raw, _ := s.PairRecord(d.UDID())
	rec := parseRecord(t, raw)
	for _, closeNotify := range []bool{true, false} {
		l := lockdownConn(t, s, d)
		if e, err := l.startSession(rec); e != "" || err != nil {
			t.Fatal(e, err)
		}
		l.call(map[string]any{"Request": "StopSession", "SessionID": "x"})
		if closeNotify {
			// What libimobiledevice does: close_notify, then plaintext on the
			// same socket, written back to back.
			var buf bytes.Buffer
			w := &bufConn{Conn: l.raw, w: &buf}
			tc := tls.Client(w, &tls.Config{InsecureSkipVerify: true})
			_ = tc // a fresh client cannot produce the session's alert; send a plausible encrypted alert record
			buf.Write([]byte{0x15, 0x03, 0x03, 0x00, 0x1a})
			buf.Write(make([]byte, 0x1a))
			req, _ := plist.Marshal(map[string]any{"Request": "GetValue", "Key": "DeviceName"}, plist.XMLFormat)
			binary.Write(&buf, binary.BigEndian, uint32(len(req)))
			buf.Write(req)
			l.raw.Write(buf.Bytes())
		} else {
			l.rw = l.raw
			req, _ := plist.Marshal(map[string]any{"Request": "GetValue", "Key": "DeviceName"}, plist.XMLFormat)
			l.sendRaw(req)
		}
		l.rw = l.raw
		r, err := l.recv(2 * time.Second)
		if err != nil || r["Value"] != "Anna's iPhone" {
			t.Fatalf("plaintext after StopSession (close_notify %v): %v %v", closeNotify, r, err)
		}
		// A new session on the same socket works again.
		if e, err := l.startSession(rec); e != "" || err != nil {
			t.Fatalf("second session: %s %v", e, err)
		}
		if v, _ := l.getValue("PasswordProtected"); v != false {
			t.Errorf("PasswordProtected %v", v)
		}
	}
	// A real close_notify from Go's TLS stack (CloseWrite) is swallowed too.
	l := lockdownConn(t, s, d)
	if e, err := l.startSession(rec); e != "" || err != nil {
		t.Fatal(e, err)
	}
	l.call(map[string]any{"Request": "StopSession"})
	if err := l.tls.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	l.raw.SetWriteDeadline(time.Time{})
	l.rw, l.tls = l.raw, nil
	if v, e := l.getValue("ProductType"); e != "" || v != "iPhone15,2" {
		t.Fatalf("after CloseWrite: %v %s", v, e)
	}
}

type bufConn struct {
	net.Conn
	w io.Writer
}

func (b *bufConn) Write(p []byte) (int, error) { return b.w.Write(p) }

func TestPairingStory(t *testing.T) {
	s := quietServer(t)
	d := s.AddDevice(DeviceConfig{Locked: true})
	host, err := pooledHost("simtest-client")
	if err != nil {
		t.Fatal(err)
	}
	const hostID = "11111111-2222-4333-8444-555555555555"
	l := lockdownConn(t, s, d)
	pair := func() string {
		e, rec := pairAsHost(t, l, host, hostID, s.SystemBUID())
		if e == "" && rec == nil {
			t.Fatal("no record")
		}
		return e
	}
	if e := pair(); e != "PasswordProtected" {
		t.Fatalf("locked: %q", e)
	}
	if d.DialogShowing() {
		t.Fatal("dialog shown while locked")
	}
	d.TapTrust() // no dialog: no-op
	d.Unlock()
	if e := pair(); e != "PairingDialogResponsePending" || !d.DialogShowing() {
		t.Fatalf("unlocked: %q dialog %v", e, d.DialogShowing())
	}
	if e := pair(); e != "PairingDialogResponsePending" {
		t.Fatalf("flash: %q", e)
	}
	st := d.Stats()
	if st.PairRequests != 3 || st.DialogShows != 1 || st.DialogFlashes != 1 {
		t.Fatalf("counts %+v", st)
	}
	d.TapDontTrust()
	if e := pair(); e != "UserDeniedPairing" || d.DialogShowing() {
		t.Fatalf("denied: %q", e)
	}
	d.TapTrust() // dialog gone: no-op
	if e := pair(); e != "UserDeniedPairing" {
		t.Fatalf("still denied: %q", e)
	}
	d.Detach() // the lockdown connection dies with the attach
	if _, err := l.recv(time.Second); err == nil {
		t.Fatal("lockdown connection survived Detach")
	}
	d.Attach()
	l = lockdownConn(t, s, d)
	if e := pair(); e != "PairingDialogResponsePending" {
		t.Fatalf("after replug: %q", e)
	}
	d.TapTrust()
	e, recBytes := pairAsHost(t, l, host, hostID, s.SystemBUID())
	if e != "" {
		t.Fatalf("after Trust: %q", e)
	}
	if !d.Trusts(hostID) || d.DialogShowing() {
		t.Fatal("host not trusted after Trust")
	}
	// The next Pair from a different host needs a new dialog.
	other, _ := pooledHost("stranger")
	if e, _ := pairAsHost(t, l, other, "99999999-2222-4333-8444-555555555555", s.SystemBUID()); e != "PairingDialogResponsePending" {
		t.Fatalf("second host: %q", e)
	}
	rec := parseRecord(t, recBytes)
	l2 := lockdownConn(t, s, d)
	if e, err := l2.startSession(rec); e != "" || err != nil {
		t.Fatalf("session with new record: %s %v", e, err)
	}
	// Unpair: known host forgotten, unknown host refused.
	l3 := lockdownConn(t, s, d)
	if r := l3.call(map[string]any{"Request": "Unpair", "PairRecord": map[string]any{"HostID": hostID}, "ProtocolVersion": "2"}); str(r, "Error") != "" {
		t.Fatalf("Unpair: %v", r)
	}
	if r := l3.call(map[string]any{"Request": "Unpair", "PairRecord": map[string]any{"HostID": hostID}, "ProtocolVersion": "2"}); str(r, "Error") != "InvalidHostID" {
		t.Fatalf("second Unpair: %v", r)
	}
	if e, _ := l3.startSession(rec); e != "InvalidHostID" {
		t.Fatalf("session after Unpair: %q", e)
	}
	// Pair over the Wi-Fi entry is refused.
	n := s.AddDevice(DeviceConfig{Network: true})
	r, ln := dialMux(t, s).connect(n.NetworkDeviceID(), lockdownPort)
	if r != 0 {
		t.Fatalf("network Connect: %d", r)
	}
	if e, _ := pairAsHost(t, ln, host, hostID, s.SystemBUID()); e != "PairingProhibitedOverThisConnection" {
		t.Fatalf("network Pair: %q", e)
	}
	// Restart: BFU until Unlock, host still trusted.
	d.Restart()
	if !d.BFU() || !d.Locked() || !d.Attached() {
		t.Fatal("Restart state")
	}
	d.Unlock()
	if d.BFU() || d.Locked() {
		t.Fatal("Unlock did not end BFU")
	}
}

func TestInsecureNotificationProxy(t *testing.T) {
	s := quietServer(t)
	d := s.AddDevice(DeviceConfig{Locked: true})
	l := lockdownConn(t, s, d)
	start := map[string]any{"Request": "StartService", "Label": "simtest", "Service": insecureNotificationProxy}
	if r := l.call(start); str(r, "Error") != "PasswordProtected" {
		t.Fatalf("locked StartService: %v", r)
	}
	d.Unlock()
	r := l.call(start)
	port, ok := num(r, "Port")
	if str(r, "Error") != "" || !ok || r["EnableServiceSSL"] != false {
		t.Fatalf("StartService: %v", r)
	}
	other := map[string]any{"Request": "StartService", "Service": "com.apple.afc"}
	if r := l.call(other); str(r, "Error") != "SessionInactive" {
		t.Errorf("session service without session: %v", r)
	}
	m := dialMux(t, s)
	rr, np := m.connect(d.DeviceID(), int(port))
	if rr != 0 {
		t.Fatalf("Connect to service port: %d", rr)
	}
	if rr, _ := dialMux(t, s).connect(d.DeviceID(), int(port)); rr != 3 {
		t.Errorf("second Connect to a used service port: %d, want 3", rr)
	}
	send := func(m map[string]any) {
		b, _ := plist.Marshal(m, plist.XMLFormat)
		np.sendRaw(b)
	}
	send(map[string]any{"Command": "ObserveNotification", "Name": "com.apple.mobile.lockdown.request_pair"})
	// Trigger the dialog from another connection, then tap Trust.
	host, _ := pooledHost("simtest-client")
	if e, _ := pairAsHost(t, lockdownConn(t, s, d), host, "AAAAAAAA-2222-4333-8444-555555555555", s.SystemBUID()); e != "PairingDialogResponsePending" {
		t.Fatalf("Pair: %s", e)
	}
	waitFor(t, "observer registered", time.Second, func() bool {
		for _, e := range d.Stats().Requests {
			if strings.HasPrefix(e, "np ObserveNotification") {
				return true
			}
		}
		return false
	})
	d.TapTrust()
	ev, err := np.recv(2 * time.Second)
	if err != nil || str(ev, "Command") != "RelayNotification" || str(ev, "Name") != "com.apple.mobile.lockdown.request_pair" {
		t.Fatalf("relay: %v %v", ev, err)
	}
	send(map[string]any{"Command": "Shutdown"})
	ev, err = np.recv(2 * time.Second)
	if err != nil || str(ev, "Command") != "ProxyDeath" {
		t.Fatalf("ProxyDeath: %v %v", ev, err)
	}
	if _, err := np.recv(time.Second); err == nil {
		t.Fatal("service connection open after ProxyDeath")
	}
}

// openLockstate opens the session's notification_proxy on d (TLS with the
// host record) and observes lockstate.
func openLockstate(t *testing.T, s *Server, d *Device) *testLockdown {
	t.Helper()
	raw, _ := s.PairRecord(d.UDID())
	rec := parseRecord(t, raw)
	l := lockdownConn(t, s, d)
	if e, err := l.startSession(rec); e != "" || err != nil {
		t.Fatal(e, err)
	}
	r := l.call(map[string]any{"Request": "StartService", "Service": notificationProxy})
	port, _ := num(r, "Port")
	if r["EnableServiceSSL"] != true {
		t.Fatalf("StartService: %v", r)
	}
	rr, np := dialMux(t, s).connect(d.DeviceID(), int(port))
	if rr != 0 {
		t.Fatal(rr)
	}
	if err := np.enableTLS(rec); err != nil {
		t.Fatalf("service TLS: %v", err)
	}
	before := strings.Count(strings.Join(d.Stats().Requests, "\n"), "np ObserveNotification")
	b, _ := plist.Marshal(map[string]any{"Command": "ObserveNotification", "Name": "com.apple.springboard.lockstate"}, plist.XMLFormat)
	np.sendRaw(b)
	waitFor(t, "observer", time.Second, func() bool {
		return strings.Count(strings.Join(d.Stats().Requests, "\n"), "np ObserveNotification") > before
	})
	return np
}

func TestSecureNotificationProxyLockstate(t *testing.T) {
	s := quietServer(t)
	d := s.AddDevice(DeviceConfig{Trusted: true})
	np := openLockstate(t, s, d)
	for _, change := range []func(){d.Lock, d.Unlock} {
		change()
		ev, err := np.recv(2 * time.Second)
		if err != nil || str(ev, "Name") != "com.apple.springboard.lockstate" {
			t.Fatalf("lockstate: %v %v", ev, err)
		}
	}
	// An iOS that does not relay: the observer is accepted, nothing comes.
	d.SetLockRelay(false)
	d.Lock()
	if ev, err := np.recv(300 * time.Millisecond); err == nil {
		t.Fatalf("relayed with relaying off: %v", ev)
	}
	d.SetLockRelay(true)
	d.Unlock()
	if ev, err := np.recv(2 * time.Second); err != nil || str(ev, "Name") != "com.apple.springboard.lockstate" {
		t.Fatalf("relaying back on: %v %v", ev, err)
	}
	quiet := s.AddDevice(DeviceConfig{Trusted: true, NoLockRelay: true})
	np = openLockstate(t, s, quiet)
	quiet.Lock()
	if ev, err := np.recv(300 * time.Millisecond); err == nil {
		t.Fatalf("NoLockRelay device relayed: %v", ev)
	}
}

func TestNotificationProxyFaults(t *testing.T) {
	s := quietServer(t)
	d := s.AddDevice(DeviceConfig{Trusted: true, ProxyFault: ProxyFaultRefuse})
	raw, _ := s.PairRecord(d.UDID())
	l := lockdownConn(t, s, d)
	if e, err := l.startSession(parseRecord(t, raw)); e != "" || err != nil {
		t.Fatal(e, err)
	}
	if r := l.call(map[string]any{"Request": "StartService", "Service": notificationProxy}); str(r, "Error") != "InvalidService" {
		t.Fatalf("refuse: %v", r)
	}
	d.SetProxyFault(ProxyFaultGarbage)
	np := openLockstate(t, s, d)
	if _, err := np.recv(2 * time.Second); err == nil || isTimeout(err) {
		t.Fatalf("garbage: want a decode error, got %v", err)
	}
	d.SetProxyFault(ProxyFaultNone)
	np = openLockstate(t, s, d)
	d.SetProxyFault(ProxyFaultDrop) // drops the open connection
	if _, err := np.recv(2 * time.Second); err == nil || isTimeout(err) {
		t.Fatalf("drop: want the connection closed, got %v", err)
	}
}

func TestFaults(t *testing.T) {
	s := quietServer(t)
	t.Run("connect-refused", func(t *testing.T) {
		d := s.AddDevice(DeviceConfig{Fault: FaultConnectRefused})
		if r, _ := dialMux(t, s).connect(d.DeviceID(), lockdownPort); r != 3 {
			t.Errorf("Result %d, want 3", r)
		}
		d.SetFault(FaultNone)
		if r, _ := dialMux(t, s).connect(d.DeviceID(), lockdownPort); r != 0 {
			t.Errorf("after SetFault(None): Result %d", r)
		}
	})
	t.Run("mux-garbage", func(t *testing.T) {
		d := s.AddDevice(DeviceConfig{Fault: FaultMuxGarbage})
		m := dialMux(t, s)
		m.send(map[string]any{"MessageType": "ReadPairRecord", "PairRecordID": d.UDID()})
		if _, _, err := m.read(time.Second); err == nil || isTimeout(err) {
			t.Errorf("want a decode error, got %v", err)
		}
		// Other requests on the socket are still fine.
		m2 := dialMux(t, s)
		if list := m2.call(map[string]any{"MessageType": "ListDevices"})["DeviceList"]; list == nil {
			t.Error("ListDevices broken")
		}
	})
	t.Run("lockdown-garbage", func(t *testing.T) {
		d := s.AddDevice(DeviceConfig{Fault: FaultLockdownGarbage})
		l := lockdownConn(t, s, d)
		l.sendRaw(mustXML(map[string]any{"Request": "QueryType"}))
		if _, err := l.recv(time.Second); err == nil || isTimeout(err) {
			t.Errorf("want a decode error, got %v", err)
		}
	})
	t.Run("lockdown-silent", func(t *testing.T) {
		d := s.AddDevice(DeviceConfig{Fault: FaultLockdownSilent})
		l := lockdownConn(t, s, d)
		l.sendRaw(mustXML(map[string]any{"Request": "QueryType"}))
		if _, err := l.recv(300 * time.Millisecond); !isTimeout(err) {
			t.Errorf("want a timeout, got %v", err)
		}
	})
	t.Run("lockdown-reset", func(t *testing.T) {
		d := s.AddDevice(DeviceConfig{Fault: FaultLockdownReset})
		l := lockdownConn(t, s, d)
		l.sendRaw(mustXML(map[string]any{"Request": "QueryType"}))
		if _, err := l.recv(time.Second); !errors.Is(err, io.EOF) && !isReset(err) {
			t.Errorf("want EOF, got %v", err)
		}
	})
	t.Run("tls-stall", func(t *testing.T) {
		d := s.AddDevice(DeviceConfig{Trusted: true, Fault: FaultTLSStall})
		raw, _ := s.PairRecord(d.UDID())
		rec := parseRecord(t, raw)
		l := lockdownConn(t, s, d)
		r := l.call(map[string]any{"Request": "StartSession", "HostID": rec.HostID, "SystemBUID": rec.SystemBUID})
		if r["EnableSessionSSL"] != true {
			t.Fatalf("StartSession: %v", r)
		}
		cert, _ := tls.X509KeyPair(rec.HostCertificate, rec.HostPrivateKey)
		tc := tls.Client(l.raw, &tls.Config{Certificates: []tls.Certificate{cert}, InsecureSkipVerify: true})
		l.raw.SetDeadline(time.Now().Add(300 * time.Millisecond))
		if err := tc.Handshake(); !isTimeout(err) {
			t.Errorf("want handshake timeout, got %v", err)
		}
	})
}

func isReset(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "reset") || strings.Contains(err.Error(), "closed"))
}

func TestMuxFaults(t *testing.T) {
	s := quietServer(t)
	s.AddDevice(DeviceConfig{})
	req := map[string]any{"MessageType": "ListDevices"}
	for _, f := range []MuxFault{MuxFaultShortHeader, MuxFaultTruncated, MuxFaultHugeLength, MuxFaultJunk, MuxFaultBadPlist, MuxFaultWrongTag, MuxFaultSilent, MuxFaultClose} {
		t.Run(f.String(), func(t *testing.T) {
			s.SetMuxFault(f)
			m := dialMux(t, s)
			tag := m.send(req)
			m.c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
			var hdr [16]byte
			n, err := io.ReadFull(m.c, hdr[:])
			length := binary.LittleEndian.Uint32(hdr[:])
			gotTag := binary.LittleEndian.Uint32(hdr[12:])
			switch f {
			case MuxFaultShortHeader:
				if err != nil || length >= 16 {
					t.Errorf("length %d err %v", length, err)
				}
			case MuxFaultHugeLength:
				if err != nil || length < 1<<30 {
					t.Errorf("length %d err %v", length, err)
				}
			case MuxFaultTruncated:
				rest, rerr := io.ReadAll(m.c)
				if err != nil || int(length) <= 16+len(rest) || rerr != nil {
					t.Errorf("length %d got %d more bytes, err %v/%v", length, len(rest), err, rerr)
				}
			case MuxFaultJunk:
				if err != nil || hdr[0] != junk[0] {
					t.Errorf("junk: % x %v", hdr, err)
				}
			case MuxFaultBadPlist:
				body := make([]byte, length-16)
				io.ReadFull(m.c, body)
				if err != nil || isXMLPlist(body) {
					t.Errorf("bad plist: %q %v", body, err)
				}
			case MuxFaultWrongTag:
				if err != nil || gotTag == tag {
					t.Errorf("tag %d (sent %d) err %v", gotTag, tag, err)
				}
			case MuxFaultSilent:
				if !isTimeout(err) {
					t.Errorf("silent: n=%d err %v", n, err)
				}
			case MuxFaultClose:
				if !errors.Is(err, io.EOF) && !isReset(err) {
					t.Errorf("close: n=%d err %v", n, err)
				}
			}
		})
	}
	s.SetMuxFault(MuxFaultNone)
	if list := dialMux(t, s).call(req)["DeviceList"]; list == nil {
		t.Error("ListDevices broken after faults")
	}
}

// TestTorture sends malformed packets to the sim: it must drop the client,
// never panic or hang, and keep serving others.
func TestTorture(t *testing.T) {
	s := quietServer(t)
	s.AddDevice(DeviceConfig{})
	d := s.AddDevice(DeviceConfig{})
	hdr := func(length, version, msg, tag uint32) []byte {
		b := make([]byte, 16)
		binary.LittleEndian.PutUint32(b, length)
		binary.LittleEndian.PutUint32(b[4:], version)
		binary.LittleEndian.PutUint32(b[8:], msg)
		binary.LittleEndian.PutUint32(b[12:], tag)
		return b
	}
	inputs := map[string][]byte{
		"short-length":   hdr(4, 1, 8, 1),
		"huge-length":    hdr(0xfffffff0, 1, 8, 1),
		"not-a-plist":    append(hdr(16+8, 1, 8, 1), "garbage!"...),
		"openstep-text":  append(hdr(16+5, 1, 8, 1), `"abc"`...),
		"plist-array":    append(hdr(16+uint32(len(mustXML([]any{1}))), 1, 8, 1), mustXML([]any{1})...),
		"binary-junk":    junk,
		"truncated-body": append(hdr(200, 1, 8, 1), "<?xml"...),
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			c, err := net.Dial("unix", s.SocketPath())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.Write(in)
			if name == "truncated-body" {
				c.(*net.UnixConn).CloseWrite()
			}
			c.SetReadDeadline(time.Now().Add(2 * time.Second))
			_, err = io.ReadAll(c)
			if isTimeout(err) {
				t.Fatalf("server kept a broken client open")
			}
		})
	}
	// Bad versions and binary message types get a Result, not a hang.
	m := dialMux(t, s)
	m.c.Write(append(hdr(16+4, 7, 8, 5), "<a/>"...))
	h, p, err := readMuxPacket(m.c)
	if err != nil || h.Message != muxMsgResult || binary.LittleEndian.Uint32(p) != resultBadVersion {
		t.Errorf("bad version: %+v % x %v", h, p, err)
	}
	m.c.Write(hdr(16, 0, muxMsgListen, 6))
	h, p, err = readMuxPacket(m.c)
	if err != nil || h.Tag != 6 || binary.LittleEndian.Uint32(p) != resultBadCommand {
		t.Errorf("binary Listen: %+v % x %v", h, p, err)
	}
	// Garbage on lockdown.
	l := lockdownConn(t, s, d)
	l.raw.Write([]byte{0xff, 0xff, 0xff, 0xff})
	if _, err := l.recv(2 * time.Second); isTimeout(err) || err == nil {
		t.Errorf("huge lockdown frame: %v", err)
	}
	l = lockdownConn(t, s, d)
	l.sendRaw([]byte("not a plist at all"))
	if _, err := l.recv(2 * time.Second); isTimeout(err) || err == nil {
		t.Errorf("junk lockdown frame: %v", err)
	}
	l = lockdownConn(t, s, d)
	l.sendRaw(mustXML(map[string]any{"Request": "Pair", "PairRecord": map[string]any{"HostID": "x", "RootCertificate": []byte("junk")}}))
	if r, err := l.recv(2 * time.Second); err != nil || str(r, "Error") != "InvalidPairRecord" {
		t.Errorf("Pair with junk certificates: %v %v", r, err)
	}
	if list := dialMux(t, s).call(map[string]any{"MessageType": "ListDevices"})["DeviceList"].([]any); len(list) != 2 {
		t.Errorf("server unhealthy after torture: %v", list)
	}
}

func TestStopRestart(t *testing.T) {
	s, err := Start(Options{TCPAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	d := s.AddDevice(DeviceConfig{Trusted: true, Locked: true})
	tcp := s.TCPAddress()
	m := dialMux(t, s)
	m.send(map[string]any{"MessageType": "Listen"})
	m.read(time.Second) // Result
	m.read(time.Second) // Attached
	s.Stop()
	if _, _, err := m.read(time.Second); err == nil || isTimeout(err) {
		t.Errorf("Listen client not dropped by Stop: %v", err)
	}
	if c, err := net.Dial("unix", s.SocketPath()); err == nil {
		c.Close()
		t.Fatal("unix socket still accepts after Stop")
	}
	if c, err := net.Dial("tcp", tcp); err == nil {
		c.Close()
		t.Fatal("tcp still accepts after Stop")
	}
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	if s.TCPAddress() != tcp {
		t.Errorf("TCP address changed: %s -> %s", tcp, s.TCPAddress())
	}
	if list := dialMux(t, s).call(map[string]any{"MessageType": "ListDevices"})["DeviceList"].([]any); len(list) != 1 {
		t.Errorf("after restart: %v", list)
	}
	if _, ok := s.PairRecord(d.UDID()); !ok || !d.Trusts(s.HostID()) || !d.Locked() {
		t.Error("device state lost over Restart")
	}
	// TCP speaks the same protocol.
	c, err := net.DialTimeout("tcp", tcp, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	tm := &testMux{t: t, c: c}
	defer c.Close()
	if buid := str(tm.call(map[string]any{"MessageType": "ReadBUID"}), "BUID"); buid != s.SystemBUID() {
		t.Errorf("tcp ReadBUID %q", buid)
	}
}

func TestAfter(t *testing.T) {
	s := quietServer(t)
	d := s.AddDevice(DeviceConfig{Locked: true})
	d.After(20*time.Millisecond, (*Device).Unlock)
	d.After(time.Hour, (*Device).Detach) // must not run nor block Close
	waitFor(t, "timed unlock", 2*time.Second, func() bool { return !d.Locked() })
	if !d.Attached() {
		t.Error("the hour-long timer fired")
	}
}

func TestCloseLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	s, err := Start(Options{TCPAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	d := s.AddDevice(DeviceConfig{Trusted: true})
	raw, _ := s.PairRecord(d.UDID())
	rec := parseRecord(t, raw)
	// Leave every kind of connection open: Listen, lockdown in TLS, a silent
	// device, a service observer, a stalled TLS, a pending timer.
	lm := dialMux(t, s)
	lm.send(map[string]any{"MessageType": "Listen"})
	l := lockdownConn(t, s, d)
	if e, err := l.startSession(rec); e != "" || err != nil {
		t.Fatal(e, err)
	}
	q := s.AddDevice(DeviceConfig{Fault: FaultLockdownSilent})
	lockdownConn(t, s, q).sendRaw(mustXML(map[string]any{"Request": "QueryType"}))
	st := s.AddDevice(DeviceConfig{Trusted: true, Fault: FaultTLSStall})
	raw2, _ := s.PairRecord(st.UDID())
	lockdownConn(t, s, st).call(map[string]any{"Request": "StartSession", "HostID": parseRecord(t, raw2).HostID})
	r := lockdownConn(t, s, d).call(map[string]any{"Request": "StartService", "Service": insecureNotificationProxy})
	port, _ := num(r, "Port")
	_, np := dialMux(t, s).connect(d.DeviceID(), int(port))
	np.sendRaw(mustXML(map[string]any{"Command": "ObserveNotification", "Name": "x"}))
	d.After(time.Hour, (*Device).Detach)
	tc, _ := net.Dial("tcp", s.TCPAddress())
	defer tc.Close()
	time.Sleep(50 * time.Millisecond)
	done := make(chan struct{})
	go func() { s.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close hung")
	}
	waitFor(t, "goroutines to return to the baseline", 3*time.Second, func() bool { return runtime.NumGoroutine() <= before })
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := net.Dial("unix", s.SocketPath()); err == nil {
		t.Error("socket alive after Close")
	}
}

func BenchmarkStart(b *testing.B) {
	for i := 0; i < b.N; i++ {
		s, err := Start(Options{})
		if err != nil {
			b.Fatal(err)
		}
		s.AddDevice(DeviceConfig{Trusted: true})
		s.Close()
	}
}

func BenchmarkListDevices(b *testing.B) {
	s, _ := Start(Options{})
	defer s.Close()
	s.AddDevice(DeviceConfig{})
	c, err := net.Dial("unix", s.SocketPath())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	m := &testMux{t: b, c: c}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.call(map[string]any{"MessageType": "ListDevices"})
	}
}

// BenchmarkSession measures Connect + StartSession + TLS + GetValue.
func BenchmarkSession(b *testing.B) {
	s, _ := Start(Options{})
	defer s.Close()
	d := s.AddDevice(DeviceConfig{Trusted: true})
	raw, _ := s.PairRecord(d.UDID())
	var rec hostRecord
	plist.Unmarshal(raw, &rec)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c, err := net.Dial("unix", s.SocketPath())
		if err != nil {
			b.Fatal(err)
		}
		_, l := (&testMux{t: b, c: c}).connect(d.DeviceID(), lockdownPort)
		if e, err := l.startSession(rec); e != "" || err != nil {
			b.Fatal(e, err)
		}
		l.getValue("PasswordProtected")
		c.Close()
	}
}

func TestOddUDIDs(t *testing.T) {
	s := quietServer(t)
	old := s.AddDevice(DeviceConfig{UDID: "0123456789abcdef0123456789abcdef01234567", Trusted: true})
	tiny := s.AddDevice(DeviceConfig{UDID: "x", Trusted: true})
	if old.UDID() != "0123456789abcdef0123456789abcdef01234567" {
		t.Errorf("40-char UDID changed: %s", old.UDID())
	}
	for _, d := range []*Device{old, tiny} {
		raw, _ := s.PairRecord(d.UDID())
		l := lockdownConn(t, s, d)
		if e, err := l.startSession(parseRecord(t, raw)); e != "" || err != nil {
			t.Fatalf("%s: %s %v", d.UDID(), e, err)
		}
		if v, e := l.getValue(""); e != "" || v.(map[string]any)["UniqueDeviceID"] != d.UDID() {
			t.Errorf("%s: dump %v %s", d.UDID(), v, e)
		}
	}
}

func TestLockdownMisc(t *testing.T) {
	s, err := Start(Options{LockdownIdleTimeout: 150 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	d := s.AddDevice(DeviceConfig{Trusted: true})
	raw, _ := s.PairRecord(d.UDID())
	rec := parseRecord(t, raw)
	l := lockdownConn(t, s, d)
	if r := l.call(map[string]any{"Request": "Frobnicate"}); str(r, "Error") != "InvalidRequest" {
		t.Errorf("unknown request: %v", r)
	}
	if r := l.call(map[string]any{"Request": "StopSession"}); str(r, "Error") != "SessionInactive" {
		t.Errorf("StopSession without session: %v", r)
	}
	if r := l.call(map[string]any{"Request": "StartSession", "SystemBUID": rec.SystemBUID}); str(r, "Error") != "MissingHostID" {
		t.Errorf("StartSession without HostID: %v", r)
	}
	if r := l.call(map[string]any{"Request": "ValidatePair", "PairRecord": map[string]any{"HostID": rec.HostID}}); str(r, "Error") != "" {
		t.Errorf("ValidatePair known host: %v", r)
	}
	if r := l.call(map[string]any{"Request": "ValidatePair", "PairRecord": map[string]any{"HostID": "nope"}}); str(r, "Error") != "InvalidHostID" {
		t.Errorf("ValidatePair unknown host: %v", r)
	}
	if r := l.call(map[string]any{"Request": "SetValue", "Domain": "com.apple.mobile.lockdown", "Key": "UntrustedHostBUID", "Value": "x"}); str(r, "Error") != "" {
		t.Errorf("SetValue: %v", r)
	}
	if r := l.call(map[string]any{"Request": "StartService"}); str(r, "Error") != "MissingService" {
		t.Errorf("StartService without Service: %v", r)
	}
	if e, err := l.startSession(rec); e != "" || err != nil {
		t.Fatal(e, err)
	}
	if r := l.call(map[string]any{"Request": "StartSession", "HostID": rec.HostID}); str(r, "Error") != "SessionActive" {
		t.Errorf("second StartSession: %v", r)
	}
	if r := l.call(map[string]any{"Request": "StartService", "Service": "com.apple.afc"}); str(r, "Error") != "InvalidService" {
		t.Errorf("unsupported service: %v", r)
	}
	if v, e := l.getValue("PasswordProtected"); e != "" || v != false {
		t.Errorf("PasswordProtected %v %s", v, e)
	}
	r := l.call(map[string]any{"Request": "GetValue", "Domain": "com.apple.mobile.battery", "Key": "BatteryCurrentCapacity"})
	if n, ok := num(r, "Value"); !ok || n <= 0 || n > 100 {
		t.Errorf("battery: %v", r)
	}
	// lockdownd drops an idle connection.
	time.Sleep(300 * time.Millisecond)
	if _, err := l.recv(time.Second); err == nil || isTimeout(err) {
		t.Errorf("idle connection not closed: %v", err)
	}
}

// Options.RequestLog bounds each device's request log; negative keeps none,
// while the counters still count.
func TestRequestLogBound(t *testing.T) {
	for _, c := range []struct{ opt, want int }{{0, 6}, {2, 2}, {-1, 0}} {
		s, err := Start(Options{RequestLog: c.opt})
		if err != nil {
			t.Fatal(err)
		}
		d := s.AddDevice(DeviceConfig{Detached: true})
		for range 3 {
			d.Attach()
			d.Detach()
		}
		st := d.Stats()
		s.Close()
		if len(st.Requests) != c.want || st.Attaches != 3 || st.Detaches != 3 {
			t.Errorf("RequestLog %d: %d entries (want %d), %d attaches, %d detaches: %q", c.opt, len(st.Requests), c.want, st.Attaches, st.Detaches, st.Requests)
		}
	}
}
