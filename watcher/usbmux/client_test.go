package usbmux

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/trustwatch/trustwatch/internal/simtest"
)

func TestListDevices(t *testing.T) {
	var got map[string]any
	f := newFakeMux(t, oneShot(func(req map[string]any) map[string]any {
		got = req
		weird := attachedMsg(7, "ABC", "USB")
		props := weird["Properties"].(map[string]any)
		props["ProductID"] = "4776"            // string instead of integer
		props["LocationID"] = "not a number"   // mistyped: ignored
		props["ConnectionSpeed"] = 480000000.0 // real instead of integer
		props["Unknown"] = []any{1, 2}
		return map[string]any{"DeviceList": []any{
			attachedMsg(3, "00008030-001A2B3C4D5E6F70", "USB"),
			attachedMsg(4, "00008030-001A2B3C4D5E6F70", "Network"),
			map[string]any{"MessageType": "Attached", "Properties": map[string]any{"SerialNumber": "X"}}, // no DeviceID
			"junk",
			weird,
			map[string]any{"DeviceID": 9}, // no Properties at all
		}}
	}))
	devs, err := ListDevices(simtest.Ctx(t, 2*time.Second), f.addr)
	if err != nil {
		t.Fatal(err)
	}
	want := []DeviceInfo{
		{DeviceID: 3, UDID: "00008030-001A2B3C4D5E6F70", ConnectionType: "USB", LocationID: 1<<16 | 5, ProductID: 0x12a8, SpeedBps: 480000000},
		{DeviceID: 4, UDID: "00008030-001A2B3C4D5E6F70", ConnectionType: "Network", LocationID: 1<<16 | 5, ProductID: 0x12a8, SpeedBps: 480000000},
		{DeviceID: 7, UDID: "ABC", ConnectionType: "USB", ProductID: 4776, SpeedBps: 480000000},
		{DeviceID: 9},
	}
	if len(devs) != len(want) {
		t.Fatalf("got %d devices %+v, want %d", len(devs), devs, len(want))
	}
	for i := range want {
		if devs[i] != want[i] {
			t.Errorf("device %d = %+v, want %+v", i, devs[i], want[i])
		}
	}
	if !devs[0].IsUSB() || devs[1].IsUSB() || devs[3].IsUSB() {
		t.Errorf("IsUSB wrong: %v %v %v", devs[0].IsUSB(), devs[1].IsUSB(), devs[3].IsUSB())
	}
	if got["MessageType"] != "ListDevices" || got["ProgName"] != "trustwatch" ||
		got["ClientVersionString"] == nil || got["kLibUSBMuxVersion"] != uint64(3) {
		t.Errorf("request lacks identity keys: %v", got)
	}
}

func TestListDevicesEmptyAndErrors(t *testing.T) {
	cases := []struct {
		name  string
		reply map[string]any
		check func(t *testing.T, devs []DeviceInfo, err error)
	}{
		{"empty", map[string]any{"DeviceList": []any{}}, func(t *testing.T, d []DeviceInfo, err error) {
			if err != nil || d == nil || len(d) != 0 {
				t.Fatalf("got %v %v, want empty non-nil slice", d, err)
			}
		}},
		{"result", result(1), func(t *testing.T, d []DeviceInfo, err error) {
			var re *ResultError
			if !errors.As(err, &re) || re.Number != 1 || !errors.Is(err, ErrBadCommand) {
				t.Fatalf("got %v", err)
			}
		}},
		{"no list", map[string]any{"Foo": 1}, func(t *testing.T, d []DeviceInfo, err error) {
			if !errors.Is(err, ErrProtocol) {
				t.Fatalf("got %v", err)
			}
		}},
		{"list not array", map[string]any{"DeviceList": "x"}, func(t *testing.T, d []DeviceInfo, err error) {
			if !errors.Is(err, ErrProtocol) {
				t.Fatalf("got %v", err)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeMux(t, oneShot(func(map[string]any) map[string]any { return c.reply }))
			d, err := ListDevices(simtest.Ctx(t, 2*time.Second), f.addr)
			c.check(t, d, err)
		})
	}
}

func TestReadBUID(t *testing.T) {
	f := newFakeMux(t, oneShot(func(req map[string]any) map[string]any {
		if req["MessageType"] != "ReadBUID" {
			return result(1)
		}
		return map[string]any{"BUID": "1A2B-BUID"}
	}))
	b, err := ReadBUID(simtest.Ctx(t, 2*time.Second), f.addr)
	if err != nil || b != "1A2B-BUID" {
		t.Fatalf("ReadBUID = %q, %v", b, err)
	}
	g := newFakeMux(t, oneShot(func(map[string]any) map[string]any { return map[string]any{"BUID": 5} }))
	if _, err := ReadBUID(simtest.Ctx(t, 2*time.Second), g.addr); !errors.Is(err, ErrProtocol) {
		t.Fatalf("mistyped BUID: %v", err)
	}
}

func TestPairRecords(t *testing.T) {
	store := map[string][]byte{}
	var savedDeviceID any
	f := newFakeMux(t, oneShot(func(req map[string]any) map[string]any {
		id, _ := req["PairRecordID"].(string)
		switch req["MessageType"] {
		case "ReadPairRecord":
			if id == "" {
				return result(22)
			}
			if id == "EIO" {
				return result(5)
			}
			if d, ok := store[id]; ok {
				return map[string]any{"PairRecordData": d}
			}
			return result(2)
		case "SavePairRecord":
			store[id], _ = req["PairRecordData"].([]byte)
			savedDeviceID = req["DeviceID"]
			return result(0)
		case "DeletePairRecord":
			if _, ok := store[id]; !ok {
				return result(2)
			}
			delete(store, id)
			return result(0)
		}
		return result(1)
	}))
	ctx := simtest.Ctx(t, 5*time.Second)
	const udid = "00008030-001A2B3C4D5E6F70"
	if _, err := ReadPairRecord(ctx, f.addr, udid); !errors.Is(err, ErrNoPairRecord) {
		t.Fatalf("missing record: %v", err)
	}
	if _, err := ReadPairRecord(ctx, f.addr, "EIO"); err == nil || errors.Is(err, ErrNoPairRecord) {
		t.Fatalf("errno 5 must be a plain ResultError: %v", err)
	} else if re := (*ResultError)(nil); !errors.As(err, &re) || re.Number != 5 {
		t.Fatalf("errno 5: %v", err)
	}
	if _, err := ReadPairRecord(ctx, f.addr, ""); err == nil {
		t.Fatal("empty UDID accepted")
	}
	rec := []byte("<plist>record</plist>")
	if err := SavePairRecord(ctx, f.addr, udid, 42, rec); err != nil {
		t.Fatal(err)
	}
	if savedDeviceID != uint64(42) {
		t.Fatalf("SavePairRecord sent DeviceID %v (%T), want 42", savedDeviceID, savedDeviceID)
	}
	got, err := ReadPairRecord(ctx, f.addr, udid)
	if err != nil || !bytes.Equal(got, rec) {
		t.Fatalf("ReadPairRecord = %q, %v", got, err)
	}
	if err := DeletePairRecord(ctx, f.addr, udid); err != nil {
		t.Fatal(err)
	}
	if err := DeletePairRecord(ctx, f.addr, udid); !errors.Is(err, ErrNoPairRecord) {
		t.Fatalf("second delete: %v", err)
	}
	if err := SavePairRecord(ctx, f.addr, udid, 1, nil); err == nil {
		t.Fatal("empty record accepted")
	}
}

func TestConnect(t *testing.T) {
	f := newFakeMux(t, func(c net.Conn) {
		h, req, err := readReq(c)
		if err != nil {
			return
		}
		id, _ := asInt(req["DeviceID"])
		port, _ := asInt(req["PortNumber"])
		switch {
		case req["MessageType"] != "Connect":
			_ = writeMsg(c, h.Tag, result(1))
		case id != 1:
			_ = writeMsg(c, h.Tag, result(2))
		case port != 32498: // 62078 byte-swapped
			_ = writeMsg(c, h.Tag, result(3))
		default:
			_ = writeMsg(c, h.Tag, result(0))
			_, _ = io.Copy(c, c) // echo: the socket is now the device port
		}
	})
	ctx := simtest.Ctx(t, 5*time.Second)
	before := simtest.FDs(t)
	c, err := Connect(ctx, f.addr, 1, 62078)
	if err != nil {
		t.Fatal(err)
	}
	// The returned conn must have no deadline left from the request.
	time.Sleep(10 * time.Millisecond)
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("echo: %q %v", buf, err)
	}
	c.Close()
	if _, err := Connect(ctx, f.addr, 2, 62078); !errors.Is(err, ErrBadDevice) {
		t.Fatalf("bad device: %v", err)
	}
	if _, err := Connect(ctx, f.addr, 1, 1234); !errors.Is(err, ErrConnectionRefused) {
		t.Fatalf("refused: %v", err)
	}
	// The fake daemon closes its end a moment after we close ours: wait.
	simtest.WaitFDs(t, before)
}

func TestGarbageReplies(t *testing.T) {
	bigHeader := func(n uint32) func(net.Conn) {
		return func(c net.Conn) {
			if _, _, err := readReq(c); err != nil {
				return
			}
			_ = writeRaw(c, n, 1, msgPlist, requestTag, nil)
			// Keep the connection open: a reader that believed the length
			// would wait for the body instead of failing.
			_, _ = io.Copy(io.Discard, c)
		}
	}
	cases := []struct {
		name   string
		handle func(net.Conn)
		want   error
	}{
		{"length below header", bigHeader(3), ErrProtocol},
		{"length zero", bigHeader(0), ErrProtocol},
		{"length 4GiB", bigHeader(0xFFFFFFFF), ErrProtocol},
		{"length just over cap", bigHeader(MaxFrameSize + 1), ErrProtocol},
		{"truncated body", func(c net.Conn) {
			h, _, err := readReq(c)
			if err != nil {
				return
			}
			_ = writeRaw(c, 100, 1, msgPlist, h.Tag, []byte("<?xml"))
		}, ErrProtocol},
		{"truncated header", func(c net.Conn) {
			if _, _, err := readReq(c); err == nil {
				_, _ = c.Write([]byte{1, 2, 3})
			}
		}, ErrProtocol},
		{"binary junk body", func(c net.Conn) {
			h, _, err := readReq(c)
			if err != nil {
				return
			}
			junk := []byte{0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
			_ = writeRaw(c, uint32(headerSize+len(junk)), 1, msgPlist, h.Tag, junk)
		}, ErrProtocol},
		{"broken bplist", func(c net.Conn) {
			h, _, err := readReq(c)
			if err != nil {
				return
			}
			b := append([]byte("bplist00"), bytes.Repeat([]byte{0xff}, 40)...)
			_ = writeRaw(c, uint32(headerSize+len(b)), 1, msgPlist, h.Tag, b)
		}, ErrProtocol},
		{"top level array", func(c net.Conn) {
			h, _, err := readReq(c)
			if err != nil {
				return
			}
			b := []byte(`<?xml version="1.0"?><plist version="1.0"><array><integer>1</integer></array></plist>`)
			_ = writeRaw(c, uint32(headerSize+len(b)), 1, msgPlist, h.Tag, b)
		}, ErrProtocol},
		{"wrong tag", func(c net.Conn) {
			if _, _, err := readReq(c); err == nil {
				_ = writeMsg(c, 99, result(0))
			}
		}, ErrProtocol},
		{"unknown message type", func(c net.Conn) {
			h, _, err := readReq(c)
			if err == nil {
				_ = writeRaw(c, headerSize+4, 0, 77, h.Tag, []byte{0, 0, 0, 0})
			}
		}, ErrProtocol},
		{"closes without reply", func(c net.Conn) { _, _, _ = readReq(c) }, ErrDaemonGone},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeMux(t, c.handle)
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			start := time.Now()
			_, err := ListDevices(simtest.Ctx(t, 3*time.Second), f.addr)
			runtime.ReadMemStats(&ms1)
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Fatalf("took %v: waited instead of failing", d)
			}
			if alloc := ms1.TotalAlloc - ms0.TotalAlloc; alloc > 8<<20 {
				t.Fatalf("allocated %d bytes for a bad frame", alloc)
			}
		})
	}
}

func TestBinaryResult(t *testing.T) {
	// Old daemons answer with a binary RESULT; it is the same as Result 0.
	f := newFakeMux(t, func(c net.Conn) {
		h, _, err := readReq(c)
		if err == nil {
			_ = writeRaw(c, headerSize+4, 0, msgResult, h.Tag, []byte{3, 0, 0, 0})
		}
	})
	if _, err := Connect(simtest.Ctx(t, 2*time.Second), f.addr, 1, 62078); !errors.Is(err, ErrConnectionRefused) {
		t.Fatalf("binary result 3: %v", err)
	}
}

// A daemon that accepts and never answers must cost bounded time and leave
// no socket or goroutine behind.
func TestSilentDaemon(t *testing.T) {
	f := newFakeMux(t, func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })
	fds := simtest.FDs(t)
	gor := simtest.Goroutines()
	start := time.Now()
	for i := 0; i < 5; i++ {
		_, err := ListDevices(simtest.Ctx(t, 150*time.Millisecond), f.addr)
		if !errors.Is(err, ErrTimeout) {
			t.Fatalf("ListDevices: %v, want ErrTimeout", err)
		}
		_, err = Connect(simtest.Ctx(t, 100*time.Millisecond), f.addr, 1, 62078)
		if !errors.Is(err, ErrTimeout) {
			t.Fatalf("Connect: %v, want ErrTimeout", err)
		}
		_, err = Listen(simtest.Ctx(t, 100*time.Millisecond), f.addr)
		if !errors.Is(err, ErrTimeout) {
			t.Fatalf("Listen: %v, want ErrTimeout", err)
		}
	}
	if d := time.Since(start); d > 6*time.Second { // ~1.8 s expected; slack for loaded CI
		t.Fatalf("15 timed-out requests took %v", d)
	}
	// Cancellation (not a deadline) ends a request too.
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	if _, err := ReadBUID(ctx, f.addr); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled ReadBUID: %v", err)
	}
	// The server side closes when our client side closed.
	simtest.WaitFDs(t, fds)
	simtest.WaitGoroutines(t, gor)
}

func TestUnreachable(t *testing.T) {
	a := Address{Network: "unix", Path: "/nonexistent/trustwatch-test.sock"}
	_, err := ListDevices(simtest.Ctx(t, time.Second), a)
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "/nonexistent/trustwatch-test.sock") {
		t.Fatalf("got %v", err)
	}
	// A closed TCP port: connection refused, quickly.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tcp := ln.Addr().String()
	ln.Close()
	a, _ = ParseAddress(tcp)
	if _, err := ReadBUID(simtest.Ctx(t, time.Second), a); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("closed port: %v", err)
	}
	if _, err := (Address{Network: "udp", Path: "x"}).Dial(context.Background()); err == nil {
		t.Fatal("udp accepted")
	}
}

func TestTCPAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		oneShot(func(map[string]any) map[string]any { return map[string]any{"BUID": "TCP"} })(c)
	}()
	defer func() { ln.Close(); <-done }()
	a, err := ParseAddress("tcp://" + ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if b, err := ReadBUID(simtest.Ctx(t, 2*time.Second), a); err != nil || b != "TCP" {
		t.Fatalf("ReadBUID over TCP: %q %v", b, err)
	}
}
