package engine

import (
	"fmt"
	"slices"
	"time"
)

// USBInfo is what the USB bus says about a device (never opened).
type USBInfo struct {
	Bus       int `json:"bus"`
	Address   int `json:"address"`
	ProductID int `json:"product_id"`
	SpeedMbps int `json:"speed_mbps"`
}

// Device is one device as the shells see it: a copy, never shared.
// JSON field names are the contract's.
type Device struct {
	// Key identifies the device inside trustwatch for as long as it is
	// plugged in (normalised UDID when known, else "usb:<bus>-<addr>").
	Key         string `json:"-"`
	UDID        string `json:"udid"`
	Name        string `json:"name"`
	ProductType string `json:"product_type"`
	IOSVersion  string `json:"ios_version"`
	Connection  string `json:"connection"`
	State       State  `json:"state"`
	// Advice is what to tell the user about State on this phone: usually
	// the state's own (StateAdvice), more precise for service-unavailable
	// (why the service cannot be reached, a Windows driver problem). The
	// contract's "summary" is its English words (internal/say).
	Advice Advice `json:"-"`
	Guide  string `json:"guide"`
	Detail string `json:"detail"`
	// LinkSpeed is a hint when the USB link is slower than high speed
	// (zero: none). The contract's JSON says it in English (status.go).
	LinkSpeed Advice   `json:"link_speed"`
	USB       *USBInfo `json:"usb,omitempty"`

	// Lockdown is the lockdownd error name behind State, "" when none
	// (for support reports; Detail says it in words).
	Lockdown string `json:"-"`

	Previous State     `json:"-"` // state before the last change
	Since    time.Time `json:"-"` // when State was entered
	DeviceID int       `json:"-"` // usbmuxd DeviceID, 0 when not on usbmux
}

// DisplayName is the name to show people: the phone's name, or a fallback.
func (d Device) DisplayName() string {
	switch {
	case d.Name != "":
		return d.Name
	case d.UDID != "":
		return "iPhone " + shortID(d.UDID)
	default:
		return "iPhone"
	}
}

func shortID(udid string) string {
	if len(udid) > 8 {
		return "…" + udid[len(udid)-6:]
	}
	return udid
}

// Usbmux is the state of the connection to usbmuxd.
type Usbmux struct {
	Address   string   `json:"address"`
	Reachable bool     `json:"reachable"`
	Error     string   `json:"error"`
	State     MuxState `json:"state"`
	// Text is State described for the phones plugged in now (DescribeMux);
	// Snapshot fills it, the engine never stores it. The contract's
	// "advice" is its English words while usbmuxd is unreachable.
	Text MuxText `json:"-"`
}

// MuxState names, as an identifier, why usbmuxd (Apple Mobile Device
// Service on Windows) answers or not. The shells turn it into words and a
// next step; the source that saw the failure classifies it (that needs I/O:
// errno, an installed binary, the Windows service manager).
type MuxState string

const (
	MuxUnknown          MuxState = ""                  // not tried yet
	MuxRunning          MuxState = "running"           // answering
	MuxNotInstalled     MuxState = "not-installed"     // nothing that provides it is installed
	MuxNotRunning       MuxState = "not-running"       // installed (or unknown), nothing listens
	MuxDisabled         MuxState = "disabled"          // Windows: the service is disabled
	MuxStarting         MuxState = "starting"          // Windows: the service (or the Store app's process) is starting
	MuxAppNotRunning    MuxState = "app-not-running"   // Windows: the Store's Apple Devices/iTunes is installed, its device process is not running
	MuxPermissionDenied MuxState = "permission-denied" // the socket refuses this user
	MuxUnreadable       MuxState = "unreadable"        // it answered something we cannot read
	MuxBusy             MuxState = "busy"              // its connection queue is full (EAGAIN)
	MuxNotResponding    MuxState = "not-responding"    // it accepted the connection, then sent nothing (or hung up)
)

// AllMuxStates lists every state usbmuxd can be in, for docs and tests.
var AllMuxStates = []MuxState{
	MuxRunning, MuxNotInstalled, MuxNotRunning, MuxDisabled, MuxStarting, MuxAppNotRunning,
	MuxPermissionDenied, MuxUnreadable, MuxBusy, MuxNotResponding,
}

// Snapshot is the whole picture at one instant. Devices are sorted by Key.
type Snapshot struct {
	Time    time.Time `json:"-"`
	Usbmux  Usbmux    `json:"usbmux"`
	Devices []Device  `json:"devices"`
}

// Device returns the device with the given key.
func (s Snapshot) Device(key string) (Device, bool) {
	for _, d := range s.Devices {
		if d.Key == key {
			return d, true
		}
	}
	return Device{}, false
}

// AllFinal reports whether no device is still being diagnosed.
func (s Snapshot) AllFinal() bool {
	for _, d := range s.Devices {
		if !d.State.Final() {
			return false
		}
	}
	return true
}

// Answered reports whether usbmuxd has answered (a listing or a refusal).
func (u Usbmux) Answered() bool { return u.Reachable || u.Error != "" }

// Expire is the snapshot as a final answer once waited has passed (status's
// --timeout, fix/forget/report's lookup bound): a device still in progress
// becomes an error saying nothing answered in time, and so does a usbmuxd
// that never answered. Probing is never a final answer. s is not changed.
func (s Snapshot) Expire(waited time.Duration) Snapshot {
	s.Devices = slices.Clone(s.Devices)
	if s.Devices == nil {
		s.Devices = []Device{}
	}
	if !s.Usbmux.Answered() {
		s.Usbmux.Error = fmt.Sprintf("no answer from usbmuxd within %s", waited)
	}
	for i, d := range s.Devices {
		if !d.State.Final() {
			d.State, d.Guide, d.Advice = StateError, StateError.Anchor(), StateAdvice(StateError)
			d.Detail = fmt.Sprintf("no answer from the device within %s", waited)
			s.Devices[i] = d
		}
	}
	return s
}
