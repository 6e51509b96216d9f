//go:build cgo && linux

package usb

/*
#include <stdio.h>
#include <stdlib.h>

// Reads a small sysfs attribute through libc: umockdev's LD_PRELOAD
// redirects libc's /sys access to its testbed, while Go's raw syscalls
// would bypass it.
static int tw_read_attr(const char *path, char *buf, int cap) {
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, (size_t)cap - 1, f);
	fclose(f);
	buf[n] = 0;
	return (int)n;
}
*/
import "C"

import (
	"strconv"
	"strings"
	"unsafe"
)

func readAttr(dir, name string) (string, bool) {
	p := C.CString(dir + "/" + name)
	defer C.free(unsafe.Pointer(p))
	var buf [512]C.char
	n := C.tw_read_attr(p, &buf[0], C.int(len(buf)))
	if n < 0 {
		return "", false
	}
	return strings.TrimSpace(C.GoStringN(&buf[0], n)), true
}

// readSerial reads the serial from sysfs (world-readable; opening the
// device would need usbmuxd's permissions and would fight it). It checks
// busnum/devnum so a device replaced between enumeration and this read is
// not given another's serial. Empty when unreadable.
func readSerial(d Device) string {
	dir := "/sys/bus/usb/devices/" + d.Path
	for attr, want := range map[string]int{"busnum": d.Bus, "devnum": d.Address} {
		s, ok := readAttr(dir, attr)
		if !ok {
			return ""
		}
		if n, err := strconv.Atoi(s); err != nil || n != want {
			return ""
		}
	}
	s, ok := readAttr(dir, "serial")
	if !ok || !printable(s) {
		return ""
	}
	return s
}
