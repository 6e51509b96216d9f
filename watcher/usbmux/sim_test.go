package usbmux_test

// Integration tests against internal/sim's usbmuxd.

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/trustwatch/trustwatch/internal/sim"
	"github.com/trustwatch/trustwatch/internal/simtest"
	"github.com/trustwatch/trustwatch/watcher/usbmux"
)

// Every address form reaches the same daemon.
func TestSimAddressForms(t *testing.T) {
	s, _ := simtest.StartAddr(t, sim.Options{TCPAddr: "127.0.0.1:0"}, usbmux.ParseAddress)
	s.AddDevice(sim.DeviceConfig{})
	p := s.SocketPath()
	for _, form := range []string{s.Address(), "UNIX://" + p, "UNIX:" + p, "unix://" + p, p, s.TCPAddress(), "tcp://" + s.TCPAddress()} {
		t.Setenv(usbmux.EnvAddress, form)
		a, err := usbmux.AddressFromEnv()
		if err != nil {
			t.Fatalf("%q: %v", form, err)
		}
		devs, err := usbmux.ListDevices(simtest.Ctx(t, 2*time.Second), a)
		if err != nil || len(devs) != 1 {
			t.Fatalf("%q (%s): %v %v", form, a, devs, err)
		}
	}
}

func TestSimListAndListen(t *testing.T) {
	s, addr := simtest.StartAddr(t, sim.Options{}, usbmux.ParseAddress)
	a := s.AddDevice(sim.DeviceConfig{Trusted: true, Network: true})
	ctx := simtest.Ctx(t, 10*time.Second)
	devs, err := usbmux.ListDevices(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	var usb, wifi int
	for _, d := range devs {
		if d.IsUSB() {
			usb++
			if d.DeviceID != a.DeviceID() || d.UDID != a.UDID() || d.LocationID != a.LocationID() || d.ProductID != 0x12a8 {
				t.Fatalf("USB entry %+v", d)
			}
			if usbmux.NormalizeUDID(d.UDID) != a.USBSerial() && usbmux.NormalizeUDID(d.UDID) != usbmux.NormalizeUDID(a.USBSerial()) {
				t.Fatalf("UDID %s does not join USB serial %s", d.UDID, a.USBSerial())
			}
		} else {
			wifi++
			if d.DeviceID != a.NetworkDeviceID() {
				t.Fatalf("network entry %+v", d)
			}
		}
	}
	if usb != 1 || wifi != 1 {
		t.Fatalf("usb %d wifi %d: %+v", usb, wifi, devs)
	}
	l, err := usbmux.Listen(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	seen := map[int]bool{}
	for len(seen) < 2 { // already-visible devices come first
		ev, err := l.Next()
		if err != nil || ev.Kind != usbmux.Attached {
			t.Fatalf("initial %+v %v", ev, err)
		}
		seen[ev.DeviceID] = true
	}
	b := s.AddDevice(sim.DeviceConfig{Name: "Ben"})
	ev, err := l.Next()
	if err != nil || ev.Kind != usbmux.Attached || ev.DeviceID != b.DeviceID() || ev.Device.UDID != b.UDID() {
		t.Fatalf("attach %+v %v", ev, err)
	}
	b.Detach()
	ev, err = l.Next()
	if err != nil || ev.Kind != usbmux.Detached || ev.DeviceID != b.DeviceID() || ev.Device.UDID != b.UDID() {
		t.Fatalf("detach %+v %v", ev, err)
	}
	// Replug gives an Attached again.
	b.Attach()
	ev, err = l.Next()
	if err != nil || ev.Kind != usbmux.Attached || ev.Device.UDID != b.UDID() {
		t.Fatalf("reattach %+v %v", ev, err)
	}
	// SavePairRecord with DeviceID: Paired to every listener.
	if err := usbmux.SavePairRecord(ctx, addr, b.UDID(), ev.DeviceID, []byte("<plist/>")); err != nil {
		t.Fatal(err)
	}
	for {
		ev, err = l.Next()
		if err != nil {
			t.Fatal(err)
		}
		if ev.Kind == usbmux.Paired {
			break
		}
	}
	if ev.DeviceID != b.DeviceID() || ev.Device.UDID != b.UDID() {
		t.Fatalf("paired %+v", ev)
	}
}

// usbmuxd going away and coming back: Next ends with ErrDaemonGone, requests
// say ErrUnreachable, and a new Listen works after Restart.
func TestSimDaemonRestart(t *testing.T) {
	s, addr := simtest.StartAddr(t, sim.Options{}, usbmux.ParseAddress)
	s.AddDevice(sim.DeviceConfig{})
	l, err := usbmux.Listen(simtest.Ctx(t, 2*time.Second), addr)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if ev, err := l.Next(); err != nil || ev.Kind != usbmux.Attached {
		t.Fatalf("%+v %v", ev, err)
	}
	errc := make(chan error, 1)
	go func() { _, err := l.Next(); errc <- err }()
	time.Sleep(20 * time.Millisecond)
	s.Stop()
	select {
	case err := <-errc:
		if !errors.Is(err, usbmux.ErrDaemonGone) {
			t.Fatalf("Next after Stop: %v", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Next did not return after the daemon stopped")
	}
	if _, err := usbmux.ListDevices(simtest.Ctx(t, time.Second), addr); !errors.Is(err, usbmux.ErrUnreachable) {
		t.Fatalf("ListDevices while stopped: %v", err)
	}
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	l2, err := usbmux.Listen(simtest.Ctx(t, 2*time.Second), addr)
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	if ev, err := l2.Next(); err != nil || ev.Kind != usbmux.Attached {
		t.Fatalf("after restart %+v %v", ev, err)
	}
}

// Each way the daemon's socket can misbehave gives a clean, typed error in
// bounded time, without leaking sockets or goroutines.
func TestSimMuxFaults(t *testing.T) {
	s, addr := simtest.StartAddr(t, sim.Options{}, usbmux.ParseAddress)
	d := s.AddDevice(sim.DeviceConfig{Trusted: true})
	cases := []struct {
		fault sim.MuxFault
		want  error
	}{
		{sim.MuxFaultShortHeader, usbmux.ErrProtocol},
		{sim.MuxFaultTruncated, usbmux.ErrProtocol},
		{sim.MuxFaultHugeLength, usbmux.ErrProtocol},
		{sim.MuxFaultJunk, usbmux.ErrProtocol},
		{sim.MuxFaultBadPlist, usbmux.ErrProtocol},
		{sim.MuxFaultWrongTag, usbmux.ErrProtocol},
		{sim.MuxFaultSilent, usbmux.ErrTimeout},
		{sim.MuxFaultClose, usbmux.ErrDaemonGone},
	}
	fds := simtest.FDs(t)
	gor := simtest.Goroutines()
	for _, tc := range cases {
		t.Run(tc.fault.String(), func(t *testing.T) {
			s.SetMuxFault(tc.fault)
			defer s.SetMuxFault(sim.MuxFaultNone)
			start := time.Now()
			calls := map[string]func(ctx context.Context) error{
				"ListDevices": func(ctx context.Context) error { _, err := usbmux.ListDevices(ctx, addr); return err },
				"ReadBUID":    func(ctx context.Context) error { _, err := usbmux.ReadBUID(ctx, addr); return err },
				"ReadPairRecord": func(ctx context.Context) error {
					_, err := usbmux.ReadPairRecord(ctx, addr, d.UDID())
					return err
				},
				"Connect": func(ctx context.Context) error {
					c, err := usbmux.Connect(ctx, addr, d.DeviceID(), 62078)
					if c != nil {
						c.Close()
					}
					return err
				},
				"Listen": func(ctx context.Context) error {
					l, err := usbmux.Listen(ctx, addr)
					if l != nil {
						l.Close()
					}
					return err
				},
			}
			for name, call := range calls {
				if err := call(simtest.Ctx(t, 200*time.Millisecond)); !errors.Is(err, tc.want) {
					t.Errorf("%s: %v, want %v", name, err, tc.want)
				}
			}
			if took := time.Since(start); took > 4*time.Second { // 5 calls × 200 ms at most
				t.Fatalf("took %v", took)
			}
		})
	}
	// Back to normal, the same daemon answers again.
	if _, err := usbmux.ListDevices(simtest.Ctx(t, time.Second), addr); err != nil {
		t.Fatal(err)
	}
	simtest.WaitFDs(t, fds)
	simtest.WaitGoroutines(t, gor)
}
