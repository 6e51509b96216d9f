package usbmux

import "strings"

// DeviceInfo is one device as usbmuxd lists it.
type DeviceInfo struct {
	DeviceID       int    // usbmuxd's handle, valid until the device detaches
	UDID           string // as usbmuxd spells it (may contain a hyphen)
	ConnectionType string // "USB", or "Network" for Wi-Fi sync on Apple daemons
	LocationID     uint32 // Linux: bus<<16 | address
	ProductID      int
	SpeedBps       int // ConnectionSpeed, bits per second; 0 if unknown
}

// IsUSB reports whether the device is connected by cable; Apple's daemons
// also list Wi-Fi-sync devices, which trustwatch does not diagnose.
func (d DeviceInfo) IsUSB() bool { return strings.EqualFold(d.ConnectionType, "USB") }

// NormalizeUDID makes usbmuxd serials (00008030-001A2B3C4D5E6F70) and USB
// serials (00008030001a2b3c4d5e6f70) comparable: no hyphens, upper case.
func NormalizeUDID(s string) string {
	return strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), "-", ""))
}

// maxSerialLen is usbmuxd's own bound on a serial (usbmuxd_device_record's
// serial_number[256]); real UDIDs have 25 or 40 characters.
const maxSerialLen = 255

// decodeDevice reads an Attached-style dictionary ({DeviceID, Properties}).
// Unknown keys are ignored and mistyped values left at zero; only a missing
// DeviceID makes the entry unusable.
func decodeDevice(m map[string]any) (DeviceInfo, bool) {
	props, _ := m["Properties"].(map[string]any)
	var d DeviceInfo
	id, ok := asInt(m["DeviceID"])
	if !ok && props != nil {
		id, ok = asInt(props["DeviceID"])
	}
	if !ok || id < 0 || id > 1<<31-1 {
		return DeviceInfo{}, false
	}
	d.DeviceID = int(id)
	if props == nil {
		return d, true
	}
	for _, k := range []string{"SerialNumber", "UDID", "USBSerialNumber"} {
		if s, ok := asString(props[k]); ok && s != "" {
			if len(s) > maxSerialLen {
				s = s[:maxSerialLen]
			}
			d.UDID = s
			break
		}
	}
	d.ConnectionType, _ = asString(props["ConnectionType"])
	if v, ok := asInt(props["LocationID"]); ok && v >= 0 && v <= 1<<32-1 {
		d.LocationID = uint32(v)
	}
	if v, ok := asInt(props["ProductID"]); ok && v >= 0 && v <= 1<<31-1 {
		d.ProductID = int(v)
	}
	if v, ok := asInt(props["ConnectionSpeed"]); ok && v >= 0 && v <= 1<<62 {
		d.SpeedBps = int(v)
	}
	return d, true
}
