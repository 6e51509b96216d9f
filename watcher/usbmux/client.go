package usbmux

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"

	"github.com/trustwatch/trustwatch/watcher/internal/connerr"
)

// DefaultTimeout bounds a request whose context has no deadline. libusbmuxd
// waits 5 s for a reply too.
const DefaultTimeout = 5 * time.Second

// Identity keys sent with every request, as libusbmuxd does, so the daemon's
// ListListeners and logs name us.
var (
	ProgName            = "trustwatch"
	ClientVersionString = "trustwatch-usbmux-1"
)

const libUSBMuxVersion = 3

// ErrUnreachable wraps a failure to connect to the daemon at all (not
// running, socket missing, permission denied, AMDS not installed).
var ErrUnreachable = errors.New("usbmux: daemon not reachable")

// ErrBusy: usbmuxd's connection queue stayed full (EAGAIN on connect)
// through every retry. It is running, but swamped by other clients.
var ErrBusy = errors.New("usbmuxd is busy")

// busyRetries are the pauses between connect attempts that found the
// queue full: about 1.5 s in all, within any request's budget.
var busyRetries = []time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond}

// dialRetry connects, retrying with backoff while the daemon's queue is full.
func dialRetry(ctx context.Context, addr Address) (net.Conn, error) {
	start := time.Now()
	for i := 0; ; i++ {
		c, err := addr.Dial(ctx)
		if err == nil || !errors.Is(err, syscall.EAGAIN) {
			return c, err
		}
		if i == len(busyRetries) {
			return nil, fmt.Errorf("%w: its connection queue stayed full for %s (%d tries): %w", ErrBusy, time.Since(start).Round(10*time.Millisecond), i+1, err)
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(busyRetries[i]):
		}
	}
}

// requestTag is the tag of our single request per connection; replies must
// echo it, Listen events use 0.
const requestTag = 1

// pastTime unblocks pending I/O when a context is cancelled.
var pastTime = time.Unix(1, 0)

func newRequest(msgType string) map[string]any {
	return map[string]any{
		"MessageType":         msgType,
		"ProgName":            ProgName,
		"ClientVersionString": ClientVersionString,
		"kLibUSBMuxVersion":   libUSBMuxVersion,
	}
}

// roundTrip opens a connection, sends req and reads the reply. With keep the
// connection is returned open with its deadline cleared (Connect, Listen);
// otherwise it is closed. On error it is always closed.
func roundTrip(ctx context.Context, addr Address, req map[string]any, keep bool) (net.Conn, map[string]any, error) {
	op, _ := req["MessageType"].(string)
	if err := ctx.Err(); err != nil {
		return nil, nil, classify(ctx, op, err)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
		defer cancel()
	}
	frame, err := encodeFrame(requestTag, req)
	if err != nil {
		return nil, nil, err
	}
	c, err := dialRetry(ctx, addr)
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, classify(ctx, op, ctx.Err())
		}
		if errors.Is(err, ErrBusy) {
			return nil, nil, err
		}
		return nil, nil, fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	deadline, _ := ctx.Deadline()
	if err := c.SetDeadline(deadline); err != nil {
		c.Close()
		return nil, nil, fmt.Errorf("usbmux: %s: set deadline: %w", op, err)
	}
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(pastTime) })
	reply, err := exchange(ctx, c, frame)
	if !stop() && err == nil {
		// The context ended while we finished; the deadline may have been
		// moved into the past under us, so the connection is not usable.
		err = ctx.Err()
	}
	if err != nil {
		c.Close()
		return nil, nil, classify(ctx, op, err)
	}
	if !keep {
		c.Close()
		return nil, reply, nil
	}
	if err := c.SetDeadline(time.Time{}); err != nil {
		c.Close()
		return nil, nil, fmt.Errorf("usbmux: %s: clear deadline: %w", op, err)
	}
	return c, reply, nil
}

func exchange(ctx context.Context, c net.Conn, frame []byte) (map[string]any, error) {
	if _, err := c.Write(frame); err != nil {
		return nil, err
	}
	for {
		h, m, err := readFrame(ctx, c)
		if err != nil {
			return nil, err
		}
		if h.Tag == requestTag {
			return m, nil
		}
		if h.Tag != 0 {
			return nil, fmt.Errorf("%w: reply tag %d, want %d", ErrProtocol, h.Tag, requestTag)
		}
		// Tag 0 is an unsolicited event; not expected on a request
		// connection, but harmless to skip.
	}
}

// classify turns I/O errors into the package's sentinel errors, keeping the
// cause for the message.
func classify(ctx context.Context, op string, err error) error {
	var ne net.Error
	switch {
	case errors.Is(err, ErrProtocol):
		return fmt.Errorf("usbmux: %s: %w", op, err)
	case errors.Is(ctx.Err(), context.Canceled):
		return fmt.Errorf("usbmux: %s: %w", op, ctx.Err())
	case ctx.Err() != nil, errors.As(err, &ne) && ne.Timeout():
		return fmt.Errorf("usbmux: %s: %w: %w", op, ErrTimeout, err)
	case isGone(err):
		return fmt.Errorf("usbmux: %s: %w: %w", op, ErrDaemonGone, err)
	}
	return fmt.Errorf("usbmux: %s: %w", op, err)
}

func isGone(err error) bool { return connerr.Gone(err) }

// resultNumber reports the Number of a {MessageType: Result} reply.
func resultNumber(m map[string]any) (int64, bool) {
	if mt, _ := m["MessageType"].(string); mt != "Result" {
		return 0, false
	}
	return asInt(m["Number"])
}

// expectOK checks a reply that must be Result 0.
func expectOK(op string, m map[string]any) error {
	n, ok := resultNumber(m)
	if !ok {
		return fmt.Errorf("usbmux: %s: %w: reply is not a Result", op, ErrProtocol)
	}
	if n != ResultOK {
		return &ResultError{Request: op, Number: n}
	}
	return nil
}

// ListDevices returns every device the daemon currently lists, including
// Wi-Fi ones (filter with IsUSB). Entries without a DeviceID are dropped.
func ListDevices(ctx context.Context, addr Address) ([]DeviceInfo, error) {
	_, m, err := roundTrip(ctx, addr, newRequest("ListDevices"), false)
	if err != nil {
		return nil, err
	}
	raw, ok := m["DeviceList"]
	if !ok {
		if n, isResult := resultNumber(m); isResult {
			if n == ResultOK {
				// A binary-protocol daemon says "OK" and sends no list:
				// the daemon's fault, not a refusal.
				return nil, fmt.Errorf("usbmux: ListDevices: %w: usbmuxd answered Result 0 without a device list (does it speak the plist protocol?)", ErrProtocol)
			}
			return nil, &ResultError{Request: "ListDevices", Number: n}
		}
		return nil, fmt.Errorf("usbmux: ListDevices: %w: reply has no DeviceList", ErrProtocol)
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, fmt.Errorf("usbmux: ListDevices: %w: DeviceList is %T, want an array", ErrProtocol, raw)
	}
	out := make([]DeviceInfo, 0, len(list))
	for _, e := range list {
		em, ok := e.(map[string]any)
		if !ok {
			continue
		}
		if d, ok := decodeDevice(em); ok {
			out = append(out, d)
		}
	}
	return out, nil
}

// ReadBUID returns the daemon's SystemBUID, the host identity every pair
// record from this daemon carries.
func ReadBUID(ctx context.Context, addr Address) (string, error) {
	_, m, err := roundTrip(ctx, addr, newRequest("ReadBUID"), false)
	if err != nil {
		return "", err
	}
	if s, ok := asString(m["BUID"]); ok && s != "" {
		return s, nil
	}
	if n, ok := resultNumber(m); ok {
		return "", &ResultError{Request: "ReadBUID", Number: n}
	}
	return "", fmt.Errorf("usbmux: ReadBUID: %w: reply has no BUID", ErrProtocol)
}

// ReadPairRecord returns the stored pair record (an XML plist) for udid, or
// ErrNoPairRecord. It shows nothing on the phone, so it is safe to poll.
func ReadPairRecord(ctx context.Context, addr Address, udid string) ([]byte, error) {
	if udid == "" {
		return nil, errors.New("usbmux: ReadPairRecord: empty UDID")
	}
	req := newRequest("ReadPairRecord")
	req["PairRecordID"] = udid
	_, m, err := roundTrip(ctx, addr, req, false)
	if err != nil {
		return nil, err
	}
	if data, ok := m["PairRecordData"].([]byte); ok {
		if len(data) == 0 {
			return nil, fmt.Errorf("usbmux: ReadPairRecord %s: %w: empty PairRecordData", udid, ErrProtocol)
		}
		return data, nil
	}
	if n, ok := resultNumber(m); ok {
		if n == ResultBadDevice { // ENOENT
			return nil, fmt.Errorf("usbmux: ReadPairRecord %s: %w", udid, ErrNoPairRecord)
		}
		return nil, &ResultError{Request: "ReadPairRecord", Number: n}
	}
	return nil, fmt.Errorf("usbmux: ReadPairRecord %s: %w: reply has no PairRecordData", udid, ErrProtocol)
}

// SavePairRecord stores a pair record. DeviceID is always sent so the daemon
// tells every Listen client Paired, as libimobiledevice does.
func SavePairRecord(ctx context.Context, addr Address, udid string, deviceID int, data []byte) error {
	if udid == "" {
		return errors.New("usbmux: SavePairRecord: empty UDID")
	}
	if len(data) == 0 {
		return errors.New("usbmux: SavePairRecord: empty record")
	}
	req := newRequest("SavePairRecord")
	req["PairRecordID"] = udid
	req["PairRecordData"] = data
	req["DeviceID"] = deviceID
	_, m, err := roundTrip(ctx, addr, req, false)
	if err != nil {
		return err
	}
	return expectOK("SavePairRecord", m)
}

// DeletePairRecord removes the stored record for udid. A missing record
// gives ErrNoPairRecord.
func DeletePairRecord(ctx context.Context, addr Address, udid string) error {
	if udid == "" {
		return errors.New("usbmux: DeletePairRecord: empty UDID")
	}
	req := newRequest("DeletePairRecord")
	req["PairRecordID"] = udid
	_, m, err := roundTrip(ctx, addr, req, false)
	if err != nil {
		return err
	}
	if n, ok := resultNumber(m); ok && n == ResultBadDevice {
		return fmt.Errorf("usbmux: DeletePairRecord %s: %w", udid, ErrNoPairRecord)
	}
	return expectOK("DeletePairRecord", m)
}

// Connect opens a raw byte pipe to a TCP port on the device (62078 for
// lockdownd). The returned conn has no deadline; the caller owns it.
func Connect(ctx context.Context, addr Address, deviceID int, port uint16) (net.Conn, error) {
	if deviceID < 0 {
		return nil, fmt.Errorf("usbmux: Connect: invalid DeviceID %d", deviceID)
	}
	req := newRequest("Connect")
	req["DeviceID"] = deviceID
	// Network byte order even inside the plist (libusbmuxd htons).
	req["PortNumber"] = int(port>>8 | port<<8)
	c, m, err := roundTrip(ctx, addr, req, true)
	if err != nil {
		return nil, err
	}
	n, ok := resultNumber(m)
	switch {
	case !ok:
		err = fmt.Errorf("usbmux: Connect: %w: reply is not a Result", ErrProtocol)
	case n == ResultOK:
		return c, nil
	case n == ResultBadDevice:
		err = fmt.Errorf("usbmux: Connect device %d port %d: %w", deviceID, port, ErrBadDevice)
	case n == ResultConnRefused:
		err = fmt.Errorf("usbmux: Connect device %d port %d: %w", deviceID, port, ErrConnectionRefused)
	default:
		err = &ResultError{Request: "Connect", Number: n}
	}
	c.Close()
	return nil, err
}
