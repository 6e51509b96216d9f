//go:build windows

package usb

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/trustwatch/trustwatch/internal/winmsg"
)

// SetupAPI itself answers (under Wine it lists no USB devices).
func TestSetupAPIEnumerates(t *testing.T) {
	devs, err := setupAPIDevices()
	if err != nil {
		t.Fatalf("setupAPIDevices: %v", err)
	}
	t.Logf("%d Apple device(s) present", len(devs))
	how, err := HotplugMechanism()
	if err != nil {
		t.Fatalf("no hotplug source: %v", err)
	}
	t.Logf("hotplug through %s", how)
}

// deviceChange sends the window what Windows sends on a USB plug or unplug.
func deviceChange(t *testing.T, hwnd uintptr, event uintptr, ifacePath string) {
	t.Helper()
	var b struct {
		devBroadcastDeviceInterface
		more [300]uint16
	}
	name, err := windows.UTF16FromString(ifacePath)
	if err != nil || len(name) > len(b.more) {
		t.Fatalf("bad interface path %q", ifacePath)
	}
	b.deviceType = dbtDevtypDevInterface
	b.classGUID = guidDevinterfaceUSBDevice
	copy(unsafe.Slice(&b.name[0], len(name)+1), name)
	b.size = uint32(28 + 2*len(name))
	if _, ok := winmsg.Send(hwnd, wmDeviceChange, event, unsafe.Pointer(&b), 3000); !ok {
		t.Fatal("the hotplug window did not answer WM_DEVICECHANGE")
	}
}

// The fallback hotplug path, end to end: a real message-only window and
// RegisterDeviceNotification; the plugs are messages sent to it (Wine has
// no USB devices), the bus a fake SetupAPI listing.
func TestWatchWindowFallback(t *testing.T) {
	var mu sync.Mutex
	var present []Device
	var scans atomic.Int32
	enumerateDevices = func() ([]Device, error) {
		scans.Add(1)
		mu.Lock()
		defer mu.Unlock()
		return append([]Device(nil), present...), nil
	}
	forceWindowHotplug = true
	t.Cleanup(func() { enumerateDevices, forceWindowHotplug = setupAPIDevices, false })

	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan Event, 8)
	done := make(chan error, 1)
	subscribed := watching()
	go func() { done <- Watch(ctx, out) }()
	// The first window of a fresh Wine prefix waits for its desktop to
	// start (seconds); then this Watch subscribes to it.
	for end := time.Now().Add(30 * time.Second); watching() == subscribed; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("Watch did not subscribe to the hotplug window within 30 s")
		}
	}
	wndCreate.Lock()
	hwnd := hotplugWnd
	wndCreate.Unlock()
	waitScans := func(n int32) {
		t.Helper()
		for end := time.Now().Add(3 * time.Second); scans.Load() < n; {
			if time.Now().After(end) {
				t.Fatalf("scans = %d, want ≥ %d", scans.Load(), n)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitScans(1) // the initial listing
	expect := func(kind EventKind, serial string) {
		t.Helper()
		select {
		case ev := <-out:
			if ev.Kind != kind || ev.Device.Serial != serial {
				t.Fatalf("event %v, want %v %s", ev, kind, serial)
			}
		case <-time.After(3 * time.Second):
			t.Fatalf("no %v event within 3 s", kind)
		}
	}

	// Another vendor's device: no rescan.
	before := scans.Load()
	deviceChange(t, hwnd, dbtDeviceArrival, `\\?\USB#VID_046D&PID_C52B#6&1a2b3c&0&2#{a5dcbf10-6530-11d2-901f-00c04fb951ed}`)
	time.Sleep(100 * time.Millisecond)
	if n := scans.Load(); n != before {
		t.Fatalf("a non-Apple arrival caused %d rescans", n-before)
	}

	const serial = "00008030001A2B3C4D5E6F70"
	iphone, ok := deviceFromInstance(`USB\VID_05AC&PID_12A8\`+serial, 42, 28)
	if !ok {
		t.Fatal("deviceFromInstance refused an iPhone")
	}
	mu.Lock()
	present = []Device{iphone}
	mu.Unlock()
	deviceChange(t, hwnd, dbtDeviceArrival, `\\?\USB#VID_05AC&PID_12A8#`+serial+`#{a5dcbf10-6530-11d2-901f-00c04fb951ed}`)
	expect(Added, serial)

	// The driver gets installed while plugged in: the settle rescan sees it.
	mu.Lock()
	present[0].Problem = 0
	mu.Unlock()
	deviceChange(t, hwnd, dbtDeviceArrival, `\\?\USB#VID_05AC&PID_12A8#`+serial+`#{a5dcbf10-6530-11d2-901f-00c04fb951ed}`)
	expect(Added, serial)

	mu.Lock()
	present = nil
	mu.Unlock()
	deviceChange(t, hwnd, dbtDeviceRemoveComplt, `\\?\USB#VID_05AC&PID_12A8#`+serial+`#{a5dcbf10-6530-11d2-901f-00c04fb951ed}`)
	expect(Removed, serial)

	// Nothing polls: with no events, no scans.
	time.Sleep(settleDelay + 100*time.Millisecond)
	idle := scans.Load()
	time.Sleep(1500 * time.Millisecond)
	if n := scans.Load(); n != idle {
		t.Fatalf("%d scans in 1.5 s without an event", n-idle)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Watch: %v", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Watch did not return after cancel")
	}
	if n := watching(); n != subscribed {
		t.Fatalf("%d Watches still subscribed after Watch returned, want %d", n, subscribed)
	}
}
