package lockdown

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"howett.net/plist"
)

// socketPair returns two ends of a real unix socket (so fds can be counted
// and deadlines behave as on a usbmux pipe). Both are closed at cleanup.
func socketPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	client, server = rawSocketPair(t)
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// rawSocketPair is socketPair without cleanup: the caller closes both.
func rawSocketPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	dir, err := os.MkdirTemp("", "ld")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("unix", filepath.Join(dir, "s"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { ln.Close(); os.RemoveAll(dir) }()
	type res struct {
		c   net.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() { c, err := ln.Accept(); ch <- res{c, err} }()
	client, err = net.Dial("unix", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	r := <-ch
	if r.err != nil {
		t.Fatal(r.err)
	}
	return client, r.c
}

func writeFrame(c net.Conn, m any) error {
	b, err := plist.Marshal(m, plist.XMLFormat)
	if err != nil {
		return err
	}
	return writeRawFrame(c, uint32(len(b)), b)
}

func writeRawFrame(c net.Conn, n uint32, body []byte) error {
	var lb [4]byte
	binary.BigEndian.PutUint32(lb[:], n)
	_, err := c.Write(append(lb[:], body...))
	return err
}

// device is a scripted fake lockdownd. handle returns the reply and
// whether TLS starts after it (StartSession with EnableSessionSSL).
type device struct {
	handle func(req map[string]any) (reply map[string]any, startTLS bool)
	tls    *tls.Config
	mu     sync.Mutex
	reqs   []map[string]any
	tlsErr error
	wg     sync.WaitGroup
}

// serve runs the fake on the server end until the client goes away.
func (d *device) serve(t *testing.T, sock net.Conn) {
	d.wg.Add(1)
	go func() {
		var c net.Conn = sock // becomes the TLS layer during sessions
		defer d.wg.Done()
		defer c.Close()
		for {
			req, err := readFrame(context.Background(), c)
			if err != nil {
				return
			}
			d.mu.Lock()
			d.reqs = append(d.reqs, req)
			d.mu.Unlock()
			reply, startTLS := d.handle(req)
			if reply == nil {
				continue // silent
			}
			if req["Request"] != nil && reply["Request"] == nil {
				reply["Request"] = req["Request"]
			}
			if err := writeFrame(c, reply); err != nil {
				return
			}
			if tc, ok := c.(*tls.Conn); ok && req["Request"] == "StopSession" {
				// Back to plaintext; the client's close_notify record
				// (5-byte header + body) comes first.
				raw := tc.NetConn()
				var hdr [5]byte
				if _, err := io.ReadFull(raw, hdr[:]); err != nil || hdr[0] != 0x15 {
					d.mu.Lock()
					d.tlsErr = fmt.Errorf("no close_notify after StopSession: % x %v", hdr, err)
					d.mu.Unlock()
					return
				}
				if _, err := io.CopyN(io.Discard, raw, int64(binary.BigEndian.Uint16(hdr[3:]))); err != nil {
					return
				}
				c = raw
			}
			if startTLS {
				tc := tls.Server(c, d.tls)
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				if err := tc.Handshake(); err != nil {
					d.mu.Lock()
					d.tlsErr = err
					d.mu.Unlock()
					return
				}
				_ = c.SetDeadline(time.Time{})
				c = tc
			}
		}
	}()
	t.Cleanup(func() { sock.Close(); d.wg.Wait() })
}

func (d *device) deviceErr() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.tlsErr
}

func (d *device) requests() []map[string]any {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]map[string]any(nil), d.reqs...)
}

// newConn connects a Conn to a fake device.
func newConn(t *testing.T, d *device) *Conn {
	t.Helper()
	cl, srv := socketPair(t)
	d.serve(t, srv)
	c := New(cl, "")
	t.Cleanup(func() { c.Close() })
	return c
}

// identity is a fake phone's key pair plus a host record paired with it.
type identity struct {
	devKey  *rsa.PrivateKey
	devPEM  []byte // DevicePublicKey as lockdownd sends it
	rec     *PairRecord
	devCert tls.Certificate
	roots   *x509.CertPool
}

var (
	identOnce sync.Once
	ident     identity
)

// testIdentity is generated once per test binary: RSA keys are slow.
func testIdentity(t testing.TB) identity {
	t.Helper()
	identOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		ident.devKey = k
		ident.devPEM = pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&k.PublicKey)})
		rec, err := NewPairRecord(ident.devPEM, "SYSTEM-BUID-1")
		if err != nil {
			panic(err)
		}
		ident.rec = rec
		blk, _ := pem.Decode(rec.DeviceCertificate)
		ident.devCert = tls.Certificate{Certificate: [][]byte{blk.Bytes}, PrivateKey: k}
		ident.roots = x509.NewCertPool()
		ident.roots.AppendCertsFromPEM(rec.RootCertificate)
	})
	if ident.rec == nil {
		t.Fatal("identity generation failed")
	}
	return ident
}

// deviceTLS is the phone's side: its own certificate, and it accepts only
// host certificates signed by the given root (the record it paired with).
func deviceTLS(id identity, roots *x509.CertPool) *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{id.devCert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    roots,
	}
}
