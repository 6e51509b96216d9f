package lockdown

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/trustwatch/trustwatch/watcher/internal/connerr"
)

const (
	// Port is lockdownd's port on the device (usbmux Connect to it).
	Port = 62078
	// DefaultTimeout bounds a request whose context has no deadline; it is
	// below lockdownd's own 10 s idle limit.
	DefaultTimeout = 5 * time.Second
	// DefaultLabel is sent as Label so device logs name us.
	DefaultLabel = "trustwatch"

	// QueryType answers.
	TypeLockdown = "com.apple.mobile.lockdown"
	TypeRestore  = "com.apple.mobile.restored"
)

var pastTime = time.Unix(1, 0)

// Conn is one lockdownd connection (a raw pipe from usbmux.Connect to port
// 62078). Requests are serialised; Close may be called from any goroutine
// and unblocks a pending request.
type Conn struct {
	raw   net.Conn
	label string

	mu      sync.Mutex // one request at a time; guards the fields below
	rw      net.Conn   // raw, or the TLS layer during an SSL session
	ssl     bool
	session string
	broken  error // the stream is out of step (timeout mid-reply, TLS failure)

	closeOnce sync.Once
	closed    atomic.Bool
	closeErr  error
}

// New wraps a connected socket. label is sent with every request (empty
// means DefaultLabel).
func New(c net.Conn, label string) *Conn {
	if label == "" {
		label = DefaultLabel
	}
	return &Conn{raw: c, rw: c, label: label}
}

// Close closes the socket (and with it the TLS layer). It is idempotent and
// safe to call while a request is pending.
func (c *Conn) Close() error {
	c.closeOnce.Do(func() {
		c.closed.Store(true)
		// Closing the socket, not the TLS layer: a close_notify write could
		// block on a peer that stopped reading, and lockdownd does not need it.
		c.closeErr = c.raw.Close()
	})
	return c.closeErr
}

// withDeadline runs f with read/write deadlines from ctx (DefaultTimeout if
// it has none) and unblocks it when ctx is cancelled.
func (c *Conn) withDeadline(ctx context.Context, f func() error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(DefaultTimeout)
	}
	if err := c.raw.SetDeadline(deadline); err != nil {
		return err
	}
	done := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(done)
		_ = c.raw.SetDeadline(pastTime)
	})
	err := f()
	if !stop() {
		// The cancel hook ran or is running; wait so it cannot move a later
		// request's deadline into the past.
		<-done
	}
	return err
}

// classify maps an I/O failure to the package's errors.
func (c *Conn) classify(ctx context.Context, op string, err error) error {
	var ne net.Error
	switch {
	case c.closed.Load():
		return fmt.Errorf("lockdown: %s: %w", op, ErrClosed)
	case errors.Is(err, ErrProtocol):
		return fmt.Errorf("lockdown: %s: %w", op, err)
	case errors.Is(ctx.Err(), context.Canceled):
		return fmt.Errorf("lockdown: %s: %w", op, ctx.Err())
	case ctx.Err() != nil, errors.As(err, &ne) && ne.Timeout():
		return fmt.Errorf("lockdown: %s: %w: %w", op, ErrTimeout, err)
	case c.ssl && isRemoteAlert(err):
		// The phone ended the session TLS with an alert: it rejects our record.
		return fmt.Errorf("lockdown: %s: %w: %w", op, ErrTLS, err)
	case isDisconnect(err):
		return fmt.Errorf("lockdown: %s: %w: %w", op, ErrDisconnected, err)
	}
	return fmt.Errorf("lockdown: %s: %w", op, err)
}

// isRemoteAlert: crypto/tls reports a peer's alert as *net.OpError with Op
// "remote error".
func isRemoteAlert(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && oe.Op == "remote error"
}

func isDisconnect(err error) bool { return connerr.Gone(err) }

// usable reports why no request can be sent; call with mu held.
func (c *Conn) usable(op string) error {
	if c.closed.Load() {
		return fmt.Errorf("lockdown: %s: %w", op, ErrClosed)
	}
	if c.broken != nil {
		return fmt.Errorf("lockdown: %s: connection unusable after an earlier failure: %w", op, c.broken)
	}
	return nil
}

// Request sends one lockdown request and returns the reply. A reply with
// an Error key returns it as *Error (the connection stays usable); an I/O
// failure leaves the Conn unusable. Label is added when missing.
func (c *Conn) Request(ctx context.Context, req map[string]any) (map[string]any, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.requestLocked(ctx, req)
}

func (c *Conn) requestLocked(ctx context.Context, req map[string]any) (map[string]any, error) {
	op, _ := req["Request"].(string)
	if op == "" {
		return nil, errors.New("lockdown: request without a Request key")
	}
	if _, ok := req["Label"]; !ok {
		req["Label"] = c.label
	}
	if err := c.usable(op); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		// Nothing sent yet: the connection stays usable.
		return nil, c.classify(ctx, op, err)
	}
	frame, err := encodeFrame(req)
	if err != nil {
		return nil, err
	}
	var reply map[string]any
	err = c.withDeadline(ctx, func() error {
		if _, err := c.rw.Write(frame); err != nil {
			return err
		}
		var err error
		reply, err = readFrame(ctx, c.rw)
		return err
	})
	if err != nil {
		err = c.classify(ctx, op, err)
		if !errors.Is(err, ErrClosed) {
			c.broken = err
		}
		return nil, err
	}
	if code, ok := reply["Error"].(string); ok && code != "" {
		return reply, &Error{Code: clipCode(code), Request: op}
	}
	return reply, nil
}

// QueryType returns lockdownd's type: TypeLockdown normally, TypeRestore in
// restore mode.
func (c *Conn) QueryType(ctx context.Context) (string, error) {
	r, err := c.Request(ctx, map[string]any{"Request": "QueryType"})
	if err != nil {
		return "", err
	}
	t, ok := r["Type"].(string)
	if !ok || t == "" {
		return "", fmt.Errorf("lockdown: QueryType: %w: reply has no Type", ErrProtocol)
	}
	return t, nil
}

// GetValue reads one value (empty key: the whole domain as a dictionary).
// Unlike go-ios it returns lockdownd's Error, e.g. ErrMissingValue or
// ErrGetProhibited.
func (c *Conn) GetValue(ctx context.Context, domain, key string) (any, error) {
	req := map[string]any{"Request": "GetValue"}
	if domain != "" {
		req["Domain"] = domain
	}
	if key != "" {
		req["Key"] = key
	}
	r, err := c.Request(ctx, req)
	if err != nil {
		return nil, err
	}
	v, ok := r["Value"]
	if !ok {
		return nil, fmt.Errorf("lockdown: GetValue %q: %w: reply has neither Value nor Error", key, ErrProtocol)
	}
	return v, nil
}

// DevicePublicKey reads the phone's public key (PEM), the input to
// NewPairRecord. It needs no session. Real phones send it as data; a string
// is accepted too.
func (c *Conn) DevicePublicKey(ctx context.Context) ([]byte, error) {
	v, err := c.GetValue(ctx, "", "DevicePublicKey")
	if err != nil {
		return nil, err
	}
	switch k := v.(type) {
	case []byte:
		if len(k) > 0 {
			return k, nil
		}
	case string:
		if k != "" {
			return []byte(k), nil
		}
	}
	return nil, fmt.Errorf("lockdown: DevicePublicKey: %w: value is %T, want PEM data", ErrProtocol, v)
}

// Info is what an untrusted phone still tells us without a session.
type Info struct {
	Name           string // DeviceName
	ProductType    string // e.g. iPhone15,2
	ProductVersion string // iOS version
	DeviceClass    string // iPhone, iPad, ...
	UDID           string // UniqueDeviceID
}

var infoKeys = []string{"DeviceName", "ProductType", "ProductVersion", "DeviceClass", "UniqueDeviceID"}

// DeviceInfo reads the session-less identity values. It asks for the whole
// dictionary first (one round trip) and falls back to one key at a time
// when the device refuses that; values the device withholds stay empty.
func (c *Conn) DeviceInfo(ctx context.Context) (Info, error) {
	v, err := c.GetValue(ctx, "", "")
	var lerr *Error
	if err != nil && !errors.As(err, &lerr) {
		return Info{}, err
	}
	if m, ok := v.(map[string]any); ok && err == nil {
		return infoFrom(func(k string) any { return m[k] }), nil
	}
	vals := map[string]any{}
	var first error
	for _, k := range infoKeys {
		v, err := c.GetValue(ctx, "", k)
		if err != nil {
			if !errors.As(err, &lerr) {
				return Info{}, err // I/O: the connection is gone
			}
			if first == nil {
				first = err
			}
			continue
		}
		vals[k] = v
	}
	if len(vals) == 0 && first != nil {
		return Info{}, first
	}
	return infoFrom(func(k string) any { return vals[k] }), nil
}

func infoFrom(get func(string) any) Info {
	s := func(k string) string { v, _ := get(k).(string); return v }
	return Info{
		Name:           s("DeviceName"),
		ProductType:    s("ProductType"),
		ProductVersion: s("ProductVersion"),
		DeviceClass:    s("DeviceClass"),
		UDID:           s("UniqueDeviceID"),
	}
}

// StartSession starts a session with a stored pair record. When lockdownd
// asks for SSL, TLS starts on the same socket with the record's host
// certificate; a failed handshake returns ErrTLS (the phone no longer
// accepts the record) and closes the Conn. Lockdown errors such as
// ErrInvalidHostID or ErrPasswordProtected (BFU) leave it usable.
func (c *Conn) StartSession(ctx context.Context, rec *PairRecord) (string, error) {
	if rec == nil || rec.HostID == "" || rec.SystemBUID == "" {
		return "", fmt.Errorf("lockdown: StartSession: %w: HostID and SystemBUID are required", ErrBadPairRecord)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.session != "" {
		return "", fmt.Errorf("lockdown: StartSession: %w (session %s)", ErrSessionActive, c.session)
	}
	r, err := c.requestLocked(ctx, map[string]any{
		"Request":    "StartSession",
		"HostID":     rec.HostID,
		"SystemBUID": rec.SystemBUID,
	})
	if err != nil {
		return "", err
	}
	id, _ := r["SessionID"].(string)
	if id == "" {
		c.broken = fmt.Errorf("%w: StartSession reply has no SessionID", ErrProtocol)
		return "", fmt.Errorf("lockdown: StartSession: %w", c.broken)
	}
	ssl, _ := asBool(r["EnableSessionSSL"])
	if ssl {
		// The host key is parsed only now: a phone that refuses the
		// HostID (trust reset) answers faster than RSA key parsing.
		cert, err := tls.X509KeyPair(rec.HostCertificate, rec.HostPrivateKey)
		if err != nil {
			c.broken = fmt.Errorf("%w: %w: host certificate and key: %v", ErrTLS, ErrBadPairRecord, err)
			c.Close()
			return "", fmt.Errorf("lockdown: StartSession: %w", c.broken)
		}
		tc := tls.Client(c.raw, sessionTLSConfig(cert))
		err = c.withDeadline(ctx, func() error { return tc.HandshakeContext(ctx) })
		if err != nil {
			err = c.classifyHandshake(ctx, err)
			c.broken = err
			c.Close()
			return "", err
		}
		c.rw = tc
		c.ssl = true
	}
	c.session = id
	return id, nil
}

// sessionTLSConfig is the client side of lockdown's session TLS: our host
// certificate as client certificate; the phone's certificate is not
// verified (libimobiledevice and go-ios do not either: the trust was
// established by pairing, and the phone's cert is not issued for a name).
// TLS 1.2 at most, because in TLS 1.3 the client's handshake completes
// before the phone has checked our certificate, so a rejected record would
// only surface on the next request instead of as StartSession's ErrTLS.
func sessionTLSConfig(cert tls.Certificate) *tls.Config {
	return &tls.Config{
		Certificates:       []tls.Certificate{cert},
		InsecureSkipVerify: true, //nolint:gosec // see above
		MinVersion:         tls.VersionTLS12,
		MaxVersion:         tls.VersionTLS12,
	}
}

// classifyHandshake: timeouts and cancellation keep their meaning; any other
// handshake failure (alert, EOF, reset) is the phone rejecting the record.
func (c *Conn) classifyHandshake(ctx context.Context, err error) error {
	var ne net.Error
	switch {
	case c.closed.Load():
		return fmt.Errorf("lockdown: StartSession TLS: %w", ErrClosed)
	case ctx.Err() != nil, errors.As(err, &ne) && ne.Timeout():
		return c.classify(ctx, "StartSession TLS", err)
	}
	return fmt.Errorf("lockdown: StartSession: %w: %w", ErrTLS, err)
}

// StopSession ends the session. After an SSL session it sends TLS
// close_notify and continues in plaintext, as libimobiledevice does
// (lockdownd drops TLS without a close_notify of its own).
func (c *Conn) StopSession(ctx context.Context, sessionID string) error {
	if sessionID == "" {
		return errors.New("lockdown: StopSession: empty session ID")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := c.requestLocked(ctx, map[string]any{"Request": "StopSession", "SessionID": sessionID}); err != nil {
		return err
	}
	if c.session != sessionID {
		return nil
	}
	c.session = ""
	if !c.ssl {
		return nil
	}
	tc, _ := c.rw.(*tls.Conn)
	c.rw, c.ssl = c.raw, false
	if tc == nil {
		return nil
	}
	err := c.withDeadline(ctx, tc.CloseWrite)
	if err != nil {
		c.broken = c.classify(ctx, "StopSession", err)
		return c.broken
	}
	return nil
}

// PasswordProtected reports whether the phone is locked right now. It needs
// a session on real devices (outside one lockdownd may withhold it).
func (c *Conn) PasswordProtected(ctx context.Context) (bool, error) {
	v, err := c.GetValue(ctx, "", "PasswordProtected")
	if err != nil {
		return false, err
	}
	b, ok := asBool(v)
	if !ok {
		return false, fmt.Errorf("lockdown: PasswordProtected: %w: value is %T, want a boolean", ErrProtocol, v)
	}
	return b, nil
}

// pairBody is the record as sent to the phone: certificates and IDs, never
// private keys.
func pairBody(rec *PairRecord) map[string]any {
	return map[string]any{
		"DeviceCertificate": rec.DeviceCertificate,
		"HostCertificate":   rec.HostCertificate,
		"RootCertificate":   rec.RootCertificate,
		"HostID":            rec.HostID,
		"SystemBUID":        rec.SystemBUID,
	}
}

// Pair asks the phone to trust rec (one request: on an untrusted phone this
// is what shows or answers the Trust dialog). Typical errors:
// ErrPairingDialogResponsePending, ErrPasswordProtected, ErrUserDeniedPairing.
// On success the escrow bag is returned and also stored in rec.EscrowBag;
// save the full record with usbmux.SavePairRecord.
func (c *Conn) Pair(ctx context.Context, rec *PairRecord) ([]byte, error) {
	if err := rec.checkForPairing(); err != nil {
		return nil, fmt.Errorf("lockdown: Pair: %w", err)
	}
	r, err := c.Request(ctx, map[string]any{
		"Request":         "Pair",
		"PairRecord":      pairBody(rec),
		"ProtocolVersion": "2",
		"PairingOptions":  map[string]any{"ExtendedPairingErrors": true},
	})
	if err != nil {
		return nil, err
	}
	bag, _ := r["EscrowBag"].([]byte)
	if len(bag) > 0 {
		rec.EscrowBag = bag
	}
	return bag, nil
}

// Unpair removes the phone's trust in rec's HostID. Some firmware echoes
// another Request name in the reply, so the echo is not checked.
func (c *Conn) Unpair(ctx context.Context, rec *PairRecord) error {
	if rec == nil || rec.HostID == "" {
		return fmt.Errorf("lockdown: Unpair: %w: HostID is required", ErrBadPairRecord)
	}
	_, err := c.Request(ctx, map[string]any{
		"Request":         "Unpair",
		"PairRecord":      pairBody(rec),
		"ProtocolVersion": "2",
	})
	return err
}

// StartService asks lockdownd to start a service and returns its device
// port and whether the service speaks SSL.
func (c *Conn) StartService(ctx context.Context, name string) (port uint16, ssl bool, err error) {
	return c.StartServiceWithEscrow(ctx, name, nil)
}

// StartServiceWithEscrow is StartService with the record's EscrowBag, which
// some services need while the phone is locked (BFU answers ErrMissingValue).
func (c *Conn) StartServiceWithEscrow(ctx context.Context, name string, escrowBag []byte) (uint16, bool, error) {
	if name == "" {
		return 0, false, errors.New("lockdown: StartService: empty service name")
	}
	req := map[string]any{"Request": "StartService", "Service": name}
	if len(escrowBag) > 0 {
		req["EscrowBag"] = escrowBag
	}
	r, err := c.Request(ctx, req)
	if err != nil {
		return 0, false, err
	}
	p, ok := asInt(r["Port"])
	if !ok || p < 1 || p > 65535 {
		return 0, false, fmt.Errorf("lockdown: StartService %s: %w: bad Port %v", name, ErrProtocol, r["Port"])
	}
	ssl, _ := asBool(r["EnableServiceSSL"])
	return uint16(p), ssl, nil
}
