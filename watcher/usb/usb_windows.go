//go:build windows

package usb

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/trustwatch/trustwatch/internal/winmsg"
)

// Windows: pure Go, no libusb and no cgo. SetupAPI lists the present USB
// devnodes; the instance ID gives vendor, product and serial (the UDID), the
// devnode status gives the problem code. Hotplug comes from the
// Configuration Manager (CM_Register_Notification, every device instance),
// or, where that is missing (Windows 7, Wine), from WM_DEVICECHANGE on a
// message-only window. Nothing polls.

// settleDelay: after a hotplug event the bus is scanned at once and once
// more this much later, because Windows announces an arrival before the
// driver is installed (its problem code may still change) and a removal may
// precede the devnode leaving the present set.
const settleDelay = 500 * time.Millisecond

// Seams for the tests (Wine has no USB devices and no CM_Register_Notification).
var (
	enumerateDevices   = setupAPIDevices
	forceWindowHotplug bool
)

// Available: SetupAPI is part of every Windows.
func Available() (bool, string) { return true, "" }

// List returns the Apple devices present now.
func List(ctx context.Context) ([]Device, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return enumerateDevices()
}

// setupAPIDevices lists present devnodes of the USB enumerator and keeps
// Apple's whole devices (not the per-interface children).
func setupAPIDevices() ([]Device, error) {
	set, err := windows.SetupDiGetClassDevsEx(nil, "USB", 0, windows.DIGCF_PRESENT|windows.DIGCF_ALLCLASSES, 0, "")
	if err != nil {
		return nil, fmt.Errorf("usb: SetupDiGetClassDevsEx: %w", err)
	}
	defer set.Close()
	var devs []Device
	for i := 0; ; i++ {
		data, err := set.EnumDeviceInfo(i)
		if errors.Is(err, windows.ERROR_NO_MORE_ITEMS) {
			break
		}
		if err != nil {
			continue // one unreadable devnode does not hide the others
		}
		id, err := set.DeviceInstanceID(data)
		if err != nil || !isAppleInstanceID(id) {
			continue
		}
		var status, problem uint32
		if windows.CM_Get_DevNode_Status(&status, &problem, data.DevInst, 0) != nil || status&windows.DN_HAS_PROBLEM == 0 {
			problem = 0
		}
		if d, ok := deviceFromInstance(id, int(data.DevInst), int(problem)); ok {
			devs = append(devs, d)
		}
	}
	sortDevices(devs)
	return devs, nil
}

// deviceFromInstance builds a Device from what SetupAPI says; ok is false
// for devices trustwatch does not care about.
func deviceFromInstance(id string, devInst, problem int) (Device, bool) {
	vid, pid, serial, ok := parseInstanceID(id)
	if !ok {
		return Device{}, false
	}
	kind, ok := Classify(vid, pid)
	if !ok {
		return Device{}, false
	}
	return Device{Address: devInst, Path: id, ProductID: pid, Serial: serial, Kind: kind, InstanceID: id, Problem: problem}, true
}

// Watch sends Added for every Apple device present at start, then Added and
// Removed as devices come and go (Added again when a device's problem code
// changes), until ctx ends; then it returns nil.
func Watch(ctx context.Context, out chan<- Event) error {
	wake := make(chan struct{}, 1)
	// Subscribing can take seconds (the first window of a fresh session),
	// so it must not keep Watch from returning when ctx ends.
	type subscription struct {
		stop func()
		err  error
	}
	subscribed := make(chan subscription, 1)
	go func() {
		stop, _, err := subscribe(wake)
		subscribed <- subscription{stop, err}
	}()
	var sub subscription
	select {
	case sub = <-subscribed:
	case <-ctx.Done():
		go func() {
			if s := <-subscribed; s.err == nil {
				s.stop()
			}
		}()
		return nil
	}
	if sub.err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, sub.err)
	}
	defer sub.stop()
	t := newTracker()
	scan := func() bool {
		devs, err := enumerateDevices()
		for _, ev := range t.scan(devs, err == nil) {
			select {
			case out <- ev:
			case <-ctx.Done():
				return false
			}
		}
		return true
	}
	if !scan() {
		return nil
	}
	settle := time.NewTimer(time.Hour)
	settle.Stop()
	defer settle.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-wake:
			if !scan() {
				return nil
			}
			settle.Reset(settleDelay)
		case <-settle.C:
			if !scan() {
				return nil
			}
		}
	}
}

// HotplugMechanism says which notification source Watch would use here
// ("CM_Register_Notification" or "RegisterDeviceNotification"), for
// `trustwatch version` and the tests.
//
// It makes no window: `version` should not start a message loop to say so.
func HotplugMechanism() (string, error) {
	if !forceWindowHotplug {
		if stop, err := subscribeCM(make(chan struct{}, 1)); err == nil {
			stop()
			return "CM_Register_Notification", nil
		}
	}
	if err := procRegisterDeviceNotificationW.Find(); err != nil {
		return "", err
	}
	return windowHotplug, nil
}

const windowHotplug = "RegisterDeviceNotification on a message-only window"

// subscribe starts a hotplug source that pokes wake (never blocking) when an
// Apple USB device instance comes or goes.
func subscribe(wake chan struct{}) (stop func(), how string, err error) {
	if !forceWindowHotplug {
		if stop, err := subscribeCM(wake); err == nil {
			return stop, "CM_Register_Notification", nil
		}
	}
	stop, err = subscribeWindow(wake)
	return stop, windowHotplug, err
}

func poke(wake chan struct{}) {
	select {
	case wake <- struct{}{}:
	default: // a rescan is already due
	}
}

// --- CM_Register_Notification -----------------------------------------------

var (
	cfgmgr32                     = windows.NewLazySystemDLL("cfgmgr32.dll")
	procCMRegisterNotification   = cfgmgr32.NewProc("CM_Register_Notification")
	procCMUnregisterNotification = cfgmgr32.NewProc("CM_Unregister_Notification")
)

const (
	cmNotifyFilterFlagAllDeviceInstances = 0x2
	cmNotifyFilterTypeDeviceInstance     = 2
	cmNotifyActionDeviceInstanceEnum     = 4
	cmNotifyActionDeviceInstanceStarted  = 5
	cmNotifyActionDeviceInstanceRemoved  = 6
)

// cmNotifyFilter is CM_NOTIFY_FILTER: the union is as large as
// DeviceInstance.InstanceId[MAX_DEVICE_ID_LEN] (200 WCHARs).
type cmNotifyFilter struct {
	size       uint32
	flags      uint32
	filterType uint32
	reserved   uint32
	union      [400]byte
}

// cmNotifyEventData is the head of CM_NOTIFY_EVENT_DATA for
// device-instance events; the instance ID follows, NUL-terminated.
type cmNotifyEventData struct {
	filterType uint32
	reserved   uint32
	instanceID [1]uint16
}

// cmSubscribers maps the context value handed to CM_Register_Notification
// to the channel to poke; a Go pointer cannot be handed to Windows.
var (
	cmMu          sync.Mutex
	cmSubscribers = map[uintptr]chan struct{}{}
	cmNextID      uintptr
	cmCallback    = sync.OnceValue(func() uintptr { return windows.NewCallback(cmNotify) })
)

// cmNotify runs on a Windows thread-pool thread: it only reads the instance
// ID and pokes, so it returns at once (the Configuration Manager waits for it).
func cmNotify(_ windows.Handle, ctxID uintptr, action uintptr, data *cmNotifyEventData, size uintptr) uintptr {
	switch action {
	case cmNotifyActionDeviceInstanceEnum, cmNotifyActionDeviceInstanceStarted, cmNotifyActionDeviceInstanceRemoved:
	default:
		return 0
	}
	if data == nil || size <= 8 || data.filterType != cmNotifyFilterTypeDeviceInstance {
		return 0
	}
	n := int(size-8) / 2
	id := windows.UTF16ToString(unsafe.Slice(&data.instanceID[0], n))
	if !isAppleInstanceID(id) {
		return 0
	}
	cmMu.Lock()
	wake := cmSubscribers[ctxID]
	cmMu.Unlock()
	if wake != nil {
		poke(wake)
	}
	return 0
}

func subscribeCM(wake chan struct{}) (func(), error) {
	if err := procCMRegisterNotification.Find(); err != nil {
		return nil, err
	}
	cmMu.Lock()
	cmNextID++
	id := cmNextID
	cmSubscribers[id] = wake
	cmMu.Unlock()
	forget := func() {
		cmMu.Lock()
		delete(cmSubscribers, id)
		cmMu.Unlock()
	}
	f := cmNotifyFilter{flags: cmNotifyFilterFlagAllDeviceInstances, filterType: cmNotifyFilterTypeDeviceInstance}
	f.size = uint32(unsafe.Sizeof(f))
	var h windows.Handle
	r, _, _ := procCMRegisterNotification.Call(uintptr(unsafe.Pointer(&f)), id, cmCallback(), uintptr(unsafe.Pointer(&h)))
	if r != 0 {
		forget()
		return nil, fmt.Errorf("CM_Register_Notification: CONFIGRET %d", r)
	}
	return func() {
		// Waits for a callback in progress, so no poke comes after stop.
		procCMUnregisterNotification.Call(uintptr(h))
		forget()
	}, nil
}

// --- RegisterDeviceNotification on a message-only window --------------------

var (
	user32                          = windows.NewLazySystemDLL("user32.dll")
	procRegisterDeviceNotificationW = user32.NewProc("RegisterDeviceNotificationW")
	procUnregisterDeviceNotif       = user32.NewProc("UnregisterDeviceNotification")
)

const (
	wmDeviceChange        = 0x0219
	dbtDeviceArrival      = 0x8000
	dbtDeviceRemoveComplt = 0x8004
	dbtDevtypDevInterface = 5
	hotplugWindowClass    = "trustwatch-usb-hotplug"
)

// guidDevinterfaceUSBDevice is GUID_DEVINTERFACE_USB_DEVICE, which the USB
// hub registers for every USB device it enumerates.
var guidDevinterfaceUSBDevice = windows.GUID{Data1: 0xA5DCBF10, Data2: 0x6530, Data3: 0x11D2, Data4: [8]byte{0x90, 0x1F, 0x00, 0xC0, 0x4F, 0xB9, 0x51, 0xED}}

// devBroadcastDeviceInterface is DEV_BROADCAST_DEVICEINTERFACE_W; the name
// (the interface path) runs past the one declared WCHAR.
type devBroadcastDeviceInterface struct {
	size       uint32
	deviceType uint32
	reserved   uint32
	classGUID  windows.GUID
	name       [1]uint16
}

// The hotplug window is made on first use and lives as long as the
// process; every Watch adds its wake channel while it runs. Closing the
// window would end its thread, and under Wine a thread that exits while the
// process exits hangs it or gets it killed (about once in 50 runs of
// `status`); a GUI thread blocked in GetMessage at exit is the usual case.
var (
	wndCreate  sync.Mutex // held while the window is made
	hotplugWnd uintptr    // 0 until made; the tests send it WM_DEVICECHANGE (Wine has no USB to plug)
	wndMu      sync.Mutex // guards wndWakes, which the window's thread reads
	wndWakes   = map[chan struct{}]bool{}
)

// hotplugProc pokes every Watch when an Apple USB device interface comes
// or goes.
func hotplugProc(msg uint32, wParam uintptr, lParam unsafe.Pointer) (uintptr, bool) {
	if msg != wmDeviceChange {
		return 0, false
	}
	b := (*devBroadcastDeviceInterface)(lParam)
	if (wParam == dbtDeviceArrival || wParam == dbtDeviceRemoveComplt) && b != nil && b.deviceType == dbtDevtypDevInterface && b.size > 28 {
		n := int(b.size-28) / 2
		if isAppleInstanceID(instanceIDFromInterface(windows.UTF16ToString(unsafe.Slice(&b.name[0], n)))) {
			wndMu.Lock()
			for wake := range wndWakes {
				poke(wake)
			}
			wndMu.Unlock()
		}
	}
	return 1, true // TRUE: the event is accepted
}

// subscribeWindow adds wake to the process's hotplug window, making the
// window (RegisterDeviceNotification for the USB device interface class on
// a message-only window) the first time; a failed attempt is retried by the
// next Watch.
func subscribeWindow(wake chan struct{}) (func(), error) {
	wndCreate.Lock()
	defer wndCreate.Unlock()
	if hotplugWnd == 0 {
		w, err := winmsg.New(hotplugWindowClass, "", hotplugProc, func(hwnd uintptr) (func(), error) {
			filter := devBroadcastDeviceInterface{deviceType: dbtDevtypDevInterface, classGUID: guidDevinterfaceUSBDevice}
			filter.size = uint32(unsafe.Sizeof(filter))
			notif, _, err := procRegisterDeviceNotificationW.Call(hwnd, uintptr(unsafe.Pointer(&filter)), 0 /* DEVICE_NOTIFY_WINDOW_HANDLE */)
			if notif == 0 {
				return nil, fmt.Errorf("RegisterDeviceNotificationW: %w", err)
			}
			return nil, nil // kept until the process ends
		})
		if err != nil {
			return nil, err
		}
		hotplugWnd = w.HWND
	}
	wndMu.Lock()
	wndWakes[wake] = true
	wndMu.Unlock()
	return func() {
		wndMu.Lock()
		delete(wndWakes, wake)
		wndMu.Unlock()
	}, nil
}

// watching counts the running Watches on the hotplug window (for tests).
func watching() int {
	wndMu.Lock()
	defer wndMu.Unlock()
	return len(wndWakes)
}

// Describe names the USB layer for `trustwatch version`.
func Describe() string {
	how, err := HotplugMechanism()
	if err != nil {
		return "SetupAPI; no hotplug events: " + err.Error()
	}
	return "SetupAPI; hotplug through " + how
}
