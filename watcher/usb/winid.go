package usb

import (
	"fmt"
	"strconv"
	"strings"
)

// Windows names a USB device by its instance ID, "USB\VID_05AC&PID_12A8\<serial>",
// where the last part is the device's USB serial (the UDID without its hyphen
// for an iPhone) or, for a device without a serial, an ID Windows made up
// that contains '&' ("5&2b4c9a&0&1"). These helpers are pure so their rules
// are table tests on every OS.

// parseInstanceID reads vendor, product and serial from a USB device
// instance ID. ok is false for anything that is not a whole USB device: other
// enumerators, malformed IDs, and the per-interface children of a composite
// device ("USB\VID_05AC&PID_12A8&MI_00\…"), which would count one phone twice.
func parseInstanceID(id string) (vid, pid int, serial string, ok bool) {
	parts := strings.Split(id, `\`)
	if len(parts) != 3 || !strings.EqualFold(parts[0], "USB") || parts[2] == "" {
		return 0, 0, "", false
	}
	ids := strings.Split(strings.ToUpper(parts[1]), "&")
	if len(ids) != 2 || !strings.HasPrefix(ids[0], "VID_") || !strings.HasPrefix(ids[1], "PID_") {
		return 0, 0, "", false
	}
	v, err1 := parseHex16(ids[0][4:])
	p, err2 := parseHex16(ids[1][4:])
	if err1 != nil || err2 != nil {
		return 0, 0, "", false
	}
	serial = parts[2]
	if strings.Contains(serial, "&") || !printable(serial) {
		serial = "" // made up by Windows: the device reports no serial
	}
	return v, p, serial, true
}

func parseHex16(s string) (int, error) {
	if len(s) != 4 || !isHex(s) {
		return 0, fmt.Errorf("not four hex digits: %q", s)
	}
	n, err := strconv.ParseUint(s, 16, 16)
	return int(n), err
}

// instanceIDFromInterface turns a device interface path,
// `\\?\USB#VID_05AC&PID_12A8#<serial>#{a5dcbf10-6530-11d2-901f-00c04fb951ed}`,
// into the device's instance ID; "" when it is not one.
func instanceIDFromInterface(path string) string {
	rest, ok := strings.CutPrefix(path, `\\?\`)
	if !ok {
		if rest, ok = strings.CutPrefix(path, `\??\`); !ok {
			return ""
		}
	}
	i := strings.LastIndex(rest, "#{")
	if i < 0 || !strings.HasSuffix(rest, "}") {
		return ""
	}
	return strings.ReplaceAll(rest[:i], "#", `\`)
}

// isAppleInstanceID is the cheap test a hotplug callback makes before it
// asks for a rescan: only Apple's USB devices matter.
func isAppleInstanceID(id string) bool {
	const prefix = `USB\VID_05AC&`
	return len(id) >= len(prefix) && strings.EqualFold(id[:len(prefix)], prefix)
}

// Device Manager's problem codes (cfg.h, CM_PROB_*) that keep Windows from
// handing a phone to Apple's driver, in words that say what to do.
var problemWords = map[int]string{
	1:  "Windows has not configured it (Device Manager problem code 1)",
	10: "its driver could not start (Device Manager problem code 10)",
	18: "its driver needs reinstalling (Device Manager problem code 18)",
	22: "it is disabled in Device Manager (problem code 22)",
	28: "Windows has no driver for it (Device Manager problem code 28)",
	31: "its driver could not be loaded (Device Manager problem code 31)",
	39: "its driver is missing or damaged (Device Manager problem code 39)",
	43: "Windows stopped it after it reported a problem (Device Manager problem code 43)",
	52: "its driver's signature could not be verified (Device Manager problem code 52)",
}

// problemNext is the step each problem needs.
var problemNext = map[int]string{
	22: "enable it in Device Manager (Portable Devices or Universal Serial Bus devices)",
	43: "unplug it, restart the computer and plug it in again; if it stays, try another cable",
}

func upper(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// DriverProblem is the sentence saying why Windows will not let the Apple
// service talk to this device, with the next step; "" when there is no such
// problem (Problem 0, or a code that says nothing about the driver).
func (d Device) DriverProblem() string {
	words, ok := problemWords[d.Problem]
	if !ok {
		return ""
	}
	next, ok := problemNext[d.Problem]
	if !ok {
		next = "install Apple Devices from the Microsoft Store (or iTunes), then unplug the iPhone and plug it in again"
	}
	return "The iPhone is on USB, but " + words + ". " + upper(next) + "."
}
