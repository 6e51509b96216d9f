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
// handing a phone to Apple's driver, each with the step it needs, as
// message ids: internal/catalog's usb.toml has the words, usb.problem.<code>
// for what is wrong and usb.next.<step> for what to do.
var problemNext = map[int]string{
	1:  "usb.next.install",
	10: "usb.next.install",
	18: "usb.next.install",
	22: "usb.next.enable",
	28: "usb.next.install",
	31: "usb.next.install",
	39: "usb.next.install",
	43: "usb.next.restart",
	52: "usb.next.install",
}

// DriverProblem says why Windows will not let the Apple service talk to
// this device, and the next step, as message ids ("usb.problem.28",
// "usb.next.install"); "" when there is no such problem (Problem 0, or a
// code that says nothing about the driver).
func (d Device) DriverProblem() (problem, next string) {
	next, ok := problemNext[d.Problem]
	if !ok {
		return "", ""
	}
	return "usb.problem." + strconv.Itoa(d.Problem), next
}
