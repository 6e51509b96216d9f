//go:build cgo && !windows

package usb

/*
#cgo pkg-config: libusb-1.0
#include <libusb.h>
#include <stdlib.h>

// A private libusb context used only to hear hotplug events. Its event
// thread blocks in libusb_handle_events with a long timeout, so an idle
// watcher costs about one wakeup a minute instead of gousb's ten a second.

#define TW_QLEN 256

typedef struct { int arrived, bus, addr, pid; } tw_ev;

static void tw_lock(int *l) {
	while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE))
		;
}
static void tw_unlock(int *l) { __atomic_store_n(l, 0, __ATOMIC_RELEASE); }

typedef struct {
	libusb_context *ctx;
	libusb_hotplug_callback_handle cb;
	int registered;
	int lock; // spinlock over q/n/overflow: held for a few stores, no pthread needed on Windows
	tw_ev q[TW_QLEN];
	int n;
	int overflow;
	int stop;
} tw_hp;

// Runs on the event thread inside libusb_handle_events. Only queues: calling
// back into libusb device I/O from here is not allowed, and reading the
// (cached) device descriptor is.
static int LIBUSB_CALL tw_hp_cb(libusb_context *ctx, libusb_device *dev,
		libusb_hotplug_event ev, void *ud) {
	(void)ctx;
	tw_hp *h = ud;
	struct libusb_device_descriptor d;
	int pid = -1;
	if (libusb_get_device_descriptor(dev, &d) == 0)
		pid = d.idProduct;
	tw_lock(&h->lock);
	if (h->n < TW_QLEN) {
		tw_ev *e = &h->q[h->n++];
		e->arrived = ev == LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED;
		e->bus = libusb_get_bus_number(dev);
		e->addr = libusb_get_device_address(dev);
		e->pid = pid;
	} else {
		h->overflow = 1;
	}
	tw_unlock(&h->lock);
	return 0;
}

static void tw_hp_free(tw_hp *h) {
	if (h->registered)
		libusb_hotplug_deregister_callback(h->ctx, h->cb);
	if (h->ctx)
		libusb_exit(h->ctx);
	free(h);
}

// Returns 0 and *out on success, 1 when this libusb has no hotplug support
// (Windows), or a negative libusb error.
static int tw_hp_open(tw_hp **out) {
	tw_hp *h = calloc(1, sizeof *h);
	if (!h)
		return LIBUSB_ERROR_NO_MEM;
	int r = libusb_init(&h->ctx);
	if (r < 0) {
		h->ctx = NULL;
		tw_hp_free(h);
		return r;
	}
	if (!libusb_has_capability(LIBUSB_CAP_HAS_HOTPLUG)) {
		tw_hp_free(h);
		return 1;
	}
	r = libusb_hotplug_register_callback(h->ctx,
		LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED | LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT,
		0, 0x05AC, LIBUSB_HOTPLUG_MATCH_ANY, LIBUSB_HOTPLUG_MATCH_ANY,
		tw_hp_cb, h, &h->cb);
	if (r < 0) {
		tw_hp_free(h);
		return r;
	}
	h->registered = 1;
	*out = h;
	return 0;
}

// Whether libusb can start here at all, without gousb's event goroutine
// (whose Close waits up to 100 ms).
static int tw_probe(void) {
	libusb_context *ctx = NULL;
	int r = libusb_init(&ctx);
	if (r < 0)
		return r;
	libusb_exit(ctx);
	return 0;
}

// The devices trustwatch tracks (usb.Classify, kept in step by hand).
static int tw_tracked(const struct libusb_device_descriptor *d) {
	if (d->idVendor != 0x05AC)
		return 0;
	int p = d->idProduct;
	return (p >= 0x1290 && p <= 0x12AF) || (p >= 0x1280 && p <= 0x1283) || p == 0x1227 || p == 0x1222;
}

// tw_dev_hash and the sum over devices are mirrored by devSignature in Go.
static unsigned long long tw_dev_hash(unsigned bus, unsigned addr, unsigned pid) {
	unsigned long long x = (unsigned long long)bus << 32 | (unsigned long long)addr << 16 | pid;
	x += 0x9E3779B97F4A7C15ULL;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
	return x ^ (x >> 31);
}

// An order-independent signature of the tracked devices a context lists,
// for cheap change detection while polling. On backends without hotplug,
// libusb_get_device_list rescans the bus.
static int tw_list_sig(libusb_context *ctx, unsigned long long *sig) {
	libusb_device **list;
	ssize_t n = libusb_get_device_list(ctx, &list);
	if (n < 0)
		return (int)n;
	unsigned long long h = 0;
	for (ssize_t i = 0; i < n; i++) {
		struct libusb_device_descriptor d;
		if (libusb_get_device_descriptor(list[i], &d) != 0 || !tw_tracked(&d))
			continue;
		h += tw_dev_hash(libusb_get_bus_number(list[i]), libusb_get_device_address(list[i]), d.idProduct);
	}
	libusb_free_device_list(list, 1);
	*sig = h;
	return 0;
}

// The polling fallback, run on a thread blocked in C like the hotplug loop,
// so an idle check costs one wakeup: a goroutine woken by a Go timer to make
// a cgo call costs several (the runtime's sysmon wakes for every cgo call).
// libusb_handle_events on a context with nothing to handle is the portable
// interruptible sleep.
typedef struct {
	libusb_context *ctx;
	int stop;
	int interval_ms;
	unsigned long long last;
	int have_last;
} tw_poll;

static int tw_poll_open(tw_poll **out, int interval_ms) {
	tw_poll *p = calloc(1, sizeof *p);
	if (!p)
		return LIBUSB_ERROR_NO_MEM;
	int r = libusb_init(&p->ctx);
	if (r < 0) {
		free(p);
		return r;
	}
	p->interval_ms = interval_ms;
	*out = p;
	return 0;
}

// Returns 0 when the Apple device list changed (or the first time, or when
// listing failed: let the caller's full scan decide), 1 when stopped.
static int tw_poll_run(tw_poll *p) {
	for (;;) {
		if (__atomic_load_n(&p->stop, __ATOMIC_SEQ_CST))
			return 1;
		unsigned long long sig = 0;
		int r = tw_list_sig(p->ctx, &sig);
		if (r < 0 || !p->have_last || sig != p->last) {
			__atomic_store_n(&p->last, sig, __ATOMIC_SEQ_CST);
			__atomic_store_n(&p->have_last, r == 0, __ATOMIC_SEQ_CST);
			return 0;
		}
		struct timeval tv = { p->interval_ms / 1000, (p->interval_ms % 1000) * 1000 };
		libusb_handle_events_timeout_completed(p->ctx, &tv, NULL);
	}
}

static unsigned long long tw_poll_last(tw_poll *p) { return __atomic_load_n(&p->last, __ATOMIC_SEQ_CST); }
static int tw_poll_have(tw_poll *p) { return __atomic_load_n(&p->have_last, __ATOMIC_SEQ_CST); }

static void tw_poll_stop(tw_poll *p) {
	__atomic_store_n(&p->stop, 1, __ATOMIC_SEQ_CST);
	libusb_interrupt_event_handler(p->ctx);
}

static void tw_poll_free(tw_poll *p) {
	libusb_exit(p->ctx);
	free(p);
}

static int tw_hp_pending(tw_hp *h) {
	tw_lock(&h->lock);
	int p = h->n > 0 || h->overflow;
	tw_unlock(&h->lock);
	return p;
}

// Blocks handling events until one is queued (returns 0), stop is requested
// (returns 1) or libusb fails (negative error).
static int tw_hp_run(tw_hp *h) {
	for (;;) {
		if (__atomic_load_n(&h->stop, __ATOMIC_SEQ_CST))
			return 1;
		if (tw_hp_pending(h))
			return 0;
		struct timeval tv = { 60, 0 };
		int r = libusb_handle_events_timeout_completed(h->ctx, &tv, NULL);
		if (r < 0 && r != LIBUSB_ERROR_INTERRUPTED && r != LIBUSB_ERROR_TIMEOUT)
			return r;
	}
}

// Moves up to cap queued events into buf; returns how many, and sets
// *overflow when events were dropped (the caller then rescans).
static int tw_hp_drain(tw_hp *h, tw_ev *buf, int cap, int *overflow) {
	tw_lock(&h->lock);
	int n = h->n < cap ? h->n : cap;
	for (int i = 0; i < n; i++)
		buf[i] = h->q[i];
	for (int i = n; i < h->n; i++)
		h->q[i - n] = h->q[i];
	h->n -= n;
	*overflow = h->overflow;
	h->overflow = 0;
	tw_unlock(&h->lock);
	return n;
}

// Fills buf with bus<<8|address of the Apple devices this context knows
// (the ones whose removal it will report), plus 1<<16 for the kinds
// trustwatch tracks; returns how many, or a negative libusb error.
// Thread-safe: libusb copies its list under a lock.
static int tw_hp_known(tw_hp *h, int *buf, int cap) {
	libusb_device **list;
	ssize_t n = libusb_get_device_list(h->ctx, &list);
	if (n < 0)
		return (int)n;
	int k = 0;
	for (ssize_t i = 0; i < n && k < cap; i++) {
		struct libusb_device_descriptor d;
		if (libusb_get_device_descriptor(list[i], &d) == 0 && d.idVendor == 0x05AC)
			buf[k++] = (tw_tracked(&d) ? 1 << 16 : 0) |
				libusb_get_bus_number(list[i]) << 8 | libusb_get_device_address(list[i]);
	}
	libusb_free_device_list(list, 1);
	return k;
}

// Wakes tw_hp_run from any thread. The interrupt flag stays set until the
// event loop sees it, so a stop that races with entering
// libusb_handle_events is not lost.
static void tw_hp_stop(tw_hp *h) {
	__atomic_store_n(&h->stop, 1, __ATOMIC_SEQ_CST);
	libusb_interrupt_event_handler(h->ctx);
}
*/
import "C"

import (
	"errors"
	"fmt"
	"time"
	"unsafe"
)

// hint is what a hotplug callback tells: something arrived or left at
// bus/address. The descriptors come from a following enumeration.
type hint struct {
	arrived   bool
	bus, addr int
	productID int
}

type hotplug struct {
	h *C.tw_hp
}

var errNoHotplug = errors.New("usb: libusb has no hotplug support here")

func libusbError(op string, rc C.int) error {
	return fmt.Errorf("usb: %s: %s", op, C.GoString(C.libusb_error_name(rc)))
}

// probe reports whether libusb initialises on this system.
func probe() error {
	if rc := C.tw_probe(); rc < 0 {
		return libusbError("libusb init", rc)
	}
	return nil
}

// poller is the polling fallback's C loop.
type poller struct{ p *C.tw_poll }

func openPoller(interval time.Duration) (*poller, error) {
	var p *C.tw_poll
	ms := max(int(interval/time.Millisecond), 1)
	if rc := C.tw_poll_open(&p, C.int(ms)); rc < 0 {
		return nil, libusbError("libusb init", rc)
	}
	return &poller{p: p}, nil
}

// run blocks until the Apple device list may have changed (false) or stop
// was called (true).
func (p *poller) run() (stopped bool) { return C.tw_poll_run(p.p) == 1 }

// signature is the poll loop's last signature, and whether it has one (the
// C loop stores both atomically).
func (p *poller) signature() (uint64, bool) {
	return uint64(C.tw_poll_last(p.p)), C.tw_poll_have(p.p) != 0
}

// stop wakes run from another goroutine; safe to call more than once.
func (p *poller) stop() { C.tw_poll_stop(p.p) }

// close frees everything; call only after run has returned.
func (p *poller) close() {
	if p.p != nil {
		C.tw_poll_free(p.p)
		p.p = nil
	}
}

func openHotplug() (*hotplug, error) {
	var h *C.tw_hp
	switch rc := C.tw_hp_open(&h); {
	case rc == 1:
		return nil, errNoHotplug
	case rc < 0:
		return nil, libusbError("hotplug init", rc)
	}
	return &hotplug{h: h}, nil
}

// run blocks until events are queued (nil, false), stop was called
// (nil, true) or libusb failed.
func (hp *hotplug) run() (stopped bool, err error) {
	switch rc := C.tw_hp_run(hp.h); {
	case rc == 1:
		return true, nil
	case rc < 0:
		return false, libusbError("handle events", rc)
	}
	return false, nil
}

func (hp *hotplug) drain() (hints []hint, overflow bool) {
	var buf [64]C.tw_ev
	for {
		var of C.int
		n := int(C.tw_hp_drain(hp.h, (*C.tw_ev)(unsafe.Pointer(&buf[0])), C.int(len(buf)), &of))
		overflow = overflow || of != 0
		for _, e := range buf[:n] {
			hints = append(hints, hint{arrived: e.arrived != 0, bus: int(e.bus), addr: int(e.addr), productID: int(e.pid)})
		}
		if n < len(buf) {
			return hints, overflow
		}
	}
}

// known returns the Apple devices whose removal this context will report,
// each with whether it is of a kind trustwatch tracks.
func (hp *hotplug) known() (map[key]bool, error) {
	var buf [256]C.int
	n := C.tw_hp_known(hp.h, &buf[0], C.int(len(buf)))
	if n < 0 {
		return nil, libusbError("device list", n)
	}
	m := make(map[key]bool, int(n))
	for _, v := range buf[:n] {
		m[key{int(v) >> 8 & 0xFF, int(v) & 0xFF}] = v>>16&1 == 1
	}
	return m, nil
}

// stop wakes run from another goroutine; safe to call more than once.
func (hp *hotplug) stop() { C.tw_hp_stop(hp.h) }

// close frees everything; call only after run has returned.
func (hp *hotplug) close() {
	if hp.h != nil {
		C.tw_hp_free(hp.h)
		hp.h = nil
	}
}
