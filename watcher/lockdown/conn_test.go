package lockdown

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/trustwatch/trustwatch/internal/simtest"
)

var allSentinels = []*Error{
	ErrInvalidResponse, ErrMissingKey, ErrMissingValue, ErrGetProhibited, ErrSetProhibited,
	ErrRemoveProhibited, ErrImmutableValue, ErrPasswordProtected, ErrUserDeniedPairing,
	ErrPairingDialogResponsePending, ErrMissingHostID, ErrInvalidHostID, ErrSessionActive,
	ErrSessionInactive, ErrMissingSessionID, ErrInvalidSessionID, ErrMissingService,
	ErrInvalidService, ErrServiceLimit, ErrMissingPairRecord, ErrSavePairRecordFailed,
	ErrInvalidPairRecord, ErrInvalidActivationRecord, ErrMissingActivationRecord,
	ErrServiceProhibited, ErrEscrowLocked, ErrPairingProhibitedOverThisConnection,
	ErrFMiPProtected, ErrMCProtected, ErrMCChallengeRequired, ErrInvalidConnection,
}

func TestErrorMapping(t *testing.T) {
	if len(allSentinels) != len(errorText) {
		t.Fatalf("%d sentinels but %d codes in errorText", len(allSentinels), len(errorText))
	}
	cases := []struct {
		code string
		want *Error
		limd int
	}{
		{"PasswordProtected", ErrPasswordProtected, -17},
		{"UserDeniedPairing", ErrUserDeniedPairing, -18},
		{"PairingDialogResponsePending", ErrPairingDialogResponsePending, -19},
		{"MissingHostID", ErrMissingHostID, -20},
		{"InvalidHostID", ErrInvalidHostID, -21},
		{"SessionActive", ErrSessionActive, -22},
		{"SessionInactive", ErrSessionInactive, -23},
		{"MissingValue", ErrMissingValue, -12},
		{"GetProhibited", ErrGetProhibited, -13},
		{"EscrowLocked", ErrEscrowLocked, -35},
		{"PairingProhibitedOverThisConnection", ErrPairingProhibitedOverThisConnection, -36},
		{"InvalidPairRecord", ErrInvalidPairRecord, -31},
		{"MissingPairRecord", ErrMissingPairRecord, -29},
		{"InvalidService", ErrInvalidService, -27},
		{"MCProtected", ErrMCProtected, -38},
		{"FMiPProtected", ErrFMiPProtected, -37},
		{"ServiceLimit", ErrServiceLimit, -28},
		{"SomethingNew", nil, -256},
	}
	var code string
	d := &device{handle: func(req map[string]any) (map[string]any, bool) {
		return map[string]any{"Error": code}, false
	}}
	c := newConn(t, d)
	for _, tc := range cases {
		code = tc.code
		_, err := c.GetValue(simtest.Ctx(t, 2*time.Second), "", "DeviceName")
		var le *Error
		if !errors.As(err, &le) || le.Code != tc.code || le.Request != "GetValue" {
			t.Errorf("%s: got %v", tc.code, err)
			continue
		}
		if le.LimdCode() != tc.limd {
			t.Errorf("%s: LimdCode %d, want %d", tc.code, le.LimdCode(), tc.limd)
		}
		if le.Known() != (tc.want != nil) {
			t.Errorf("%s: Known() = %v", tc.code, le.Known())
		}
		for _, s := range allSentinels {
			if got := errors.Is(err, s); got != (s == tc.want) {
				t.Errorf("%s: errors.Is(err, %s) = %v", tc.code, s.Code, got)
			}
		}
		if !strings.Contains(err.Error(), tc.code) {
			t.Errorf("%s: message %q lacks the code", tc.code, err)
		}
	}
	// An Error reply leaves the connection usable.
	code = ""
	d.handle = func(map[string]any) (map[string]any, bool) { return map[string]any{"Value": "Anna"}, false }
	if v, err := c.GetValue(simtest.Ctx(t, 2*time.Second), "", "DeviceName"); err != nil || v != "Anna" {
		t.Fatalf("after errors: %v %v", v, err)
	}
	// Wrapped errors still match.
	wrapped := errors.Join(errors.New("probe"), &Error{Code: "PasswordProtected", Request: "Pair"})
	if !errors.Is(wrapped, ErrPasswordProtected) || errors.Is(wrapped, ErrInvalidHostID) {
		t.Fatal("wrapped *Error does not match its sentinel")
	}
}

func TestBasicRequests(t *testing.T) {
	d := &device{handle: func(req map[string]any) (map[string]any, bool) {
		switch req["Request"] {
		case "QueryType":
			return map[string]any{"Type": TypeLockdown}, false
		case "GetValue":
			switch req["Key"] {
			case nil:
				return map[string]any{"Value": map[string]any{
					"DeviceName": "Anna's iPhone", "ProductType": "iPhone15,2", "ProductVersion": "17.5",
					"DeviceClass": "iPhone", "UniqueDeviceID": "00008030-001A2B3C4D5E6F70", "BuildVersion": "21F79",
				}}, false
			case "PasswordProtected":
				return map[string]any{"Value": true}, false
			case "DevicePublicKey":
				return map[string]any{"Value": "-----BEGIN RSA PUBLIC KEY-----\n"}, false
			case "WiFiAddress":
				return map[string]any{}, false // neither Value nor Error
			}
			return map[string]any{"Error": "MissingValue"}, false
		case "StartService":
			switch req["Service"] {
			case InsecureNotificationProxy:
				return map[string]any{"Port": 49152, "EnableServiceSSL": false}, false
			case NotificationProxy:
				return map[string]any{"Port": 50000, "EnableServiceSSL": true}, false
			case "bad.port":
				return map[string]any{"Port": 70000}, false
			}
			return map[string]any{"Error": "InvalidService"}, false
		}
		return map[string]any{"Error": "InvalidRequest"}, false
	}}
	c := newConn(t, d)
	ctx := simtest.Ctx(t, 5*time.Second)
	if ty, err := c.QueryType(ctx); err != nil || ty != TypeLockdown {
		t.Fatalf("QueryType = %q %v", ty, err)
	}
	info, err := c.DeviceInfo(ctx)
	want := Info{Name: "Anna's iPhone", ProductType: "iPhone15,2", ProductVersion: "17.5", DeviceClass: "iPhone", UDID: "00008030-001A2B3C4D5E6F70"}
	if err != nil || info != want {
		t.Fatalf("DeviceInfo = %+v %v", info, err)
	}
	if pp, err := c.PasswordProtected(ctx); err != nil || !pp {
		t.Fatalf("PasswordProtected = %v %v", pp, err)
	}
	if _, err := c.GetValue(ctx, "", "Nope"); !errors.Is(err, ErrMissingValue) {
		t.Fatalf("missing key: %v", err)
	}
	if k, err := c.DevicePublicKey(ctx); err != nil || !strings.HasPrefix(string(k), "-----BEGIN") {
		t.Fatalf("DevicePublicKey as string: %q %v", k, err)
	}
	if _, err := c.GetValue(ctx, "", "WiFiAddress"); !errors.Is(err, ErrProtocol) {
		t.Fatalf("empty reply: %v", err)
	}
	if p, ssl, err := c.StartService(ctx, InsecureNotificationProxy); err != nil || p != 49152 || ssl {
		t.Fatalf("StartService = %d %v %v", p, ssl, err)
	}
	if p, ssl, err := c.StartService(ctx, NotificationProxy); err != nil || p != 50000 || !ssl {
		t.Fatalf("StartService ssl = %d %v %v", p, ssl, err)
	}
	if _, _, err := c.StartService(ctx, "bad.port"); !errors.Is(err, ErrProtocol) {
		t.Fatalf("bad port: %v", err)
	}
	if _, _, err := c.StartService(ctx, "com.example.none"); !errors.Is(err, ErrInvalidService) {
		t.Fatalf("invalid service: %v", err)
	}
	// A context that is already over sends nothing and breaks nothing.
	done, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.QueryType(done); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled before sending: %v", err)
	}
	if _, err := c.QueryType(ctx); err != nil {
		t.Fatalf("after a cancelled request: %v", err)
	}
	for _, r := range d.requests() {
		if r["Label"] != "trustwatch" {
			t.Fatalf("request without our Label: %v", r)
		}
	}
}

func TestDeviceInfoFallback(t *testing.T) {
	// A device that refuses the whole-domain read answers key by key.
	d := &device{handle: func(req map[string]any) (map[string]any, bool) {
		switch req["Key"] {
		case nil:
			return map[string]any{"Error": "GetProhibited"}, false
		case "DeviceName":
			return map[string]any{"Value": "Bob"}, false
		case "ProductVersion":
			return map[string]any{"Value": "26.0"}, false
		}
		return map[string]any{"Error": "MissingValue"}, false
	}}
	c := newConn(t, d)
	info, err := c.DeviceInfo(simtest.Ctx(t, 2*time.Second))
	if err != nil || info != (Info{Name: "Bob", ProductVersion: "26.0"}) {
		t.Fatalf("DeviceInfo = %+v %v", info, err)
	}
	d.handle = func(map[string]any) (map[string]any, bool) { return map[string]any{"Error": "GetProhibited"}, false }
	if _, err := c.DeviceInfo(simtest.Ctx(t, 2*time.Second)); !errors.Is(err, ErrGetProhibited) {
		t.Fatalf("all refused: %v", err)
	}
}

func sessionDevice(id identity, accept *x509.CertPool, ssl bool) *device {
	d := &device{tls: deviceTLS(id, accept)}
	d.handle = func(req map[string]any) (map[string]any, bool) {
		switch req["Request"] {
		case "StartSession":
			if req["HostID"] != id.rec.HostID || req["SystemBUID"] != id.rec.SystemBUID {
				return map[string]any{"Error": "InvalidHostID"}, false
			}
			return map[string]any{"SessionID": "S-1", "EnableSessionSSL": ssl}, ssl
		case "GetValue":
			if req["Key"] == "PasswordProtected" {
				return map[string]any{"Value": false}, false
			}
			return map[string]any{"Value": "x"}, false
		case "StopSession":
			return map[string]any{}, false
		}
		return map[string]any{"Error": "InvalidRequest"}, false
	}
	return d
}

func TestSessionTLS(t *testing.T) {
	id := testIdentity(t)
	d := sessionDevice(id, id.roots, true)
	c := newConn(t, d)
	ctx := simtest.Ctx(t, 5*time.Second)
	sid, err := c.StartSession(ctx, id.rec)
	if err != nil || sid != "S-1" {
		t.Fatalf("StartSession = %q %v (device TLS error: %v)", sid, err, d.deviceErr())
	}
	if _, err := c.StartSession(ctx, id.rec); !errors.Is(err, ErrSessionActive) {
		t.Fatalf("second StartSession: %v", err)
	}
	// This request travels inside TLS: the fake would not parse it otherwise.
	pp, err := c.PasswordProtected(ctx)
	if err != nil || pp {
		t.Fatalf("PasswordProtected in session = %v %v", pp, err)
	}
	if err := c.StopSession(ctx, sid); err != nil {
		t.Fatal(err)
	}
	// Back in plaintext: the fake reads this without TLS.
	if v, err := c.GetValue(ctx, "", "DeviceName"); err != nil || v != "x" {
		t.Fatalf("request after StopSession of an SSL session: %v %v (device: %v)", v, err, d.deviceErr())
	}
	// A new session on the same connection works too.
	if _, err := c.StartSession(ctx, id.rec); err != nil {
		t.Fatalf("second session: %v (device: %v)", err, d.deviceErr())
	}
}

func TestSessionPlain(t *testing.T) {
	id := testIdentity(t)
	d := sessionDevice(id, id.roots, false)
	c := newConn(t, d)
	ctx := simtest.Ctx(t, 5*time.Second)
	sid, err := c.StartSession(ctx, id.rec)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.StopSession(ctx, sid); err != nil {
		t.Fatal(err)
	}
	// Without SSL the connection continues in plaintext.
	if _, err := c.GetValue(ctx, "", "DeviceName"); err != nil {
		t.Fatal(err)
	}
}

func TestSessionRevoked(t *testing.T) {
	id := testIdentity(t)
	// The phone paired with someone else's root: our host cert is refused.
	other, err := NewPairRecord(id.devPEM, "OTHER")
	if err != nil {
		t.Fatal(err)
	}
	otherRoots := x509.NewCertPool()
	otherRoots.AppendCertsFromPEM(other.RootCertificate)
	d := sessionDevice(id, otherRoots, true)
	c := newConn(t, d)
	start := time.Now()
	_, err = c.StartSession(simtest.Ctx(t, 5*time.Second), id.rec)
	if !errors.Is(err, ErrTLS) || errors.Is(err, ErrTimeout) {
		t.Fatalf("revoked record: %v", err)
	}
	if time.Since(start) > 3*time.Second {
		t.Fatalf("TLS failure took %v", time.Since(start))
	}
	if _, err := c.QueryType(simtest.Ctx(t, time.Second)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Conn after TLS failure: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("Close after internal close: %v", err)
	}
}

func TestSessionErrors(t *testing.T) {
	id := testIdentity(t)
	d := sessionDevice(id, id.roots, true)
	c := newConn(t, d)
	stranger := *id.rec
	stranger.HostID = "00000000-0000-4000-8000-000000000000"
	if _, err := c.StartSession(simtest.Ctx(t, 2*time.Second), &stranger); !errors.Is(err, ErrInvalidHostID) {
		t.Fatalf("unknown host: %v", err)
	}
	// Still usable after a lockdown error.
	d.handle = func(map[string]any) (map[string]any, bool) {
		return map[string]any{"Error": "PasswordProtected"}, false
	}
	if _, err := c.StartSession(simtest.Ctx(t, 2*time.Second), id.rec); !errors.Is(err, ErrPasswordProtected) {
		t.Fatalf("BFU: %v", err)
	}
	// An empty record fails before any I/O.
	n := len(d.requests())
	if _, err := c.StartSession(simtest.Ctx(t, 2*time.Second), &PairRecord{}); !errors.Is(err, ErrBadPairRecord) {
		t.Fatalf("empty record: %v", err)
	}
	if len(d.requests()) != n {
		t.Fatal("a request was sent for an unusable record")
	}
	// A record whose key does not match its certificate fails as soon as
	// the phone asks for TLS (the key is parsed only then, so a refused
	// HostID is answered without RSA work), and the connection is closed.
	d2 := sessionDevice(id, id.roots, true)
	c2 := newConn(t, d2)
	corrupt := *id.rec
	corrupt.HostPrivateKey = id.rec.RootPrivateKey
	_, err := c2.StartSession(simtest.Ctx(t, 2*time.Second), &corrupt)
	if !errors.Is(err, ErrTLS) || !errors.Is(err, ErrBadPairRecord) {
		t.Fatalf("corrupt record: %v", err)
	}
	if strings.Contains(err.Error(), "PRIVATE") {
		t.Fatal("error message quotes key material")
	}
}

func TestPair(t *testing.T) {
	id := testIdentity(t)
	rec := *id.rec
	rec.EscrowBag = nil
	var outcome string
	d := &device{handle: func(req map[string]any) (map[string]any, bool) {
		if outcome != "" {
			return map[string]any{"Error": outcome}, false
		}
		return map[string]any{"EscrowBag": []byte("escrow-secret")}, false
	}}
	c := newConn(t, d)
	ctx := simtest.Ctx(t, 5*time.Second)
	for _, o := range []struct {
		code string
		want error
	}{
		{"PairingDialogResponsePending", ErrPairingDialogResponsePending},
		{"PasswordProtected", ErrPasswordProtected},
		{"UserDeniedPairing", ErrUserDeniedPairing},
	} {
		outcome = o.code
		if _, err := c.Pair(ctx, &rec); !errors.Is(err, o.want) {
			t.Fatalf("%s: %v", o.code, err)
		}
	}
	outcome = ""
	bag, err := c.Pair(ctx, &rec)
	if err != nil || string(bag) != "escrow-secret" || string(rec.EscrowBag) != "escrow-secret" {
		t.Fatalf("Pair = %q %v (rec bag %q)", bag, err, rec.EscrowBag)
	}
	req := d.requests()[len(d.requests())-1]
	if req["Request"] != "Pair" || req["ProtocolVersion"] != "2" || req["Label"] != "trustwatch" {
		t.Fatalf("Pair request %v", req)
	}
	opts, _ := req["PairingOptions"].(map[string]any)
	if opts["ExtendedPairingErrors"] != true {
		t.Fatalf("PairingOptions %v", opts)
	}
	pr, _ := req["PairRecord"].(map[string]any)
	for _, k := range []string{"DeviceCertificate", "HostCertificate", "RootCertificate"} {
		if b, _ := pr[k].([]byte); !bytes.Equal(b, map[string][]byte{
			"DeviceCertificate": rec.DeviceCertificate, "HostCertificate": rec.HostCertificate, "RootCertificate": rec.RootCertificate,
		}[k]) {
			t.Fatalf("PairRecord.%s not sent", k)
		}
	}
	if pr["HostID"] != rec.HostID || pr["SystemBUID"] != rec.SystemBUID {
		t.Fatalf("PairRecord ids %v", pr)
	}
	for k := range pr {
		if strings.Contains(k, "Private") || k == "EscrowBag" {
			t.Fatalf("Pair sent secret key %s", k)
		}
	}
	if err := c.Unpair(ctx, &rec); err != nil {
		t.Fatal(err)
	}
	if req := d.requests()[len(d.requests())-1]; req["Request"] != "Unpair" {
		t.Fatalf("Unpair sent %v", req["Request"])
	}
	if _, err := c.Pair(ctx, &PairRecord{HostID: "x"}); !errors.Is(err, ErrBadPairRecord) {
		t.Fatalf("incomplete record: %v", err)
	}
}

func TestGarbage(t *testing.T) {
	huge := func(n uint32) func(c net.Conn) {
		return func(c net.Conn) { _ = writeRawFrame(c, n, nil) }
	}
	body := func(b string) func(c net.Conn) {
		return func(c net.Conn) { _ = writeRawFrame(c, uint32(len(b)), []byte(b)) }
	}
	cases := []struct {
		name  string
		reply func(c net.Conn)
		want  error
	}{
		{"zero length", huge(0), ErrProtocol},
		{"4 GiB length", huge(0xFFFFFFFF), ErrProtocol},
		{"over cap", huge(MaxFrameSize + 1), ErrProtocol},
		{"truncated body", func(c net.Conn) { _ = writeRawFrame(c, 500, []byte("<?xml")); c.Close() }, ErrProtocol},
		{"truncated prefix", func(c net.Conn) { _, _ = c.Write([]byte{0, 0}); c.Close() }, ErrProtocol},
		{"binary junk", body("\x00\x01\x02\xff\xfe garbage"), ErrProtocol},
		{"broken bplist", body("bplist00" + strings.Repeat("\xff", 40)), ErrProtocol},
		{"openstep text plist", body(`{ Type = "com.apple.mobile.lockdown"; }`), ErrProtocol},
		{"array top level", body(`<?xml version="1.0"?><plist version="1.0"><array/></plist>`), ErrProtocol},
		{"unterminated xml", body(`<?xml version="1.0"?><plist version="1.0"><dict><key>Type</key>`), ErrProtocol},
		{"closes", func(c net.Conn) { c.Close() }, ErrDisconnected},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cl, srv := socketPair(t)
			go func() {
				if _, err := readFrame(context.Background(), srv); err == nil {
					tc.reply(srv)
				}
			}()
			c := New(cl, "")
			defer c.Close()
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			start := time.Now()
			_, err := c.QueryType(simtest.Ctx(t, 3*time.Second))
			runtime.ReadMemStats(&m1)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if time.Since(start) > 2*time.Second {
				t.Fatalf("took %v", time.Since(start))
			}
			if a := m1.TotalAlloc - m0.TotalAlloc; a > 8<<20 {
				t.Fatalf("allocated %d bytes", a)
			}
			// The stream is out of step: later requests refuse at once.
			if _, err := c.QueryType(simtest.Ctx(t, time.Second)); err == nil || !strings.Contains(err.Error(), "unusable") {
				t.Fatalf("request after garbage: %v", err)
			}
		})
	}
}

// A device that accepts and never answers costs bounded time and leaves no
// socket or goroutine behind.
func TestSilentDevice(t *testing.T) {
	fds := simtest.FDs(t)
	gor := simtest.Goroutines()
	start := time.Now()
	for i := 0; i < 5; i++ {
		for _, mode := range []string{"deadline", "cancel", "close"} {
			cl, srv := rawSocketPair(t)
			drained := make(chan struct{})
			go func() { // reads everything, answers nothing
				defer close(drained)
				buf := make([]byte, 512)
				for {
					if _, err := srv.Read(buf); err != nil {
						return
					}
				}
			}()
			c := New(cl, "")
			var err error
			switch mode {
			case "deadline":
				_, err = c.QueryType(simtest.Ctx(t, 100*time.Millisecond))
				if !errors.Is(err, ErrTimeout) {
					t.Fatalf("deadline: %v, want ErrTimeout", err)
				}
			case "cancel":
				ctx, cancel := context.WithCancel(context.Background())
				time.AfterFunc(30*time.Millisecond, cancel)
				_, err = c.QueryType(ctx)
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("cancel: %v", err)
				}
			case "close":
				time.AfterFunc(30*time.Millisecond, func() { c.Close() })
				_, err = c.QueryType(simtest.Ctx(t, 5*time.Second))
				if !errors.Is(err, ErrClosed) {
					t.Fatalf("close: %v", err)
				}
			}
			c.Close()
			<-drained
			srv.Close()
		}
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("15 stalled requests took %v", d)
	}
	simtest.WaitFDs(t, fds)
	simtest.WaitGoroutines(t, gor)
}
