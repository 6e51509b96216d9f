//go:build windows

package usb

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
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
	stop, _, err := subscribe(wake)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer stop()
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
func HotplugMechanism() (string, error) {
	stop, how, err := subscribe(make(chan struct{}, 1))
	if err != nil {
		return "", err
	}
	stop()
	return how, nil
}

// subscribe starts a hotplug source that pokes wake (never blocking) when an
// Apple USB device instance comes or goes.
func subscribe(wake chan struct{}) (stop func(), how string, err error) {
	if !forceWindowHotplug {
		if stop, err := subscribeCM(wake); err == nil {
			return stop, "CM_Register_Notification", nil
		}
	}
	stop, err = subscribeWindow(wake)
	return stop, "RegisterDeviceNotification on a message-only window", err
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
	procRegisterClassExW            = user32.NewProc("RegisterClassExW")
	procCreateWindowExW             = user32.NewProc("CreateWindowExW")
	procDestroyWindow               = user32.NewProc("DestroyWindow")
	procDefWindowProcW              = user32.NewProc("DefWindowProcW")
	procGetMessageW                 = user32.NewProc("GetMessageW")
	procDispatchMessageW            = user32.NewProc("DispatchMessageW")
	procPostMessageW                = user32.NewProc("PostMessageW")
	procPostQuitMessage             = user32.NewProc("PostQuitMessage")
	procRegisterDeviceNotificationW = user32.NewProc("RegisterDeviceNotificationW")
	procUnregisterDeviceNotif       = user32.NewProc("UnregisterDeviceNotification")
)

const (
	wmDestroy             = 0x0002
	wmClose               = 0x0010
	wmDeviceChange        = 0x0219
	dbtDeviceArrival      = 0x8000
	dbtDeviceRemoveComplt = 0x8004
	dbtDevtypDevInterface = 5
	hwndMessage           = ^uintptr(2) // (HWND)-3
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

type wndClassEx struct {
	size       uint32
	style      uint32
	wndProc    uintptr
	clsExtra   int32
	wndExtra   int32
	instance   windows.Handle
	icon       windows.Handle
	cursor     windows.Handle
	background windows.Handle
	menuName   *uint16
	className  *uint16
	iconSm     windows.Handle
}

type winMsg struct {
	hwnd    uintptr
	message uint32
	wParam  uintptr
	lParam  uintptr
	time    uint32
	pt      struct{ x, y int32 }
	private uint32
}

var (
	wndMu      sync.Mutex
	wndWake    = map[uintptr]chan struct{}{} // hwnd → channel
	wndClass   = windows.StringToUTF16Ptr("trustwatch-usb-hotplug")
	wndRegOnce = sync.OnceValue(registerWindowClass)
	// lastWindow is the newest hotplug window, for the tests that send it
	// WM_DEVICECHANGE by hand (Wine has no USB devices to plug).
	lastWindow uintptr
)

func registerWindowClass() error {
	var inst windows.Handle
	if err := windows.GetModuleHandleEx(0, nil, &inst); err != nil {
		return err
	}
	wc := wndClassEx{wndProc: windows.NewCallback(hotplugWndProc), instance: inst, className: wndClass}
	wc.size = uint32(unsafe.Sizeof(wc))
	if r, _, err := procRegisterClassExW.Call(uintptr(unsafe.Pointer(&wc))); r == 0 {
		return fmt.Errorf("RegisterClassExW: %w", err)
	}
	return nil
}

func hotplugWndProc(hwnd, msg, wParam uintptr, lParam *devBroadcastDeviceInterface) uintptr {
	switch msg {
	case wmDeviceChange:
		if (wParam == dbtDeviceArrival || wParam == dbtDeviceRemoveComplt) && lParam != nil && lParam.deviceType == dbtDevtypDevInterface && lParam.size > 28 {
			n := int(lParam.size-28) / 2
			id := instanceIDFromInterface(windows.UTF16ToString(unsafe.Slice(&lParam.name[0], n)))
			if isAppleInstanceID(id) {
				wndMu.Lock()
				wake := wndWake[hwnd]
				wndMu.Unlock()
				if wake != nil {
					poke(wake)
				}
			}
		}
		return 1 // TRUE: the event is accepted
	case wmClose:
		procDestroyWindow.Call(hwnd)
		return 0
	case wmDestroy:
		procPostQuitMessage.Call(0)
		return 0
	}
	r, _, _ := procDefWindowProcW.Call(hwnd, msg, wParam, uintptr(unsafe.Pointer(lParam)))
	return r
}

// subscribeWindow makes a message-only window on its own locked OS thread,
// asks for USB device interface arrivals and removals, and pumps its
// messages until stop.
func subscribeWindow(wake chan struct{}) (func(), error) {
	if err := wndRegOnce(); err != nil {
		return nil, err
	}
	type started struct {
		hwnd uintptr
		err  error
	}
	ready := make(chan started, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		// A window belongs to the thread that made it; the thread exits
		// with this goroutine (never unlocked).
		runtime.LockOSThread()
		hwnd, _, err := procCreateWindowExW.Call(0, uintptr(unsafe.Pointer(wndClass)), 0, 0, 0, 0, 0, 0, hwndMessage, 0, 0, 0)
		if hwnd == 0 {
			ready <- started{err: fmt.Errorf("CreateWindowExW: %w", err)}
			return
		}
		filter := devBroadcastDeviceInterface{deviceType: dbtDevtypDevInterface, classGUID: guidDevinterfaceUSBDevice}
		filter.size = uint32(unsafe.Sizeof(filter))
		notif, _, err := procRegisterDeviceNotificationW.Call(hwnd, uintptr(unsafe.Pointer(&filter)), 0 /* DEVICE_NOTIFY_WINDOW_HANDLE */)
		if notif == 0 {
			procDestroyWindow.Call(hwnd)
			ready <- started{err: fmt.Errorf("RegisterDeviceNotificationW: %w", err)}
			return
		}
		wndMu.Lock()
		wndWake[hwnd] = wake
		lastWindow = hwnd
		wndMu.Unlock()
		ready <- started{hwnd: hwnd}
		var m winMsg
		for {
			r, _, _ := procGetMessageW.Call(uintptr(unsafe.Pointer(&m)), 0, 0, 0)
			if int32(r) <= 0 { // WM_QUIT (0) or an error (-1)
				break
			}
			procDispatchMessageW.Call(uintptr(unsafe.Pointer(&m)))
		}
		procUnregisterDeviceNotif.Call(notif)
		wndMu.Lock()
		delete(wndWake, hwnd)
		wndMu.Unlock()
	}()
	s := <-ready
	if s.err != nil {
		<-done
		return nil, s.err
	}
	return func() {
		procPostMessageW.Call(s.hwnd, wmClose, 0, 0)
		<-done
	}, nil
}

// Describe names the USB layer for `trustwatch version`.
func Describe() string {
	how, err := HotplugMechanism()
	if err != nil {
		return "SetupAPI; no hotplug events: " + err.Error()
	}
	return "SetupAPI; hotplug through " + how
}
