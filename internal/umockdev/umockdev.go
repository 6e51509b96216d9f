//go:build umockdev && cgo && linux

package umockdev

/*
#cgo pkg-config: umockdev-1.0
#include <stdlib.h>
#include <umockdev.h>

static char *tw_gerror_take(GError *err) {
	char *s = NULL;
	if (err != NULL) {
		s = strdup(err->message);
		g_error_free(err);
	}
	return s;
}

static char *tw_add_from_file(UMockdevTestbed *tb, const char *path) {
	GError *err = NULL;
	if (!umockdev_testbed_add_from_file(tb, path, &err))
		return err ? tw_gerror_take(err) : strdup("add_from_file failed");
	return NULL;
}

static char *tw_add_from_string(UMockdevTestbed *tb, const char *desc) {
	GError *err = NULL;
	if (!umockdev_testbed_add_from_string(tb, desc, &err))
		return err ? tw_gerror_take(err) : strdup("add_from_string failed");
	return NULL;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"unsafe"
)

// Testbed is one umockdev testbed. Its methods are safe for concurrent use.
type Testbed struct {
	mu sync.Mutex
	tb *C.UMockdevTestbed
}

// InWrapper reports whether this process runs under umockdev-wrapper (or
// umockdev-run), i.e. whether libc file access and udev are redirected.
func InWrapper() bool {
	return strings.Contains(os.Getenv("LD_PRELOAD"), "umockdev")
}

// New creates a testbed. It sets UMOCKDEV_DIR in the C environment (not in
// Go's copy of it, which is read once at start: use Root for pure-Go access).
func New() (*Testbed, error) {
	tb := C.umockdev_testbed_new()
	if tb == nil {
		return nil, errors.New("umockdev: umockdev_testbed_new returned NULL")
	}
	return &Testbed{tb: tb}, nil
}

func (t *Testbed) live() (*C.UMockdevTestbed, error) {
	if t == nil || t.tb == nil {
		return nil, errors.New("umockdev: testbed is closed")
	}
	return t.tb, nil
}

// Root is the testbed's root directory ($UMOCKDEV_DIR); sysfs lives in Root()+"/sys".
func (t *Testbed) Root() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	tb, err := t.live()
	if err != nil {
		return ""
	}
	s := C.umockdev_testbed_get_root_dir(tb)
	defer C.g_free(C.gpointer(s))
	return C.GoString(s)
}

// AddFromFile adds every device block of a .umockdev description (the format
// umockdev-record writes). libumockdev emits the "add" uevents itself.
func (t *Testbed) AddFromFile(path string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("umockdev: %w", err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	tb, err := t.live()
	if err != nil {
		return err
	}
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	if msg := C.tw_add_from_file(tb, cpath); msg != nil {
		defer C.free(unsafe.Pointer(msg))
		return fmt.Errorf("umockdev: add %s: %s", path, C.GoString(msg))
	}
	return nil
}

// AddFromString is AddFromFile with the description in memory.
func (t *Testbed) AddFromString(desc string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	tb, err := t.live()
	if err != nil {
		return err
	}
	cdesc := C.CString(desc)
	defer C.free(unsafe.Pointer(cdesc))
	if msg := C.tw_add_from_string(tb, cdesc); msg != nil {
		defer C.free(unsafe.Pointer(msg))
		return fmt.Errorf("umockdev: add from string: %s", C.GoString(msg))
	}
	return nil
}

// Uevent sends a uevent (add, remove, change…) for a sysfs path such as
// /sys/devices/pci0000:00/0000:00:14.0/usb1/1-1.
func (t *Testbed) Uevent(syspath, action string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	tb, err := t.live()
	if err != nil {
		return err
	}
	cpath, caction := C.CString(syspath), C.CString(action)
	defer C.free(unsafe.Pointer(cpath))
	defer C.free(unsafe.Pointer(caction))
	C.umockdev_testbed_uevent(tb, cpath, caction)
	return nil
}

// RemoveDevice deletes a device from the testbed's sysfs. It emits no
// uevent: use Unplug to make listeners notice.
func (t *Testbed) RemoveDevice(syspath string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	tb, err := t.live()
	if err != nil {
		return err
	}
	cpath := C.CString(syspath)
	defer C.free(unsafe.Pointer(cpath))
	C.umockdev_testbed_remove_device(tb, cpath)
	return nil
}

// Unplug is what the kernel does on unplug: the "remove" uevent first (while
// the device still exists, or umockdev cannot build the event), then the
// sysfs removal.
func (t *Testbed) Unplug(syspath string) error {
	if err := t.Uevent(syspath, "remove"); err != nil {
		return err
	}
	return t.RemoveDevice(syspath)
}

// Close destroys the testbed and its directory. Idempotent.
func (t *Testbed) Close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tb != nil {
		C.g_object_unref(C.gpointer(t.tb))
		t.tb = nil
	}
}
