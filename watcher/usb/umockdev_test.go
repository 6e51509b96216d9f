//go:build umockdev && cgo && linux

// These tests drive the real libusb (through gousb) against fake devices in
// a umockdev testbed. Run them with scripts/test-usb.sh, or:
//
//	go test -tags umockdev -exec umockdev-wrapper ./watcher/usb/...
package usb

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/trustwatch/trustwatch/internal/simtest"
	"github.com/trustwatch/trustwatch/internal/umockdev"
)

const (
	hub      = "/sys/devices/pci0000:00/0000:00:14.0/usb1"
	iphoneSP = hub + "/1-1"
	iphone2  = hub + "/1-2"
	dfuSP    = hub + "/1-3"
	recovSP  = hub + "/1-4"
	kbdSP    = hub + "/1-6"
	udid     = "00008030001A2B3C4D5E6F70"
)

var tb *umockdev.Testbed

func TestMain(m *testing.M) {
	idleChildMain()
	if !umockdev.InWrapper() {
		msg := "*** USB tests need umockdev-wrapper: go test -tags umockdev -exec umockdev-wrapper ./watcher/usb/... (apt-get install umockdev libumockdev-dev libusb-1.0-0-dev) ***"
		if os.Getenv("CI") == "true" {
			fmt.Fprintln(os.Stderr, "FAIL:", msg)
			os.Exit(1)
		}
		fmt.Fprintln(os.Stderr, "SKIP:", msg)
		os.Exit(0)
	}
	var err error
	tb, err = umockdev.New()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := tb.AddFromFile(fixture("roothub")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	tb.Close()
	os.Exit(code)
}

func fixture(name string) string {
	return filepath.Join("..", "..", "testdata", "usb", name+".umockdev")
}

// plug adds a fixture and unplugs it when the test ends (if still there).
func plug(t testing.TB, name, syspath string) {
	t.Helper()
	if err := tb.AddFromFile(fixture(name)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := os.Stat(tb.Root() + syspath); err == nil {
			tb.Unplug(syspath)
		}
	})
}

func unplug(t testing.TB, syspath string) {
	t.Helper()
	if err := tb.Unplug(syspath); err != nil {
		t.Fatal(err)
	}
}

func list(t testing.TB) []Device {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	devs, err := List(ctx)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	return devs
}

func TestAvailable(t *testing.T) {
	if ok, why := Available(); !ok {
		t.Fatalf("Available() = false, %q under umockdev", why)
	}
}

func TestListEmpty(t *testing.T) {
	if devs := list(t); len(devs) != 0 {
		t.Fatalf("List with only a root hub = %v, want none", devs)
	}
}

func TestListVariants(t *testing.T) {
	cases := []struct {
		fixture, syspath string
		want             Device
	}{
		{"iphone", iphoneSP, Device{Bus: 1, Address: 5, Port: 1, Path: "1-1", ProductID: 0x12A8, SpeedMbps: 480, Serial: udid, Kind: KindMobile, HasUsbmux: true}},
		{"iphone-fullspeed", iphoneSP, Device{Bus: 1, Address: 5, Port: 1, Path: "1-1", ProductID: 0x12A8, SpeedMbps: 12, Serial: udid, Kind: KindMobile, HasUsbmux: true}},
		{"iphone2", iphone2, Device{Bus: 1, Address: 6, Port: 2, Path: "1-2", ProductID: 0x12A8, SpeedMbps: 480, Serial: "00008101000A1B2C3D4E5F60", Kind: KindMobile, HasUsbmux: true}},
		{"dfu", dfuSP, Device{Bus: 1, Address: 7, Port: 3, Path: "1-3", ProductID: 0x1227, SpeedMbps: 480,
			Serial: "CPID:8030 CPRV:11 CPFM:03 SCEP:01 BDID:0C ECID:001A2B3C4D5E6F70 IBFL:3C SRTG:[iBoot-4513.0.0.0.3]", Kind: KindDFU}},
		{"recovery", recovSP, Device{Bus: 1, Address: 8, Port: 4, Path: "1-4", ProductID: 0x1281, SpeedMbps: 480,
			Serial: "CPID:8030 CPRV:11 CPFM:03 SCEP:01 BDID:0C ECID:001A2B3C4D5E6F70 IBFL:3D SRNM:[F2LZK0ABCDEF]", Kind: KindRecovery}},
	}
	for _, c := range cases {
		t.Run(c.fixture, func(t *testing.T) {
			plug(t, c.fixture, c.syspath)
			devs := list(t)
			if len(devs) != 1 || devs[0] != c.want {
				t.Fatalf("List = %+v\nwant [%+v]", devs, c.want)
			}
			if u := devs[0].UDID(); u != "00008030-001A2B3C4D5E6F70" && c.fixture != "iphone2" {
				t.Errorf("UDID() = %q", u)
			}
			if c.fixture == "iphone" && devs[0].LocationID() != 1<<16|5 {
				t.Errorf("LocationID = %#x, want 0x10005", devs[0].LocationID())
			}
			unplug(t, c.syspath)
			if devs := list(t); len(devs) != 0 {
				t.Fatalf("after unplug List = %v", devs)
			}
		})
	}
}

func TestListIgnoresOtherDevicesAndSorts(t *testing.T) {
	plug(t, "keyboard", kbdSP)
	plug(t, "recovery", recovSP)
	plug(t, "iphone2", iphone2)
	plug(t, "iphone", iphoneSP)
	devs := list(t)
	var got []string
	for _, d := range devs {
		got = append(got, d.Path)
	}
	if strings.Join(got, ",") != "1-1,1-2,1-4" {
		t.Fatalf("List paths = %v, want 1-1,1-2,1-4 (keyboard ignored, sorted by address)", got)
	}
}

func TestListHonoursCancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := List(ctx); err != context.Canceled {
		t.Fatalf("List(cancelled) err = %v, want context.Canceled", err)
	}
}

// watch runs Watch in the background and returns its event channel and a
// stop function that cancels it and checks it returned nil in time.
func watch(t testing.TB) (<-chan Event, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan Event, 16)
	res := make(chan error, 1)
	go func() { res <- Watch(ctx, ch) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-res:
			if err != nil {
				t.Errorf("Watch returned %v, want nil", err)
			}
		case <-time.After(2 * time.Second):
			t.Fatalf("Watch did not return within 2 s of cancel")
		}
	}
	t.Cleanup(stop)
	return ch, stop
}

func expect(t testing.TB, ch <-chan Event, kind EventKind, path string, within time.Duration) (Event, time.Duration) {
	t.Helper()
	start := time.Now()
	select {
	case ev := <-ch:
		if ev.Kind != kind || ev.Device.Path != path {
			t.Fatalf("got event %v, want %v %s", ev, kind, path)
		}
		return ev, time.Since(start)
	case <-time.After(within):
		t.Fatalf("no %v event for %s within %v", kind, path, within)
	}
	return Event{}, 0
}

func expectQuiet(t testing.TB, ch <-chan Event, d time.Duration) {
	t.Helper()
	select {
	case ev := <-ch:
		t.Fatalf("unexpected event %v", ev)
	case <-time.After(d):
	}
}

func TestWatchPlugUnplug(t *testing.T) {
	plug(t, "iphone", iphoneSP)
	ch, stop := watch(t)
	ev, _ := expect(t, ch, Added, "1-1", 2*time.Second)
	if ev.Device.Serial != udid || ev.Device.Kind != KindMobile {
		t.Fatalf("initial Added = %+v", ev.Device)
	}
	expectQuiet(t, ch, 200*time.Millisecond)

	var plugLat, unplugLat []time.Duration
	for i := 0; i < 5; i++ {
		t0 := time.Now()
		plug(t, "dfu", dfuSP)
		ev, _ := expect(t, ch, Added, "1-3", time.Second)
		plugLat = append(plugLat, time.Since(t0))
		if ev.Device.Kind != KindDFU || ev.Device.ProductID != 0x1227 {
			t.Fatalf("Added = %+v, want DFU 0x1227", ev.Device)
		}
		t0 = time.Now()
		unplug(t, dfuSP)
		expect(t, ch, Removed, "1-3", time.Second)
		unplugLat = append(unplugLat, time.Since(t0))
	}
	unplug(t, iphoneSP)
	expect(t, ch, Removed, "1-1", time.Second)
	expectQuiet(t, ch, 200*time.Millisecond)
	stop()
	report(t, "plug→Added", plugLat)
	report(t, "unplug→Removed", unplugLat)
}

func report(t *testing.T, what string, lat []time.Duration) {
	t.Helper()
	s := append([]time.Duration(nil), lat...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	t.Logf("%s latency over %d: min %v median %v max %v", what, len(s), s[0], s[len(s)/2], s[len(s)-1])
	if s[len(s)-1] >= 500*time.Millisecond {
		t.Errorf("%s latency %v ≥ 500 ms", what, s[len(s)-1])
	}
}

// The kernel gives a replugged device a new address; umockdev fixtures have
// a fixed one, so a replug at the same address must still be seen (the
// tombstone of the old one must not hide the new one).
func TestWatchReplugSameAddress(t *testing.T) {
	ch, _ := watch(t)
	expectQuiet(t, ch, 100*time.Millisecond)
	for i := 0; i < 3; i++ {
		plug(t, "iphone", iphoneSP)
		expect(t, ch, Added, "1-1", time.Second)
		unplug(t, iphoneSP)
		expect(t, ch, Removed, "1-1", time.Second)
	}
	// Same place, other link speed: a new device to the watcher.
	plug(t, "iphone-fullspeed", iphoneSP)
	ev, _ := expect(t, ch, Added, "1-1", time.Second)
	if ev.Device.SpeedMbps != 12 {
		t.Fatalf("full-speed replug: SpeedMbps = %d", ev.Device.SpeedMbps)
	}
}

func TestWatchIgnoresNonApple(t *testing.T) {
	ch, _ := watch(t)
	plug(t, "keyboard", kbdSP)
	expectQuiet(t, ch, 300*time.Millisecond)
	unplug(t, kbdSP)
	expectQuiet(t, ch, 100*time.Millisecond)
}

func TestWatchPolling(t *testing.T) {
	defer func(f bool, d time.Duration) { forcePolling, pollInterval = f, d }(forcePolling, pollInterval)
	forcePolling, pollInterval = true, 100*time.Millisecond
	ch, _ := watch(t)
	plug(t, "recovery", recovSP)
	ev, _ := expect(t, ch, Added, "1-4", time.Second)
	if ev.Device.Kind != KindRecovery {
		t.Fatalf("Kind = %v", ev.Device.Kind)
	}
	unplug(t, recovSP)
	expect(t, ch, Removed, "1-4", time.Second)
}

// Watch must return promptly when ctx ends even if nobody reads out.
func TestWatchDoesNotBlockOnSendAfterCancel(t *testing.T) {
	plug(t, "iphone", iphoneSP)
	plug(t, "iphone2", iphone2)
	ctx, cancel := context.WithCancel(context.Background())
	res := make(chan error, 1)
	go func() { res <- Watch(ctx, make(chan Event)) }() // unbuffered, never read
	time.Sleep(200 * time.Millisecond)
	cancel()
	select {
	case err := <-res:
		if err != nil {
			t.Fatalf("Watch = %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Watch blocked on send after cancel")
	}
}

func TestWatchNilChannel(t *testing.T) {
	if err := Watch(context.Background(), nil); err == nil {
		t.Fatal("Watch(nil channel) = nil error")
	}
}

func TestWatchCyclesNoLeaks(t *testing.T) {
	g0 := simtest.Goroutines()
	// Warm up libusb/umockdev: the first init opens long-lived sockets, so
	// the fd baseline is taken after it, once its goroutines have returned
	// (gousb's context goroutines exit within one 100 ms poll).
	ch, stop := watch(t)
	expectQuiet(t, ch, 50*time.Millisecond)
	stop()
	simtest.WaitGoroutines(t, g0)
	fd0 := simtest.FDs(t)

	const rounds, cycles = 5, 10
	for r := 0; r < rounds; r++ {
		ch, stop := watch(t)
		for i := 0; i < cycles; i++ {
			plug(t, "iphone", iphoneSP)
			expect(t, ch, Added, "1-1", time.Second)
			unplug(t, iphoneSP)
			expect(t, ch, Removed, "1-1", time.Second)
		}
		stop()
	}
	simtest.WaitGoroutines(t, g0)
	simtest.WaitFDs(t, fd0)
	t.Logf("%d Watch runs × %d plug/unplug: goroutines and fds back to where they were", rounds, cycles)
}

// BenchmarkIdleWakeups measures an idle Watch with an iPhone plugged in
// (already reported), in a child process sharing this testbed; run it with
// -benchtime 1x.
func BenchmarkIdleWakeups(b *testing.B) {
	plug(b, "iphone", iphoneSP)
	checkIdle(b, "UMOCKDEV_DIR="+tb.Root())
}

// Plug and unplug back to back without waiting (a flapping cable): events
// may be coalesced or missed, but they must alternate per device and settle
// on the truth (gone), and a later plug must still be seen.
func TestWatchFastFlap(t *testing.T) {
	ch, _ := watch(t)
	expectQuiet(t, ch, 50*time.Millisecond)
	for i := 0; i < 20; i++ {
		plug(t, "iphone", iphoneSP)
		unplug(t, iphoneSP)
	}
	var seq []EventKind
	quiet := time.After(1500 * time.Millisecond)
collect:
	for {
		select {
		case ev := <-ch:
			seq = append(seq, ev.Kind)
		case <-quiet:
			break collect
		}
	}
	for i, k := range seq {
		if want := EventKind(i % 2); k != want {
			t.Fatalf("event %d is %v, want %v (sequence %v)", i, k, want, seq)
		}
	}
	if len(seq)%2 != 0 {
		t.Fatalf("after the flapping stopped the device is still reported present (sequence %v)", seq)
	}
	t.Logf("20 fast plug/unplug pairs gave %d events", len(seq))
	plug(t, "iphone", iphoneSP)
	expect(t, ch, Added, "1-1", 500*time.Millisecond)
}

// The C polling loop and Go must compute the same signature for the same
// devices, or polling would rescan forever (or never).
func TestPollSignatureMatchesScan(t *testing.T) {
	plug(t, "iphone", iphoneSP)
	plug(t, "dfu", dfuSP)
	plug(t, "keyboard", kbdSP)
	p, err := openPoller(time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	if p.run() {
		t.Fatal("poller stopped before stop")
	}
	sig, have := p.signature()
	devs := list(t)
	if !have || len(devs) != 2 || sig != devSignature(devs) {
		t.Fatalf("C signature %#x (have %v) vs Go %#x over %v", sig, have, devSignature(devs), devs)
	}
	// stop must wake a run blocked in its (hour-long) wait.
	done := make(chan bool)
	go func() { done <- p.run() }()
	time.Sleep(50 * time.Millisecond)
	p.stop()
	select {
	case stopped := <-done:
		if !stopped {
			t.Fatal("run returned without a change and without stop")
		}
	case <-time.After(2 * time.Second):
		t.Fatal("stop did not wake the poll loop")
	}
}

func TestWatchPollingCycles(t *testing.T) {
	defer func(f bool, d time.Duration) { forcePolling, pollInterval = f, d }(forcePolling, pollInterval)
	forcePolling, pollInterval = true, 50*time.Millisecond
	ch, _ := watch(t)
	for i := 0; i < 10; i++ {
		plug(t, "iphone", iphoneSP)
		expect(t, ch, Added, "1-1", time.Second)
		unplug(t, iphoneSP)
		expect(t, ch, Removed, "1-1", time.Second)
	}
}
