package sim

import "fmt"

// Fault makes one simulated device misbehave.
type Fault int

const (
	FaultNone            Fault = iota
	FaultMuxGarbage            // usbmuxd answers junk to requests about this device (Connect, pair records)
	FaultLockdownGarbage       // lockdownd answers every request with a frame that is not a plist
	FaultLockdownSilent        // lockdownd accepts requests and never answers
	FaultLockdownReset         // lockdownd closes the connection on the first request
	FaultTLSStall              // StartSession succeeds, then the TLS handshake never completes
	FaultConnectRefused        // usbmuxd Connect to the device fails with Result 3
)

var faultNames = map[Fault]string{
	FaultNone:            "none",
	FaultMuxGarbage:      "mux-garbage",
	FaultLockdownGarbage: "lockdown-garbage",
	FaultLockdownSilent:  "lockdown-silent",
	FaultLockdownReset:   "lockdown-reset",
	FaultTLSStall:        "tls-stall",
	FaultConnectRefused:  "connect-refused",
}

func (f Fault) String() string {
	if n, ok := faultNames[f]; ok {
		return n
	}
	return fmt.Sprintf("Fault(%d)", int(f))
}

// ParseFault is the inverse of Fault.String.
func ParseFault(s string) (Fault, error) {
	for f, n := range faultNames {
		if n == s {
			return f, nil
		}
	}
	return FaultNone, fmt.Errorf("unknown fault %q (want none, mux-garbage, lockdown-garbage, lockdown-silent, lockdown-reset, tls-stall or connect-refused)", s)
}

// MuxFault makes the usbmuxd socket itself misbehave for every reply
// (torture tests for usbmux clients). Listen events are not affected.
type MuxFault int

const (
	MuxFaultNone        MuxFault = iota
	MuxFaultShortHeader          // header whose length field is below 16
	MuxFaultTruncated            // header promises a payload, half of it arrives, then the socket closes
	MuxFaultHugeLength           // header announces ~4 GiB, nothing follows, socket stays open
	MuxFaultJunk                 // 64 bytes of binary junk instead of a packet
	MuxFaultBadPlist             // well-formed header, payload that is not a plist
	MuxFaultWrongTag             // correct reply but with a tag the client never sent
	MuxFaultSilent               // requests are read and never answered
	MuxFaultClose                // the socket is closed as soon as a request arrives
)

var muxFaultNames = map[MuxFault]string{
	MuxFaultNone:        "none",
	MuxFaultShortHeader: "short-header",
	MuxFaultTruncated:   "truncated",
	MuxFaultHugeLength:  "huge-length",
	MuxFaultJunk:        "junk",
	MuxFaultBadPlist:    "bad-plist",
	MuxFaultWrongTag:    "wrong-tag",
	MuxFaultSilent:      "silent",
	MuxFaultClose:       "close",
}

func (f MuxFault) String() string {
	if n, ok := muxFaultNames[f]; ok {
		return n
	}
	return fmt.Sprintf("MuxFault(%d)", int(f))
}

// ParseMuxFault is the inverse of MuxFault.String.
func ParseMuxFault(s string) (MuxFault, error) {
	for f, n := range muxFaultNames {
		if n == s {
			return f, nil
		}
	}
	return MuxFaultNone, fmt.Errorf("unknown mux fault %q (want none, short-header, truncated, huge-length, junk, bad-plist, wrong-tag, silent or close)", s)
}

// junk is deterministic binary noise that is neither XML nor a binary plist.
var junk = func() []byte {
	b := make([]byte, 64)
	x := uint32(0x9e3779b9)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	b[0] = 0xde // never '<' or 'b'
	return b
}()

// ProxyFault makes a device's com.apple.mobile.notification_proxy (the one
// that needs a session) misbehave, to test observers that hold it open.
type ProxyFault int

const (
	ProxyFaultNone    ProxyFault = iota
	ProxyFaultRefuse             // StartService notification_proxy → InvalidService
	ProxyFaultDrop               // the service connection is closed after ObserveNotification
	ProxyFaultGarbage            // ObserveNotification is answered with a frame that is not a plist
)

var proxyFaultNames = map[ProxyFault]string{
	ProxyFaultNone:    "none",
	ProxyFaultRefuse:  "proxy-refuse",
	ProxyFaultDrop:    "proxy-drop",
	ProxyFaultGarbage: "proxy-garbage",
}

func (f ProxyFault) String() string {
	if n, ok := proxyFaultNames[f]; ok {
		return n
	}
	return fmt.Sprintf("ProxyFault(%d)", int(f))
}
