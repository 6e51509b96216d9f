package usbmux

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/trustwatch/trustwatch/internal/simtest"
)

func TestListen(t *testing.T) {
	push := make(chan map[string]any, 10)
	f := newFakeMux(t, func(c net.Conn) {
		h, req, err := readReq(c)
		if err != nil || req["MessageType"] != "Listen" {
			return
		}
		// Slow daemon: the Result arrives after a while; Listen must wait.
		time.Sleep(30 * time.Millisecond)
		_ = writeMsg(c, h.Tag, result(0))
		_ = writeMsg(c, 0, attachedMsg(1, "00008030-001A2B3C4D5E6F70", "USB"))
		for m := range push {
			if m == nil {
				return // daemon dies
			}
			if err := writeMsg(c, 0, m); err != nil {
				return
			}
		}
	})
	l, err := Listen(simtest.Ctx(t, 2*time.Second), f.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	next := func() Event {
		t.Helper()
		ev, err := l.Next()
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	ev := next()
	if ev.Kind != Attached || ev.DeviceID != 1 || ev.Device.UDID != "00008030-001A2B3C4D5E6F70" || !ev.Device.IsUSB() {
		t.Fatalf("first event %+v", ev)
	}
	// Events after an idle period longer than the Listen deadline still arrive.
	time.Sleep(100 * time.Millisecond)
	push <- map[string]any{"MessageType": "Result", "Number": 0}     // skipped
	push <- map[string]any{"MessageType": "Whatever", "DeviceID": 1} // skipped
	push <- map[string]any{"MessageType": "Paired", "DeviceID": 1}
	ev = next()
	if ev.Kind != Paired || ev.DeviceID != 1 || ev.Device.UDID != "00008030-001A2B3C4D5E6F70" {
		t.Fatalf("paired event %+v", ev)
	}
	push <- map[string]any{"MessageType": "Detached", "DeviceID": 1}
	ev = next()
	if ev.Kind != Detached || ev.Device.UDID != "00008030-001A2B3C4D5E6F70" {
		t.Fatalf("detached event %+v", ev)
	}
	push <- map[string]any{"MessageType": "Detached", "DeviceID": 8}
	if ev = next(); ev.Kind != Detached || ev.DeviceID != 8 || ev.Device.UDID != "" {
		t.Fatalf("unknown detach %+v", ev)
	}
	push <- nil
	if _, err := l.Next(); !errors.Is(err, ErrDaemonGone) {
		t.Fatalf("after daemon exit: %v", err)
	}
	if _, err := l.Next(); !errors.Is(err, ErrDaemonGone) {
		t.Fatalf("error is not sticky: %v", err)
	}
	close(push)
}

func TestListenCloseUnblocks(t *testing.T) {
	f := newFakeMux(t, func(c net.Conn) {
		h, _, err := readReq(c)
		if err != nil {
			return
		}
		_ = writeMsg(c, h.Tag, result(0))
		buf := make([]byte, 1)
		_, _ = c.Read(buf) // until the client closes
	})
	fds := simtest.FDs(t)
	gor := simtest.Goroutines()
	l, err := Listen(simtest.Ctx(t, 2*time.Second), f.addr)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { _, err := l.Next(); errc <- err }()
	time.Sleep(50 * time.Millisecond)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("Next after Close: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Close did not unblock Next")
	}
	if err := l.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	simtest.WaitFDs(t, fds)
	simtest.WaitGoroutines(t, gor)
}

func TestListenRefused(t *testing.T) {
	f := newFakeMux(t, oneShot(func(map[string]any) map[string]any { return result(1) }))
	if _, err := Listen(simtest.Ctx(t, 2*time.Second), f.addr); !errors.Is(err, ErrBadCommand) {
		t.Fatalf("got %v", err)
	}
}
