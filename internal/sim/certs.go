package sim

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"time"
)

// keyBits is the RSA size for every sim key. 2048 matches real phones and
// hosts; keys are cached per name, so each costs ~50 ms once per process.
const keyBits = 2048

type keyEntry struct {
	once sync.Once
	key  *rsa.PrivateKey
	err  error
}

// keyPool shares generated keys across servers and tests: a device's key is
// keyed by its UDID, so the same simulated phone keeps its identity.
var keyPool sync.Map // name -> *keyEntry

func pooledKey(name string) (*rsa.PrivateKey, error) {
	e, _ := keyPool.LoadOrStore(name, &keyEntry{})
	ke := e.(*keyEntry)
	ke.once.Do(func() { ke.key, ke.err = rsa.GenerateKey(rand.Reader, keyBits) })
	return ke.key, ke.err
}

// hostIdentity is what a host (libimobiledevice, go-ios, trustwatch) creates
// when it pairs: a self-signed root and a host certificate signed by it.
type hostIdentity struct {
	rootKey  *rsa.PrivateKey
	rootCert *x509.Certificate
	hostKey  *rsa.PrivateKey
	hostCert *x509.Certificate
}

type hostEntry struct {
	once sync.Once
	id   *hostIdentity
	err  error
}

var hostPool sync.Map // name -> *hostEntry

// pooledHost returns a cached host identity ("host" for good records,
// "stranger" for the mismatched certificates of BadRecord devices).
func pooledHost(name string) (*hostIdentity, error) {
	e, _ := hostPool.LoadOrStore(name, &hostEntry{})
	he := e.(*hostEntry)
	he.once.Do(func() { he.id, he.err = newHostIdentity(name) })
	return he.id, he.err
}

func newHostIdentity(name string) (*hostIdentity, error) {
	rootKey, err := pooledKey("host-root:" + name)
	if err != nil {
		return nil, err
	}
	hostKey, err := pooledKey("host-leaf:" + name)
	if err != nil {
		return nil, err
	}
	rootTmpl := certTemplate(&rootKey.PublicKey)
	rootTmpl.IsCA = true
	rootTmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature
	rootDER, err := x509.CreateCertificate(rand.Reader, rootTmpl, rootTmpl, &rootKey.PublicKey, rootKey)
	if err != nil {
		return nil, fmt.Errorf("root certificate: %w", err)
	}
	root, err := x509.ParseCertificate(rootDER)
	if err != nil {
		return nil, err
	}
	hostDER, err := x509.CreateCertificate(rand.Reader, certTemplate(&hostKey.PublicKey), root, &hostKey.PublicKey, rootKey)
	if err != nil {
		return nil, fmt.Errorf("host certificate: %w", err)
	}
	host, err := x509.ParseCertificate(hostDER)
	if err != nil {
		return nil, err
	}
	return &hostIdentity{rootKey: rootKey, rootCert: root, hostKey: hostKey, hostCert: host}, nil
}

// certTemplate mirrors what pairing hosts create: serial 0, empty subject,
// ten years, subject key id. The sim signs with SHA-256; hosts in the wild
// (libimobiledevice, go-ios) use SHA-1, which the device side accepts too.
func certTemplate(pub *rsa.PublicKey) *x509.Certificate {
	ski := sha1.Sum(x509.MarshalPKCS1PublicKey(pub))
	now := time.Now()
	return &x509.Certificate{
		SerialNumber:          big.NewInt(0),
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageKeyEncipherment | x509.KeyUsageDigitalSignature,
		SubjectKeyId:          ski[:],
	}
}

// deviceCertFor signs the device's public key with the host's root, as a
// pairing host does with DevicePublicKey.
func (h *hostIdentity) deviceCertFor(pub *rsa.PublicKey) ([]byte, error) {
	return x509.CreateCertificate(rand.Reader, certTemplate(pub), h.rootCert, pub, h.rootKey)
}

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func pemRSAPrivate(k *rsa.PrivateKey) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
}

// pemRSAPublic is the DevicePublicKey format: PKCS#1 "RSA PUBLIC KEY", which
// libimobiledevice and go-ios both parse.
func pemRSAPublic(k *rsa.PublicKey) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(k)})
}

// parsePEMCert accepts PEM (what hosts send) or raw DER.
func parsePEMCert(b []byte) (*x509.Certificate, error) {
	if len(b) == 0 {
		return nil, errors.New("empty certificate")
	}
	if blk, _ := pem.Decode(b); blk != nil {
		b = blk.Bytes
	}
	return x509.ParseCertificate(b)
}

// signedBy reports whether leaf is root itself or carries root's signature.
// It uses the low-level CheckSignature because pairing hosts sign with SHA-1,
// which x509's chain verification refuses.
func signedBy(leaf, root *x509.Certificate) error {
	if leaf.Equal(root) {
		return nil
	}
	return root.CheckSignature(leaf.SignatureAlgorithm, leaf.RawTBSCertificate, leaf.Signature)
}

func pemDecode(b []byte) ([]byte, []byte) {
	blk, rest := pem.Decode(b)
	if blk == nil {
		return nil, rest
	}
	return blk.Bytes, rest
}

func parsePKCS1Public(der []byte) (*rsa.PublicKey, error) {
	if der == nil {
		return nil, errors.New("no PEM block")
	}
	return x509.ParsePKCS1PublicKey(der)
}
