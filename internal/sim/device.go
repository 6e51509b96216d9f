package sim

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"net"
	"time"

	"howett.net/plist"
)

// DeviceConfig describes a simulated iPhone. Zero values get defaults.
type DeviceConfig struct {
	UDID, Name, ProductType, ProductVersion string // defaults: unique "00008030-001A2B3C4D5E6F70"-style UDID, "Anna's iPhone", "iPhone15,2", "17.5"
	DeviceID                                int    // 0 = next free
	ProductID                               int    // default 0x12a8
	LocationID                              uint32 // default (1<<16)|5, (1<<16)|6, …
	Trusted                                 bool   // host record stored in the sim's usbmuxd AND accepted by the device
	Locked                                  bool
	BFU                                     bool // rebooted, never unlocked (implies Locked)
	Revoked                                 bool // host record stored, device forgot it (InvalidHostID)
	BadRecord                               bool // host record stored but its certificates do not match (TLS fails)
	Denied                                  bool // "Don't Trust" already tapped for this attach
	Network                                 bool // also list a Wi-Fi ("Network") duplicate entry
	Detached                                bool // create without attaching
	Fault                                   Fault

	// Dialog starts with the Trust alert already on screen, as after Linux
	// usbmuxd's preflight Pair (the next Pair then counts as a flash).
	Dialog bool

	// NoLockRelay is an iOS whose notification_proxy accepts an observer
	// for com.apple.springboard.lockstate but never relays it (whether
	// current iOS relays it is unconfirmed, protocol.md §7).
	NoLockRelay bool
	// ProxyFault makes the session's notification_proxy misbehave.
	ProxyFault ProxyFault
}

// Stats counts what clients did to a device.
type Stats struct {
	PairRequests        int // every Pair request
	DialogShows         int // Pair requests that brought the Trust alert up
	DialogFlashes       int // Pair requests while the alert was already up
	StartSessions       int // StartSession requests
	TLSHandshakes       int // completed session (and service) TLS handshakes
	TLSFailures         int // failed or abandoned handshakes
	SavePairRecords     int // SavePairRecord requests for this UDID
	LockdownConnections int // successful Connects to port 62078
	ServiceConnections  int // successful Connects to a StartService port
	Attaches, Detaches  int
	Requests            []string // "mux Connect 62078", "lockdown GetValue DeviceName", "lockdown Pair -> PairingDialogResponsePending", …
}

// maxRequestLog is the default of Options.RequestLog.
const maxRequestLog = 5000

// hostTrust is what the phone remembers about a host it trusts.
type hostTrust struct {
	root       *x509.Certificate
	deviceCert []byte // DER, presented as the TLS server certificate
	escrow     []byte
}

type pendingService struct {
	name   string
	secure bool       // EnableServiceSSL
	trust  *hostTrust // session's host, for service TLS
}

// Device is one simulated iPhone. All methods are safe for concurrent use.
type Device struct {
	s          *Server
	cfg        DeviceConfig
	udid       string
	id, netID  int
	locationID uint32
	productID  int
	wifi       string
	key        *rsa.PrivateKey // nil until first needed

	// guarded by s.mu
	attached   bool // on USB
	visible    bool // listed by usbmuxd (differs from attached only with Preflight)
	waiting    bool // preflight observes request_pair and will pair on Trust
	epoch      int  // bumped on every attach; stale connections compare it
	locked     bool
	bfu        bool
	hosts      map[string]*hostTrust
	dialog     bool
	acceptNext bool // Trust tapped: the next Pair succeeds
	denied     bool
	fault      Fault
	stats      Stats
	conns      map[net.Conn]struct{}
	services   map[int]*pendingService
	nextPort   int
	observers  map[*observer]struct{}
	noRelay    bool
	proxyFault ProxyFault
}

var defaultNames = []string{"Anna's iPhone", "Ben's iPhone", "Chloé's iPhone", "Dev's iPhone", "Emma's iPhone", "Farid's iPhone"}

// AddDevice creates a device and, unless cfg.Detached, attaches it
// (Listen clients get Attached).
func (s *Server) AddDevice(cfg DeviceConfig) *Device {
	s.mu.Lock()
	n := s.nextSerial
	s.nextSerial++
	s.mu.Unlock()
	if cfg.UDID == "" {
		cfg.UDID = fmt.Sprintf("00008030-%016X", uint64(0x001A2B3C4D5E6F70)+uint64(n))
	}
	if cfg.Name == "" {
		cfg.Name = defaultNames[n%len(defaultNames)]
	}
	if cfg.ProductType == "" {
		cfg.ProductType = "iPhone15,2"
	}
	if cfg.ProductVersion == "" {
		cfg.ProductVersion = "17.5"
	}
	if cfg.ProductID == 0 {
		cfg.ProductID = 0x12a8
	}
	if cfg.LocationID == 0 {
		cfg.LocationID = 1<<16 | uint32(5+n)
	}
	if cfg.BFU {
		cfg.Locked = true
	}
	d := &Device{
		s:          s,
		cfg:        cfg,
		udid:       hyphenUDID(cfg.UDID),
		locationID: cfg.LocationID,
		productID:  cfg.ProductID,
		locked:     cfg.Locked,
		bfu:        cfg.BFU,
		hosts:      map[string]*hostTrust{},
		denied:     cfg.Denied,
		dialog:     cfg.Dialog,
		fault:      cfg.Fault,
		conns:      map[net.Conn]struct{}{},
		services:   map[int]*pendingService{},
		nextPort:   49152 + 2*n, // arbitrary, like lockdownd's ephemeral service ports
		observers:  map[*observer]struct{}{},
		noRelay:    cfg.NoLockRelay,
		proxyFault: cfg.ProxyFault,
	}
	h := sha256.Sum256([]byte(d.udid))
	d.wifi = fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", h[0]&0xfe|0x02, h[1], h[2], h[3], h[4], h[5])
	if cfg.Trusted || cfg.Revoked || cfg.BadRecord {
		// Key generation and signing happen before taking the lock.
		if err := d.provisionTrust(); err != nil {
			s.logf("sim: %s: cannot create pair record: %v (device stays untrusted)", d.udid, err)
		}
	}
	s.mu.Lock()
	d.id = s.allocIDLocked(cfg.DeviceID)
	if cfg.Network {
		d.netID = s.allocIDLocked(0)
		s.byID[d.netID] = d
	}
	s.byID[d.id] = d
	s.devices = append(s.devices, d)
	s.mu.Unlock()
	if !cfg.Detached {
		d.attach(cfg.Denied)
	}
	return d
}

func (s *Server) allocIDLocked(want int) int {
	if want > 0 && s.byID[want] == nil {
		if want >= s.nextID {
			s.nextID = want + 1
		}
		return want
	}
	if want > 0 {
		s.logf("sim: DeviceID %d taken, using %d", want, s.nextID)
	}
	for s.byID[s.nextID] != nil {
		s.nextID++
	}
	id := s.nextID
	s.nextID++
	return id
}

// provisionTrust writes the sim's own host record to the usbmuxd store and,
// depending on the config, makes the device accept it.
func (d *Device) provisionTrust() error {
	key, err := d.deviceKey()
	if err != nil {
		return err
	}
	host, err := pooledHost("host")
	if err != nil {
		return err
	}
	devDER, err := host.deviceCertFor(&key.PublicKey)
	if err != nil {
		return err
	}
	recHost := host
	recDevDER := devDER
	if d.cfg.BadRecord {
		// The host kept certificates from another pairing: same HostID, but
		// a root the phone never accepted.
		if recHost, err = pooledHost("stranger"); err != nil {
			return err
		}
		if recDevDER, err = recHost.deviceCertFor(&key.PublicKey); err != nil {
			return err
		}
	}
	escrow := make([]byte, 32)
	rand.Read(escrow)
	b, err := d.hostRecord(recHost, recDevDER, escrow)
	if err != nil {
		return err
	}
	d.s.mu.Lock()
	defer d.s.mu.Unlock()
	d.s.store[normUDID(d.udid)] = b
	if !d.cfg.Revoked {
		d.hosts[d.s.hostID] = &hostTrust{root: host.rootCert, deviceCert: devDER, escrow: escrow}
	}
	return nil
}

// hostRecord renders the full host-side record usbmuxd stores.
func (d *Device) hostRecord(h *hostIdentity, devDER, escrow []byte) ([]byte, error) {
	return plist.MarshalIndent(map[string]any{
		"DeviceCertificate": pemCert(devDER),
		"HostCertificate":   pemCert(h.hostCert.Raw),
		"HostPrivateKey":    pemRSAPrivate(h.hostKey),
		"RootCertificate":   pemCert(h.rootCert.Raw),
		"RootPrivateKey":    pemRSAPrivate(h.rootKey),
		"HostID":            d.s.hostID,
		"SystemBUID":        d.s.systemBUID,
		"EscrowBag":         escrow,
		"WiFiMACAddress":    d.wifi,
	}, plist.XMLFormat, "\t")
}

// deviceKey is the phone's own RSA key, shared per UDID across servers.
func (d *Device) deviceKey() (*rsa.PrivateKey, error) {
	d.s.mu.Lock()
	k := d.key
	d.s.mu.Unlock()
	if k != nil {
		return k, nil
	}
	k, err := pooledKey("device:" + normUDID(d.udid))
	if err != nil {
		return nil, err
	}
	d.s.mu.Lock()
	d.key = k
	d.s.mu.Unlock()
	return k, nil
}

func (d *Device) UDID() string { return d.udid }

// USBSerial is the UDID as the USB descriptor and udev show it (no hyphen).
func (d *Device) USBSerial() string { return normUDID(d.udid) }

func (d *Device) DeviceID() int { return d.id }

// NetworkDeviceID is the DeviceID of the Wi-Fi duplicate (0 without one).
func (d *Device) NetworkDeviceID() int { return d.netID }

func (d *Device) Name() string           { return d.cfg.Name }
func (d *Device) ProductType() string    { return d.cfg.ProductType }
func (d *Device) ProductVersion() string { return d.cfg.ProductVersion }
func (d *Device) LocationID() uint32     { return d.locationID }

// Attach plugs the device in (Attached to Listen clients). A new attach
// clears "Don't Trust".
func (d *Device) Attach() { d.attach(false) }

func (d *Device) attach(keepDenied bool) {
	s := d.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if d.attached {
		return
	}
	d.attached = true
	d.epoch++
	if !keepDenied {
		d.denied = false
	}
	d.stats.Attaches++
	d.logLocked("attach")
	d.visible = true
	if s.preflight {
		d.visible = d.preflightLocked()
	}
	if d.visible {
		for _, m := range d.attachedMsgsLocked() {
			s.broadcastLocked(m)
		}
	}
}

// Detach unplugs the device: its connections drop, the Trust alert goes
// away, Listen clients get Detached.
func (d *Device) Detach() {
	s := d.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if !d.attached {
		return
	}
	d.attached = false
	d.dialog = false
	d.acceptNext = false
	d.waiting = false
	d.stats.Detaches++
	d.logLocked("detach")
	for c := range d.conns {
		c.Close()
	}
	d.services = map[int]*pendingService{}
	if d.visible {
		d.visible = false
		s.broadcastLocked(map[string]any{"MessageType": "Detached", "DeviceID": d.id})
		if d.netID != 0 {
			s.broadcastLocked(map[string]any{"MessageType": "Detached", "DeviceID": d.netID})
		}
	}
}

// Attached reports whether the device is plugged in.
func (d *Device) Attached() bool {
	d.s.mu.Lock()
	defer d.s.mu.Unlock()
	return d.attached
}

// Visible reports whether usbmuxd lists the device (with Preflight, an
// attached phone whose preflight failed is not visible).
func (d *Device) Visible() bool {
	d.s.mu.Lock()
	defer d.s.mu.Unlock()
	return d.visible
}

func (d *Device) attachedMsgsLocked() []map[string]any {
	msgs := []map[string]any{{
		"MessageType": "Attached",
		"DeviceID":    d.id,
		"Properties": map[string]any{
			"ConnectionSpeed": 480000000,
			"ConnectionType":  "USB",
			"DeviceID":        d.id,
			"LocationID":      int(d.locationID),
			"ProductID":       d.productID,
			"SerialNumber":    d.udid,
		},
	}}
	if d.netID != 0 {
		// sockaddr_in for 192.168.1.x as Apple's usbmuxd puts it in NetworkAddress.
		addr := make([]byte, 16)
		addr[0], addr[1] = 16, 2
		addr[4], addr[5], addr[6], addr[7] = 192, 168, 1, byte(20+d.id%200)
		msgs = append(msgs, map[string]any{
			"MessageType": "Attached",
			"DeviceID":    d.netID,
			"Properties": map[string]any{
				"ConnectionType":         "Network",
				"DeviceID":               d.netID,
				"EscapedFullServiceName": d.wifi + "@fe80::1._apple-mobdev2._tcp.local.",
				"InterfaceIndex":         2,
				"NetworkAddress":         addr,
				"SerialNumber":           d.udid,
			},
		})
	}
	return msgs
}

func (s *Server) attachedListLocked() []any {
	list := []any{}
	for _, d := range s.devices {
		if d.visible {
			for _, m := range d.attachedMsgsLocked() {
				list = append(list, m)
			}
		}
	}
	return list
}

// Lock locks the screen.
func (d *Device) Lock() {
	d.s.mu.Lock()
	defer d.s.mu.Unlock()
	if !d.locked {
		d.locked = true
		d.logLocked("lock")
		d.relayLocked(lockStateNotification, true)
	}
}

// Unlock unlocks the screen (and ends BFU).
func (d *Device) Unlock() {
	d.s.mu.Lock()
	defer d.s.mu.Unlock()
	if d.locked || d.bfu {
		d.locked, d.bfu = false, false
		d.logLocked("unlock")
		d.relayLocked(lockStateNotification, true)
	}
}

// SetLockRelay switches lockstate relaying on (a relaying iOS) or off.
func (d *Device) SetLockRelay(on bool) {
	d.s.mu.Lock()
	defer d.s.mu.Unlock()
	d.noRelay = !on
}

// SetProxyFault changes how the session's notification_proxy misbehaves,
// from the next StartService or frame on. ProxyFaultDrop also closes the
// connections open now.
func (d *Device) SetProxyFault(f ProxyFault) {
	d.s.mu.Lock()
	defer d.s.mu.Unlock()
	d.proxyFault = f
	d.logLocked("proxy fault " + f.String())
	if f == ProxyFaultDrop {
		for ob := range d.observers {
			if ob.secure {
				ob.conn.Close()
			}
		}
	}
}

// Restart reboots the phone: it drops off USB, comes back locked and stays
// "before first unlock" until Unlock.
func (d *Device) Restart() {
	d.s.mu.Lock()
	was := d.attached
	d.locked, d.bfu = true, true
	d.logLocked("restart")
	d.s.mu.Unlock()
	if was {
		d.Detach()
		d.Attach()
	}
}

// Locked reports whether the screen is locked; BFU whether it has not been
// unlocked since it restarted.
func (d *Device) Locked() bool { d.s.mu.Lock(); defer d.s.mu.Unlock(); return d.locked }
func (d *Device) BFU() bool    { d.s.mu.Lock(); defer d.s.mu.Unlock(); return d.bfu }

// TapTrust answers the Trust alert with Trust: the next Pair succeeds and
// insecure_notification_proxy observers get request_pair. No-op unless the
// alert is showing.
func (d *Device) TapTrust() {
	d.s.mu.Lock()
	defer d.s.mu.Unlock()
	if !d.dialog {
		return
	}
	d.dialog = false
	d.acceptNext = true
	d.logLocked("tap Trust")
	d.relayLocked("com.apple.mobile.lockdown.request_pair", false)
	if d.waiting {
		d.waiting = false
		s := d.s
		if !s.closed {
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				d.preflightPair()
			}()
		}
	}
}

// TapDontTrust answers the Trust alert with Don't Trust: Pair returns
// UserDeniedPairing until the device is re-attached.
func (d *Device) TapDontTrust() {
	d.s.mu.Lock()
	defer d.s.mu.Unlock()
	if !d.dialog {
		return
	}
	d.dialog = false
	d.denied = true
	d.logLocked("tap Don't Trust")
}

// ResetTrust is Settings ▸ Reset Location & Privacy: every host is forgotten.
func (d *Device) ResetTrust() {
	d.s.mu.Lock()
	defer d.s.mu.Unlock()
	d.hosts = map[string]*hostTrust{}
	d.acceptNext = false
	d.logLocked("reset trust")
}

// SetFault changes the device's fault; it applies from the next request.
func (d *Device) SetFault(f Fault) {
	d.s.mu.Lock()
	defer d.s.mu.Unlock()
	d.fault = f
	d.logLocked("fault " + f.String())
}

// After runs action(d) once delay has passed, unless the server is closed
// first. Close waits for an action that is already running.
func (d *Device) After(delay time.Duration, action func(*Device)) {
	s := d.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	var t *time.Timer
	t = time.AfterFunc(delay, func() {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return
		}
		delete(s.timers, t)
		s.wg.Add(1)
		s.mu.Unlock()
		defer s.wg.Done()
		action(d)
	})
	s.timers[t] = struct{}{}
}

// Stats returns a copy of the device's counters and request log.
func (d *Device) Stats() Stats {
	d.s.mu.Lock()
	defer d.s.mu.Unlock()
	st := d.stats
	st.Requests = append([]string(nil), d.stats.Requests...)
	return st
}

// DialogShowing reports whether the Trust alert is on screen.
func (d *Device) DialogShowing() bool {
	d.s.mu.Lock()
	defer d.s.mu.Unlock()
	return d.dialog
}

// Trusts reports whether the device accepts hostID.
func (d *Device) Trusts(hostID string) bool {
	d.s.mu.Lock()
	defer d.s.mu.Unlock()
	return d.hosts[hostID] != nil
}

// TrustedHosts lists the HostIDs the device accepts.
func (d *Device) TrustedHosts() []string {
	d.s.mu.Lock()
	defer d.s.mu.Unlock()
	var ids []string
	for id := range d.hosts {
		ids = append(ids, id)
	}
	return ids
}

func (d *Device) logLocked(entry string) {
	if len(d.stats.Requests) < d.s.requestLog {
		d.stats.Requests = append(d.stats.Requests, entry)
	}
	d.s.logf("sim: %s: %s", d.cfg.Name, entry)
}
