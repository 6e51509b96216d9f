package lockdown

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"testing"

	"howett.net/plist"
)

func parseCert(t *testing.T, p []byte) *x509.Certificate {
	t.Helper()
	b, _ := pem.Decode(p)
	if b == nil || b.Type != "CERTIFICATE" {
		t.Fatalf("not a PEM certificate")
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestNewPairRecord(t *testing.T) {
	id := testIdentity(t)
	rec := id.rec
	if !regexp.MustCompile(`^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$`).MatchString(rec.HostID) {
		t.Fatalf("HostID %q is not an upper-case v4 UUID", rec.HostID)
	}
	if rec.SystemBUID != "SYSTEM-BUID-1" {
		t.Fatalf("SystemBUID %q", rec.SystemBUID)
	}
	root := parseCert(t, rec.RootCertificate)
	host := parseCert(t, rec.HostCertificate)
	dev := parseCert(t, rec.DeviceCertificate)
	if !root.IsCA {
		t.Fatal("root is not a CA")
	}
	for name, c := range map[string]*x509.Certificate{"host": host, "device": dev} {
		if err := c.CheckSignatureFrom(root); err != nil {
			t.Fatalf("%s certificate not signed by root: %v", name, err)
		}
		if c.IsCA {
			t.Fatalf("%s certificate is a CA", name)
		}
	}
	if !dev.PublicKey.(*rsa.PublicKey).Equal(&id.devKey.PublicKey) {
		t.Fatal("device certificate does not carry the device's public key")
	}
	if _, err := x509.ParsePKCS1PrivateKey(pemBytes(t, rec.HostPrivateKey, "RSA PRIVATE KEY")); err != nil {
		t.Fatal(err)
	}
	if _, err := x509.ParsePKCS1PrivateKey(pemBytes(t, rec.RootPrivateKey, "RSA PRIVATE KEY")); err != nil {
		t.Fatal(err)
	}
	// A PKIX-encoded device key works too, and every record is a new identity.
	der, _ := x509.MarshalPKIXPublicKey(&id.devKey.PublicKey)
	other, err := NewPairRecord(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), "B")
	if err != nil {
		t.Fatal(err)
	}
	if other.HostID == rec.HostID || bytes.Equal(other.RootCertificate, rec.RootCertificate) {
		t.Fatal("two records share an identity")
	}
	for _, bad := range []struct {
		key  []byte
		buid string
	}{
		{nil, "B"}, {[]byte("not pem"), "B"}, {pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: []byte{1, 2}}), "B"},
		{pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}}), "B"}, {id.devPEM, ""},
	} {
		if _, err := NewPairRecord(bad.key, bad.buid); err == nil {
			t.Errorf("NewPairRecord(%q, %q) accepted", bad.key, bad.buid)
		}
	}
}

func pemBytes(t *testing.T, p []byte, typ string) []byte {
	t.Helper()
	b, _ := pem.Decode(p)
	if b == nil || b.Type != typ {
		t.Fatalf("want PEM %s", typ)
	}
	return b.Bytes
}

func TestPairRecordRoundTrip(t *testing.T) {
	rec := *testIdentity(t).rec
	rec.EscrowBag = []byte("escrow-bag-bytes")
	rec.WiFiMACAddress = "aa:bb:cc:dd:ee:ff"
	data, err := rec.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte("<?xml")) {
		t.Fatal("Marshal is not an XML plist")
	}
	// The keys usbmuxd and libimobiledevice expect, as data/strings.
	var raw map[string]any
	if _, err := plist.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"DeviceCertificate", "EscrowBag", "HostCertificate", "HostPrivateKey", "RootCertificate", "RootPrivateKey"} {
		if _, ok := raw[k].([]byte); !ok {
			t.Errorf("%s is %T, want data", k, raw[k])
		}
	}
	for _, k := range []string{"HostID", "SystemBUID", "WiFiMACAddress"} {
		if _, ok := raw[k].(string); !ok {
			t.Errorf("%s is %T, want string", k, raw[k])
		}
	}
	got, err := ParsePairRecord(data)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(*got) != fmt.Sprint(rec) || !bytes.Equal(got.HostPrivateKey, rec.HostPrivateKey) ||
		!bytes.Equal(got.EscrowBag, rec.EscrowBag) || !bytes.Equal(got.DeviceCertificate, rec.DeviceCertificate) ||
		!bytes.Equal(got.RootPrivateKey, rec.RootPrivateKey) {
		t.Fatal("round trip changed the record")
	}
	// Binary plists (as Apple's daemons may store them) parse too.
	bin, err := plist.Marshal(raw, plist.BinaryFormat)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := ParsePairRecord(bin); err != nil || got.HostID != rec.HostID {
		t.Fatalf("binary record: %v", err)
	}
}

func TestParsePairRecordBad(t *testing.T) {
	rec := testIdentity(t).rec
	good, _ := rec.Marshal()
	mutate := func(f func(m map[string]any)) []byte {
		var m map[string]any
		if _, err := plist.Unmarshal(good, &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		b, err := plist.Marshal(m, plist.XMLFormat)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	cases := map[string][]byte{
		"empty":           nil,
		"garbage":         []byte("\x00\x01garbage"),
		"array":           []byte(`<?xml version="1.0"?><plist version="1.0"><array/></plist>`),
		"no HostID":       mutate(func(m map[string]any) { delete(m, "HostID") }),
		"no host key":     mutate(func(m map[string]any) { delete(m, "HostPrivateKey") }),
		"HostID not str":  mutate(func(m map[string]any) { m["HostID"] = 5 }),
		"cert not data":   mutate(func(m map[string]any) { m["HostCertificate"] = []any{1} }),
		"truncated":       good[:len(good)/2],
		"openstep":        []byte(`{ HostID = X; }`),
		"broken bplist":   append([]byte("bplist00"), bytes.Repeat([]byte{0xff}, 64)...),
		"no SystemBUID":   mutate(func(m map[string]any) { delete(m, "SystemBUID") }),
		"escrow not data": mutate(func(m map[string]any) { m["EscrowBag"] = true }),
	}
	for name, data := range cases {
		_, err := ParsePairRecord(data)
		if !errors.Is(err, ErrBadPairRecord) {
			t.Errorf("%s: got %v", name, err)
			continue
		}
		if strings.Contains(err.Error(), "PRIVATE KEY") || strings.Contains(err.Error(), "BEGIN") {
			t.Errorf("%s: error quotes record content: %v", name, err)
		}
	}
}

func TestPairRecordRedaction(t *testing.T) {
	rec := *testIdentity(t).rec
	rec.EscrowBag = []byte("ESCROW-SECRET-BYTES")
	secrets := []string{"PRIVATE KEY", "ESCROW-SECRET", "RVNDUk9XLVNFQ1JFVC", "MII"}
	var outs []string
	outs = append(outs, fmt.Sprint(rec), fmt.Sprintf("%v %+v %#v %s", rec, &rec, rec, &rec))
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("probe", "record", rec, "ptr", &rec)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("probe", "record", rec)
	outs = append(outs, buf.String())
	j, err := json.Marshal(map[string]any{"r": rec, "p": &rec})
	if err != nil {
		t.Fatal(err)
	}
	outs = append(outs, string(j))
	for _, o := range outs {
		if !strings.Contains(o, rec.HostID) {
			t.Errorf("output lacks the HostID: %s", o)
		}
		for _, s := range secrets {
			if strings.Contains(o, s) {
				t.Errorf("output leaks %q: %s", s, o)
			}
		}
	}
}

// BenchmarkNewPairRecord: the cost of a fresh pairing identity (two RSA-2048
// keys); executors should make one per device and reuse it across Pair tries.
func BenchmarkNewPairRecord(b *testing.B) {
	id := testIdentity(b)
	for b.Loop() {
		if _, err := NewPairRecord(id.devPEM, "B"); err != nil {
			b.Fatal(err)
		}
	}
}
