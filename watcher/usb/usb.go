// Package usb is trustwatch's view of the USB bus: which Apple devices are
// plugged in, in which mode, at which speed, whether or not usbmuxd can talk
// to them.
//
// usbmuxd only reports phones it can talk to; the bus also shows the ones it
// cannot (no-data, service-unavailable, recovery/DFU). Devices are read from
// their descriptors only: this package never opens, claims, resets or
// configures a device, because usbmuxd owns it.
//
// On Linux and macOS, builds with cgo use gousb (libusb); builds without cgo
// compile a fallback whose Available reports false and whose List and Watch
// return ErrUnavailable. On Windows the backend is pure Go (SetupAPI and
// Configuration Manager notifications through golang.org/x/sys/windows), with
// or without cgo.
package usb

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// AppleVendorID is Apple's USB vendor ID.
const AppleVendorID = 0x05AC

// ErrUnavailable is returned by List and Watch when this build or this
// system has no USB access (no cgo, or libusb could not start).
var ErrUnavailable = errors.New("usb: USB layer unavailable")

// Kind is the mode an Apple device is in, from its product ID.
type Kind int

const (
	// KindMobile is a normal iPhone/iPad/iPod (0x1290–0x12AF): usbmux capable.
	KindMobile Kind = iota
	// KindRecovery is iBoot Recovery mode (0x1280–0x1283).
	KindRecovery
	// KindDFU is DFU mode (0x1227) or the WTF stage (0x1222).
	KindDFU
)

func (k Kind) String() string {
	switch k {
	case KindMobile:
		return "mobile"
	case KindRecovery:
		return "recovery"
	case KindDFU:
		return "dfu"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Classify maps an Apple product ID to a Kind. ok is false for everything
// trustwatch does not care about (keyboards, Watch chargers, T2…).
func Classify(vendorID, productID int) (k Kind, ok bool) {
	if vendorID != AppleVendorID {
		return 0, false
	}
	switch {
	case productID >= 0x1290 && productID <= 0x12AF:
		return KindMobile, true
	case productID >= 0x1280 && productID <= 0x1283:
		return KindRecovery, true
	case productID == 0x1227 || productID == 0x1222:
		return KindDFU, true
	}
	return 0, false
}

// Device is one Apple device on the bus, as read from its descriptors and
// sysfs, never opened.
type Device struct {
	// Bus and Address are libusb's. On Windows, which numbers neither,
	// Bus is 0 and Address is the devnode handle (DEVINST), unique while
	// the device is present.
	Bus, Address int
	// Port is the port on the parent hub; Path is the Linux-style port path
	// ("1-1", "1-1.4"), which is also the sysfs name on Linux.
	Port      int
	Path      string
	ProductID int
	// SpeedMbps is the negotiated link speed: 1 (low, 1.5 Mb/s), 12, 480,
	// 5000, 10000; 0 when unknown.
	SpeedMbps int
	// Serial is the USB serial string: the UDID without its hyphen for a
	// normal device, an iBoot "CPID:… ECID:…" string in Recovery/DFU. Empty
	// when it cannot be read without opening the device (always, off Linux).
	Serial string
	Kind   Kind
	// HasUsbmux tells whether any configuration offers the usbmux interface
	// (class FF, subclass FE, protocol 02).
	HasUsbmux bool
	// InstanceID is the Windows device instance ID
	// ("USB\VID_05AC&PID_12A8\<serial>"); "" elsewhere.
	InstanceID string
	// Problem is the Windows devnode's problem code (CM_PROB_*, 28 = no
	// driver installed); 0 when it has none, and always 0 off Windows.
	Problem int
}

// LocationID is the number Linux usbmuxd reports for a USB device:
// (bus << 16) | address.
func (d Device) LocationID() uint32 {
	return uint32(d.Bus)<<16 | uint32(d.Address)&0xFFFF
}

func (d Device) String() string {
	s := fmt.Sprintf("%03d/%03d %04x:%04x %s %dMb/s", d.Bus, d.Address, AppleVendorID, d.ProductID, d.Kind, d.SpeedMbps)
	if d.Serial != "" {
		s += " " + d.Serial
	}
	if d.Problem != 0 {
		s += fmt.Sprintf(" problem=%d", d.Problem)
	}
	return s
}

// key identifies a device while it is plugged in: bus and address are
// unique on a live bus (the kernel hands out a fresh address on every plug).
type key struct{ bus, addr int }

func (d Device) key() key { return key{d.Bus, d.Address} }

// EventKind says whether a device arrived or left.
type EventKind int

const (
	Added EventKind = iota
	Removed
)

func (k EventKind) String() string {
	switch k {
	case Added:
		return "added"
	case Removed:
		return "removed"
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Event is one plug or unplug. For Removed, Device is the device as it was
// last seen.
type Event struct {
	Kind   EventKind
	Device Device
}

func (e Event) String() string { return e.Kind.String() + " " + e.Device.String() }

// speedMbps maps libusb's speed enum (LIBUSB_SPEED_*) to Mb/s.
func speedMbps(libusbSpeed int) int {
	switch libusbSpeed {
	case 1:
		return 1
	case 2:
		return 12
	case 3:
		return 480
	case 4:
		return 5000
	case 5:
		return 10000
	}
	return 0
}

// portPath formats a bus and port path the way Linux names USB devices in
// sysfs ("1-1", "1-1.4"); a root hub (no ports) is "usb1".
func portPath(bus int, ports []int) string {
	if len(ports) == 0 {
		return fmt.Sprintf("usb%d", bus)
	}
	s := fmt.Sprintf("%d-%d", bus, ports[0])
	for _, p := range ports[1:] {
		s += fmt.Sprintf(".%d", p)
	}
	return s
}

// printable accepts what a USB serial string can reasonably hold; anything
// else (binary junk from a broken descriptor) is dropped rather than shown.
func printable(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r > 0x7E {
			return false
		}
	}
	return true
}

// UDID returns the device's UDID in usbmuxd's form, when the USB serial
// gives it without opening the device; "" otherwise.
//
//   - Normal mode: the serial is the UDID, without the hyphen on A12 and
//     later ("00008030001A2B3C4D5E6F70" → "00008030-001A2B3C4D5E6F70");
//     older 40-hex-digit UDIDs are returned as they are.
//   - Recovery/DFU: iBoot's serial ("CPID:8030 … ECID:001A2B3C4D5E6F70 …")
//     gives the UDID of A12-and-later chips, which is
//     "%08X-%016X" of CPID and ECID; older chips hash theirs, so "".
//
// This lets a phone in Recovery be named as the phone it was.
func (d Device) UDID() string {
	s := d.Serial
	if d.Kind == KindMobile {
		switch {
		case len(s) == 24 && isHex(s):
			return strings.ToUpper(s[:8] + "-" + s[8:])
		case len(s) == 40 && isHex(s):
			return strings.ToLower(s)
		}
		return ""
	}
	var cpid, ecid uint64
	var haveCPID, haveECID bool
	for _, f := range strings.Fields(s) {
		k, v, ok := strings.Cut(f, ":")
		if !ok || v == "" || !isHex(v) || len(v) > 16 {
			continue
		}
		n, err := strconv.ParseUint(v, 16, 64)
		if err != nil {
			continue
		}
		switch k {
		case "CPID":
			cpid, haveCPID = n, true
		case "ECID":
			ecid, haveECID = n, true
		}
	}
	if !haveCPID || !haveECID || !newUDIDChip(cpid) {
		return ""
	}
	return fmt.Sprintf("%08X-%016X", cpid, ecid)
}

// newUDIDChip: chips whose UDID is CPID-ECID (A12 0x8020 onwards, M1 Pro/Max
// 0x600x); A7 (0x8960) and everything before A12 use a hashed UDID.
func newUDIDChip(cpid uint64) bool {
	return (cpid >= 0x8020 && cpid <= 0x8FFF && cpid != 0x8960) || (cpid >= 0x6000 && cpid <= 0x6FFF)
}

func isHex(s string) bool {
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F') {
			return false
		}
	}
	return s != ""
}

// devSignature is the order-independent signature of a device set that the
// C polling loop computes (tw_dev_hash, summed), so the two can be compared.
func devSignature(devs []Device) uint64 {
	var sum uint64
	for _, d := range devs {
		x := uint64(d.Bus)<<32 | uint64(d.Address)<<16 | uint64(d.ProductID)
		x += 0x9E3779B97F4A7C15
		x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9
		x = (x ^ (x >> 27)) * 0x94D049BB133111EB
		sum += x ^ (x >> 31)
	}
	return sum
}
