package sim

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

const (
	handshakeTimeout = 10 * time.Second

	insecureNotificationProxy = "com.apple.mobile.insecure_notification_proxy"
	notificationProxy         = "com.apple.mobile.notification_proxy"
	lockStateNotification     = "com.apple.springboard.lockstate"
)

type ldAction int

const (
	actNone ldAction = iota
	actStartTLS
	actStopTLS
	actClose
)

// ldConn is one lockdownd connection (device port 62078).
type ldConn struct {
	d          *Device
	raw        net.Conn
	rw         io.ReadWriter // raw, or the TLS session on top of it
	tls        *tls.Conn
	network    bool
	session    string
	trust      *hostTrust
	checkAlert bool // after StopSession: the client may send close_notify before plaintext
}

func (d *Device) serveLockdown(c net.Conn, network bool) {
	l := &ldConn{d: d, raw: c, rw: c, network: network}
	idle := d.s.idle
	for {
		if idle > 0 {
			c.SetReadDeadline(time.Now().Add(idle))
		}
		payload, err := l.readFrame()
		if err != nil {
			if errors.Is(err, errPacketTooLarge) || (!errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed)) {
				d.s.logf("sim: %s: lockdown: %v", d.cfg.Name, err)
			}
			return
		}
		d.s.mu.Lock()
		fault := d.fault
		d.s.mu.Unlock()
		switch fault {
		case FaultLockdownReset:
			d.logUnlocked("lockdown reset (fault)")
			return
		case FaultLockdownSilent:
			continue
		case FaultLockdownGarbage:
			c.SetWriteDeadline(time.Now().Add(writeTimeout))
			if writeLockdownFrame(l.rw, junk) != nil {
				return
			}
			continue
		}
		req, err := decodeDict(payload, true)
		if err != nil {
			d.s.logf("sim: %s: lockdown: %v; closing", d.cfg.Name, err)
			return
		}
		resp, act := l.handle(req)
		if resp != nil {
			c.SetWriteDeadline(time.Now().Add(writeTimeout))
			if err := writeLockdownFrame(l.rw, mustXML(resp)); err != nil {
				return
			}
		}
		switch act {
		case actClose:
			return
		case actStartTLS:
			if !l.startTLS() {
				return
			}
		case actStopTLS:
			// lockdownd drops TLS after StopSession without sending its own
			// close_notify; libimobiledevice then sends one and goes on in
			// plaintext.
			l.rw, l.tls, l.checkAlert = l.raw, nil, true
		}
	}
}

func (l *ldConn) readFrame() ([]byte, error) {
	if !l.checkAlert {
		return readLockdownFrame(l.rw)
	}
	l.checkAlert = false
	var b [4]byte
	if _, err := io.ReadFull(l.raw, b[:]); err != nil {
		return nil, err
	}
	if b[0] == 0x15 && b[1] == 0x03 { // TLS alert record (close_notify)
		var last [1]byte
		if _, err := io.ReadFull(l.raw, last[:]); err != nil {
			return nil, err
		}
		n := int(b[3])<<8 | int(last[0])
		if _, err := io.CopyN(io.Discard, l.raw, int64(n)); err != nil {
			return nil, err
		}
		return readLockdownFrame(l.raw)
	}
	return readLockdownBody(l.raw, uint32(b[0])<<24|uint32(b[1])<<16|uint32(b[2])<<8|uint32(b[3]))
}

func lockdownError(req, errName string, extra ...any) map[string]any {
	m := map[string]any{"Request": req, "Error": errName}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i].(string)] = extra[i+1]
	}
	return m
}

func (l *ldConn) handle(req map[string]any) (map[string]any, ldAction) {
	d := l.d
	r := str(req, "Request")
	resp, act := l.dispatch(r, req)
	entry := "lockdown " + r
	if k := str(req, "Key"); k != "" {
		entry += " " + k
	}
	if svc := str(req, "Service"); svc != "" {
		entry += " " + svc
	}
	if resp != nil {
		if e := str(resp, "Error"); e != "" {
			entry += " -> " + e
		}
	}
	d.logUnlocked(entry)
	return resp, act
}

func (l *ldConn) dispatch(r string, req map[string]any) (map[string]any, ldAction) {
	d := l.d
	switch r {
	case "QueryType":
		return map[string]any{"Request": r, "Type": "com.apple.mobile.lockdown"}, actNone
	case "GetValue":
		return l.getValue(req), actNone
	case "SetValue":
		return map[string]any{"Request": r}, actNone
	case "Pair":
		return l.pair(req), actNone
	case "ValidatePair": // iOS < 7 only; answer as a trusting device would
		if d.trustFor(hostIDOf(req)) == nil {
			return lockdownError(r, "InvalidHostID"), actNone
		}
		return map[string]any{"Request": r}, actNone
	case "Unpair":
		return l.unpair(req), actNone
	case "StartSession":
		return l.startSession(req)
	case "StopSession":
		if l.session == "" {
			return lockdownError(r, "SessionInactive"), actNone
		}
		l.session, l.trust = "", nil
		if l.tls != nil {
			return map[string]any{"Request": r}, actStopTLS
		}
		return map[string]any{"Request": r}, actNone
	case "StartService":
		return l.startService(req), actNone
	case "Goodbye":
		return map[string]any{"Request": r}, actClose
	case "":
		return lockdownError(r, "InvalidRequest"), actNone
	}
	return lockdownError(r, "InvalidRequest"), actNone
}

func hostIDOf(req map[string]any) string {
	if rec := dict(req, "PairRecord"); rec != nil {
		if h := str(rec, "HostID"); h != "" {
			return h
		}
	}
	return str(req, "HostID")
}

func (d *Device) trustFor(hostID string) *hostTrust {
	d.s.mu.Lock()
	defer d.s.mu.Unlock()
	return d.hosts[hostID]
}

func (l *ldConn) pair(req map[string]any) map[string]any {
	d := l.d
	const r = "Pair"
	d.s.mu.Lock()
	d.stats.PairRequests++
	d.s.mu.Unlock()
	if l.network {
		return lockdownError(r, "PairingProhibitedOverThisConnection")
	}
	rec := dict(req, "PairRecord")
	if rec == nil {
		return lockdownError(r, "MissingPairRecord")
	}
	hostID := str(rec, "HostID")
	root, rootErr := parsePEMCert(data(rec, "RootCertificate"))
	devCert, devErr := parsePEMCert(data(rec, "DeviceCertificate"))
	if hostID == "" || rootErr != nil || devErr != nil {
		d.s.logf("sim: %s: Pair with unusable record (HostID %q, root: %v, device cert: %v)", d.cfg.Name, hostID, rootErr, devErr)
		return lockdownError(r, "InvalidPairRecord")
	}
	d.s.mu.Lock()
	defer d.s.mu.Unlock()
	known := d.hosts[hostID]
	switch {
	case d.denied:
		return lockdownError(r, "UserDeniedPairing")
	case d.locked:
		// Locked phones cannot show the alert (no dialog, no count).
		return lockdownError(r, "PasswordProtected")
	case d.acceptNext || (known != nil && known.root.Equal(root)):
		d.acceptNext = false
		escrow := make([]byte, 32)
		rand.Read(escrow)
		d.hosts[hostID] = &hostTrust{root: root, deviceCert: devCert.Raw, escrow: escrow}
		return map[string]any{"Request": r, "EscrowBag": escrow}
	case d.dialog:
		d.stats.DialogFlashes++
		return lockdownError(r, "PairingDialogResponsePending")
	default:
		d.dialog = true
		d.stats.DialogShows++
		return lockdownError(r, "PairingDialogResponsePending")
	}
}

func (l *ldConn) unpair(req map[string]any) map[string]any {
	d := l.d
	hostID := hostIDOf(req)
	d.s.mu.Lock()
	defer d.s.mu.Unlock()
	if hostID == "" {
		return lockdownError("Unpair", "MissingHostID")
	}
	if d.hosts[hostID] == nil {
		return lockdownError("Unpair", "InvalidHostID")
	}
	delete(d.hosts, hostID)
	return map[string]any{"Request": "Unpair"}
}

func (l *ldConn) startSession(req map[string]any) (map[string]any, ldAction) {
	d := l.d
	const r = "StartSession"
	hostID := str(req, "HostID")
	d.s.mu.Lock()
	d.stats.StartSessions++
	t := d.hosts[hostID]
	bfu := d.bfu
	d.s.mu.Unlock()
	switch {
	case l.session != "":
		return lockdownError(r, "SessionActive"), actNone
	case hostID == "":
		return lockdownError(r, "MissingHostID"), actNone
	case t == nil:
		return lockdownError(r, "InvalidHostID"), actNone
	case bfu:
		return lockdownError(r, "PasswordProtected"), actNone
	}
	l.session, l.trust = newUUID(), t
	return map[string]any{"Request": r, "SessionID": l.session, "EnableSessionSSL": true}, actStartTLS
}

// startTLS runs the device side of the session handshake on the raw socket.
func (l *ldConn) startTLS() bool {
	d := l.d
	d.s.mu.Lock()
	stall := d.fault == FaultTLSStall
	d.s.mu.Unlock()
	if stall {
		d.logUnlocked("TLS stalled (fault)")
		d.countTLS(false)
		// Swallow whatever the client sends, answer nothing, until it or
		// the idle timeout gives up.
		for {
			if d.s.idle > 0 {
				l.raw.SetReadDeadline(time.Now().Add(d.s.idle))
			}
			if _, err := io.CopyN(io.Discard, l.raw, 1<<20); err != nil {
				return false
			}
		}
	}
	tc, err := d.tlsServer(l.raw, l.trust)
	if err != nil {
		d.logUnlocked("TLS handshake failed: " + err.Error())
		return false
	}
	cs := tc.ConnectionState()
	d.logUnlocked("TLS session up (" + tls.VersionName(cs.Version) + ", " + tls.CipherSuiteName(cs.CipherSuite) + ")")
	l.tls, l.rw = tc, tc
	return true
}

// tlsServer performs a server handshake on c as the phone does for a
// session or an SSL service: the DeviceCertificate from the host's pair
// record with the phone's own key, and a client certificate required that
// chains to the RootCertificate accepted at Pair time.
func (d *Device) tlsServer(c net.Conn, t *hostTrust) (*tls.Conn, error) {
	key, err := d.deviceKey()
	if err != nil {
		d.countTLS(false)
		return nil, err
	}
	cfg := &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{t.deviceCert}, PrivateKey: key}},
		ClientAuth:   tls.RequireAnyClientCert,
		// TLS 1.2 at most, so a rejected client certificate fails the
		// handshake itself, as pairing hosts expect (with 1.3 the client
		// would only notice on its first read).
		MinVersion: tls.VersionTLS10,
		MaxVersion: tls.VersionTLS12,
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 {
				return errors.New("no client certificate")
			}
			leaf, err := x509.ParseCertificate(raw[0])
			if err != nil {
				return fmt.Errorf("client certificate: %w", err)
			}
			if err := signedBy(leaf, t.root); err != nil {
				return fmt.Errorf("client certificate not issued by the accepted root: %w", err)
			}
			return nil
		},
	}
	tc := tls.Server(&recordConn{Conn: c}, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), handshakeTimeout)
	defer cancel()
	c.SetDeadline(time.Now().Add(handshakeTimeout))
	err = tc.HandshakeContext(ctx)
	c.SetDeadline(time.Time{})
	d.countTLS(err == nil)
	if err != nil {
		return nil, err
	}
	return tc, nil
}

func (d *Device) countTLS(ok bool) {
	d.s.mu.Lock()
	defer d.s.mu.Unlock()
	if ok {
		d.stats.TLSHandshakes++
	} else {
		d.stats.TLSFailures++
	}
}

func (l *ldConn) startService(req map[string]any) map[string]any {
	d := l.d
	const r = "StartService"
	name := str(req, "Service")
	d.s.mu.Lock()
	defer d.s.mu.Unlock()
	var svc *pendingService
	switch {
	case name == "":
		return lockdownError(r, "MissingService")
	case name == insecureNotificationProxy:
		// Needs neither pairing nor a session, but refuses while locked (usbmuxd#116).
		if d.locked {
			return lockdownError(r, "PasswordProtected", "Service", name)
		}
		svc = &pendingService{name: name}
	case l.session == "":
		return lockdownError(r, "SessionInactive", "Service", name)
	case d.bfu:
		if data(req, "EscrowBag") != nil {
			return lockdownError(r, "MissingValue", "Service", name)
		}
		return lockdownError(r, "PasswordProtected", "Service", name)
	case name == notificationProxy && d.proxyFault == ProxyFaultRefuse:
		return lockdownError(r, "InvalidService", "Service", name)
	case name == notificationProxy:
		svc = &pendingService{name: name, secure: true, trust: l.trust}
	default:
		return lockdownError(r, "InvalidService", "Service", name)
	}
	port := d.nextPort
	d.nextPort++
	if d.nextPort > 65000 {
		d.nextPort = 49152
	}
	d.services[port] = svc
	return map[string]any{"Request": r, "Service": name, "Port": port, "EnableServiceSSL": svc.secure}
}

func (d *Device) logUnlocked(entry string) {
	d.s.mu.Lock()
	defer d.s.mu.Unlock()
	d.logLocked(entry)
}

// sessionOnly are values a phone gives only inside a session.
var sessionOnly = map[string]bool{
	"PasswordProtected": true, "SerialNumber": true, "ActivationState": true,
	"BluetoothAddress": true, "ModelNumber": true, "RegionInfo": true, "TimeZone": true,
}

func (l *ldConn) getValue(req map[string]any) map[string]any {
	d := l.d
	const r = "GetValue"
	key, domain := str(req, "Key"), str(req, "Domain")
	inSession := l.tls != nil
	echo := func(m map[string]any) map[string]any {
		if key != "" {
			m["Key"] = key
		}
		if domain != "" {
			m["Domain"] = domain
		}
		return m
	}
	if domain != "" {
		if domain == "com.apple.mobile.battery" && inSession {
			vals := map[string]any{"BatteryCurrentCapacity": 87, "BatteryIsCharging": true, "ExternalChargeCapable": true, "ExternalConnected": true, "FullyCharged": false}
			if key == "" {
				return echo(map[string]any{"Request": r, "Value": vals})
			}
			if v, ok := vals[key]; ok {
				return echo(map[string]any{"Request": r, "Value": v})
			}
		}
		return echo(lockdownError(r, "MissingValue"))
	}
	vals := d.values(inSession)
	if key == "" {
		return echo(map[string]any{"Request": r, "Value": vals})
	}
	if key == "DevicePublicKey" {
		k, err := d.deviceKey()
		if err != nil {
			return echo(lockdownError(r, "MissingValue"))
		}
		return echo(map[string]any{"Request": r, "Value": pemRSAPublic(&k.PublicKey)})
	}
	if v, ok := vals[key]; ok {
		return echo(map[string]any{"Request": r, "Value": v})
	}
	return echo(lockdownError(r, "MissingValue"))
}

// values is the no-key GetValue dictionary (session-less keys as listed by
// a real iOS dump; the session adds the private ones).
func (d *Device) values(inSession bool) map[string]any {
	d.s.mu.Lock()
	locked := d.locked
	d.s.mu.Unlock()
	n := normUDID(d.udid)
	var chip uint64
	for _, c := range n {
		chip = chip*31 + uint64(c)
	}
	v := map[string]any{
		"BoardId":                 14,
		"BuildVersion":            buildFor(d.cfg.ProductVersion),
		"CPUArchitecture":         "arm64e",
		"ChipID":                  33056,
		"DeviceClass":             "iPhone",
		"DeviceColor":             "1",
		"DeviceName":              d.cfg.Name,
		"DieID":                   chip >> 1,
		"HardwareModel":           "D73AP",
		"HasSiDP":                 true,
		"PartitionType":           "GUID_partition_scheme",
		"ProductName":             "iPhone OS",
		"ProductType":             d.cfg.ProductType,
		"ProductVersion":          d.cfg.ProductVersion,
		"ProductionSOC":           true,
		"ProtocolVersion":         "2",
		"SupportedDeviceFamilies": []any{1},
		"TelephonyCapability":     true,
		"UniqueChipID":            chip >> 2,
		"UniqueDeviceID":          d.udid,
		"WiFiAddress":             d.wifi,
	}
	if inSession {
		v["PasswordProtected"] = locked
		v["SerialNumber"] = "F" + n[max(0, len(n)-10):]
		v["ActivationState"] = "Activated"
		v["BluetoothAddress"] = incMAC(d.wifi)
		v["ModelNumber"] = "MQ9T3"
		v["RegionInfo"] = "ZD/A"
		v["TimeZone"] = "Europe/Berlin"
	}
	return v
}

func buildFor(version string) string {
	switch version {
	case "17.5":
		return "21F79"
	case "18.0":
		return "22A3354"
	case "16.6":
		return "20G75"
	}
	return "21A" + strings.ReplaceAll(version, ".", "")
}

func incMAC(mac string) string {
	if len(mac) < 2 {
		return mac
	}
	b := []byte(mac)
	if b[len(b)-1] == 'f' {
		b[len(b)-1] = '0'
	} else if b[len(b)-1] == '9' {
		b[len(b)-1] = 'a'
	} else {
		b[len(b)-1]++
	}
	return string(b)
}
