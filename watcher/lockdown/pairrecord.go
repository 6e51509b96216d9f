package lockdown

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"time"

	"howett.net/plist"
)

// PairRecord is a host's pairing with one phone, as usbmuxd stores it
// (libimobiledevice common/userpref.h keys). It holds private keys and the
// escrow bag: its String, GoString, LogValue and MarshalJSON redact them.
type PairRecord struct {
	HostID            string
	SystemBUID        string
	HostCertificate   []byte // PEM
	HostPrivateKey    []byte // PEM
	RootCertificate   []byte // PEM
	RootPrivateKey    []byte // PEM
	DeviceCertificate []byte // PEM
	EscrowBag         []byte
	WiFiMACAddress    string
}

// ParsePairRecord decodes a record from ReadPairRecord (XML or binary
// plist). HostID, SystemBUID, HostCertificate and HostPrivateKey are
// required: without them no session can start. Errors never quote the data.
func ParsePairRecord(data []byte) (*PairRecord, error) {
	if len(data) > MaxFrameSize {
		return nil, fmt.Errorf("%w: %d bytes is too large", ErrBadPairRecord, len(data))
	}
	m, err := decodePlist(context.Background(), data)
	if err != nil {
		// The parser's message can quote the input, and a record holds
		// private keys: say only that it is not a plist.
		return nil, fmt.Errorf("%w: %w: not a readable plist dictionary", ErrBadPairRecord, ErrProtocol)
	}
	var rec PairRecord
	var bad []string
	str := func(k string, dst *string) {
		switch v := m[k].(type) {
		case nil:
		case string:
			*dst = v
		default:
			bad = append(bad, fmt.Sprintf("%s is %T, want a string", k, v))
		}
	}
	dat := func(k string, dst *[]byte) {
		switch v := m[k].(type) {
		case nil:
		case []byte:
			*dst = v
		case string: // some writers store PEM as a string
			*dst = []byte(v)
		default:
			bad = append(bad, fmt.Sprintf("%s is %T, want data", k, v))
		}
	}
	str("HostID", &rec.HostID)
	str("SystemBUID", &rec.SystemBUID)
	str("WiFiMACAddress", &rec.WiFiMACAddress)
	dat("HostCertificate", &rec.HostCertificate)
	dat("HostPrivateKey", &rec.HostPrivateKey)
	dat("RootCertificate", &rec.RootCertificate)
	dat("RootPrivateKey", &rec.RootPrivateKey)
	dat("DeviceCertificate", &rec.DeviceCertificate)
	dat("EscrowBag", &rec.EscrowBag)
	for _, k := range []struct {
		name string
		ok   bool
	}{
		{"HostID", rec.HostID != ""},
		{"SystemBUID", rec.SystemBUID != ""},
		{"HostCertificate", len(rec.HostCertificate) > 0},
		{"HostPrivateKey", len(rec.HostPrivateKey) > 0},
	} {
		if !k.ok {
			bad = append(bad, "missing "+k.name)
		}
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrBadPairRecord, strings.Join(bad, "; "))
	}
	return &rec, nil
}

// Marshal encodes the record as the XML plist usbmuxd stores (for
// SavePairRecord). Empty fields are left out.
func (r *PairRecord) Marshal() ([]byte, error) {
	if r == nil {
		return nil, errors.New("lockdown: marshal nil PairRecord")
	}
	m := map[string]any{}
	for k, v := range map[string]string{"HostID": r.HostID, "SystemBUID": r.SystemBUID, "WiFiMACAddress": r.WiFiMACAddress} {
		if v != "" {
			m[k] = v
		}
	}
	for k, v := range map[string][]byte{
		"HostCertificate": r.HostCertificate, "HostPrivateKey": r.HostPrivateKey,
		"RootCertificate": r.RootCertificate, "RootPrivateKey": r.RootPrivateKey,
		"DeviceCertificate": r.DeviceCertificate, "EscrowBag": r.EscrowBag,
	} {
		if len(v) > 0 {
			m[k] = v
		}
	}
	out, err := plist.MarshalIndent(m, plist.XMLFormat, "\t")
	if err != nil {
		return nil, fmt.Errorf("lockdown: marshal pair record: %w", err)
	}
	return out, nil
}

func (r *PairRecord) checkForPairing() error {
	if r == nil {
		return fmt.Errorf("%w: nil record", ErrBadPairRecord)
	}
	var missing []string
	for _, f := range []struct {
		name string
		ok   bool
	}{
		{"HostID", r.HostID != ""}, {"SystemBUID", r.SystemBUID != ""},
		{"HostCertificate", len(r.HostCertificate) > 0}, {"RootCertificate", len(r.RootCertificate) > 0},
		{"DeviceCertificate", len(r.DeviceCertificate) > 0},
	} {
		if !f.ok {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: missing %s", ErrBadPairRecord, strings.Join(missing, ", "))
	}
	return nil
}

// String describes the record without secrets.
func (r PairRecord) String() string {
	return fmt.Sprintf("PairRecord{HostID:%s SystemBUID:%s WiFiMACAddress:%s keys:%s escrow:%s}",
		r.HostID, r.SystemBUID, r.WiFiMACAddress,
		presence(len(r.HostPrivateKey)+len(r.RootPrivateKey)), presence(len(r.EscrowBag)))
}

// GoString keeps %#v from printing the keys.
func (r PairRecord) GoString() string { return r.String() }

// LogValue is what log/slog prints: identifiers only.
func (r PairRecord) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("host_id", r.HostID),
		slog.String("system_buid", r.SystemBUID),
		slog.Bool("has_private_keys", len(r.HostPrivateKey)+len(r.RootPrivateKey) > 0),
		slog.Bool("has_escrow_bag", len(r.EscrowBag) > 0),
	)
}

// MarshalJSON redacts too, so a record dumped into JSON logs leaks nothing.
// Use Marshal for the real encoding.
func (r PairRecord) MarshalJSON() ([]byte, error) {
	return []byte(fmt.Sprintf(`{"host_id":%q,"system_buid":%q,"redacted":true}`, r.HostID, r.SystemBUID)), nil
}

func presence(n int) string {
	if n > 0 {
		return "[redacted]"
	}
	return "none"
}

// certValidity matches what libimobiledevice issues (ten years).
const certValidity = 10 * 365 * 24 * time.Hour

// HostIdentity is this computer's pairing identity: a root CA and a host
// certificate signed by it. One identity serves every phone, as
// libimobiledevice's does; only the device certificate and HostID are per
// phone. Making one costs two RSA-2048 keys (~100 ms), so callers keep it.
type HostIdentity struct {
	rootKey, hostKey *rsa.PrivateKey
	rootCert         *x509.Certificate
	rootDER, hostDER []byte
	notBefore        time.Time
}

// NewHostIdentity generates a root CA and a host certificate.
func NewHostIdentity() (*HostIdentity, error) {
	rootKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("lockdown: root key: %w", err)
	}
	hostKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("lockdown: host key: %w", err)
	}
	id := &HostIdentity{rootKey: rootKey, hostKey: hostKey, notBefore: time.Now().Add(-time.Hour)} // tolerate a phone clock slightly behind ours
	root := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		NotBefore:             id.notBefore,
		NotAfter:              id.notBefore.Add(certValidity),
		BasicConstraintsValid: true,
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	if id.rootDER, err = x509.CreateCertificate(rand.Reader, root, root, &rootKey.PublicKey, rootKey); err != nil {
		return nil, fmt.Errorf("lockdown: root certificate: %w", err)
	}
	if id.rootCert, err = x509.ParseCertificate(id.rootDER); err != nil {
		return nil, fmt.Errorf("lockdown: root certificate: %w", err)
	}
	if id.hostDER, err = id.leaf(big.NewInt(2), &hostKey.PublicKey); err != nil {
		return nil, fmt.Errorf("lockdown: host certificate: %w", err)
	}
	return id, nil
}

func (id *HostIdentity) leaf(serial *big.Int, pub crypto.PublicKey) ([]byte, error) {
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		NotBefore:             id.notBefore,
		NotAfter:              id.notBefore.Add(certValidity),
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
	}
	return x509.CreateCertificate(rand.Reader, tmpl, id.rootCert, pub, id.rootKey)
}

// PairRecord makes the record for one phone: its DevicePublicKey (read with
// GetValue before pairing) signed by the root, and a new HostID.
// systemBUID is the mux daemon's (usbmux.ReadBUID).
func (id *HostIdentity) PairRecord(devicePublicKeyPEM []byte, systemBUID string) (*PairRecord, error) {
	if systemBUID == "" {
		return nil, errors.New("lockdown: pair record: empty SystemBUID")
	}
	devKey, err := parsePublicKeyPEM(devicePublicKeyPEM)
	if err != nil {
		return nil, fmt.Errorf("lockdown: pair record: device public key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 63))
	if err != nil {
		return nil, err
	}
	devDER, err := id.leaf(serial.Add(serial, big.NewInt(3)), devKey)
	if err != nil {
		return nil, fmt.Errorf("lockdown: pair record: device certificate: %w", err)
	}
	hostID, err := newUUID()
	if err != nil {
		return nil, fmt.Errorf("lockdown: pair record: HostID: %w", err)
	}
	return &PairRecord{
		HostID:            hostID,
		SystemBUID:        systemBUID,
		HostCertificate:   pemBlock("CERTIFICATE", id.hostDER),
		HostPrivateKey:    pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(id.hostKey)),
		RootCertificate:   pemBlock("CERTIFICATE", id.rootDER),
		RootPrivateKey:    pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(id.rootKey)),
		DeviceCertificate: pemBlock("CERTIFICATE", devDER),
	}, nil
}

// NewPairRecord creates a record with a fresh identity of its own. Prefer
// keeping one HostIdentity: this costs two RSA keys per call.
func NewPairRecord(devicePublicKeyPEM []byte, systemBUID string) (*PairRecord, error) {
	if systemBUID == "" {
		return nil, errors.New("lockdown: NewPairRecord: empty SystemBUID")
	}
	if _, err := parsePublicKeyPEM(devicePublicKeyPEM); err != nil {
		return nil, fmt.Errorf("lockdown: NewPairRecord: device public key: %w", err)
	}
	id, err := NewHostIdentity()
	if err != nil {
		return nil, err
	}
	return id.PairRecord(devicePublicKeyPEM, systemBUID)
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// parsePublicKeyPEM reads lockdownd's DevicePublicKey: PKCS#1 "RSA PUBLIC
// KEY" on real phones; PKIX "PUBLIC KEY" accepted too.
func parsePublicKeyPEM(b []byte) (crypto.PublicKey, error) {
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	switch block.Type {
	case "RSA PUBLIC KEY":
		return x509.ParsePKCS1PublicKey(block.Bytes)
	case "PUBLIC KEY":
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, err
		}
		return k, nil
	}
	return nil, fmt.Errorf("unexpected PEM type %q", block.Type)
}

// newUUID returns a random (version 4) UUID in upper case, the HostID form
// libimobiledevice uses.
func newUUID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return strings.ToUpper(fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])), nil
}
