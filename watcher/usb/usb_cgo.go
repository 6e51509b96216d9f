//go:build cgo && !windows

package usb

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/gousb"
)

// Tunables; tests shorten or force them.
var (
	// pollInterval is the check period where libusb has no hotplug
	// (Windows): a change shows within this. A check that finds nothing new
	// costs one wakeup, so 1.5 s keeps within the idle budget (≤ 1/s).
	pollInterval = 1500 * time.Millisecond
	// forcePolling makes Watch poll even where hotplug works.
	forcePolling = false
	// arrivalRetries and arrivalRetryDelay cover a device whose "arrived"
	// event comes before its sysfs entry is complete.
	arrivalRetries    = 5
	arrivalRetryDelay = 100 * time.Millisecond
)

// Available reports whether the USB layer works in this build and on this
// system, and why not.
func Available() (bool, string) {
	if err := probe(); err != nil {
		return false, err.Error()
	}
	return true, ""
}

// newContext is gousb.NewContext without the panic when libusb_init fails
// (no /dev/bus/usb and no sysfs, seccomp, …).
func newContext() (c *gousb.Context, err error) {
	defer func() {
		if r := recover(); r != nil {
			c, err = nil, fmt.Errorf("%w: libusb init: %v", ErrUnavailable, r)
		}
	}()
	return gousb.NewContext(), nil
}

// closeContext closes c, in the background when wg is set: gousb's Close
// waits for its event goroutine's 100 ms poll to come round, which need not
// delay the events.
func closeContext(c *gousb.Context, wg *sync.WaitGroup) {
	if wg == nil {
		c.Close()
		return
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.Close()
	}()
}

// enumerate lists Apple devices with a short-lived gousb Context (a
// long-lived one wakes the process ten times a second). The opener reads
// each descriptor and returns false: nothing is ever opened. complete is
// false when some device's descriptors could not be read.
func enumerate(wg *sync.WaitGroup) (devs []Device, complete bool, err error) {
	c, err := newContext()
	if err != nil {
		return nil, false, err
	}
	defer closeContext(c, wg)
	_, err = c.OpenDevices(func(d *gousb.DeviceDesc) bool {
		kind, ok := Classify(int(d.Vendor), int(d.Product))
		if ok {
			devs = append(devs, fromDesc(d, kind))
		}
		return false
	})
	sortDevices(devs)
	if err != nil && len(devs) == 0 {
		return nil, false, fmt.Errorf("usb: enumerate: %w", err)
	}
	return devs, err == nil, nil
}

func fromDesc(d *gousb.DeviceDesc, kind Kind) Device {
	dev := Device{
		Bus:       d.Bus,
		Address:   d.Address,
		Port:      d.Port,
		Path:      portPath(d.Bus, d.Path),
		ProductID: int(d.Product),
		SpeedMbps: speedMbps(int(d.Speed)),
		Kind:      kind,
	}
	for _, cfg := range d.Configs {
		for _, in := range cfg.Interfaces {
			for _, alt := range in.AltSettings {
				if alt.Class == 0xFF && alt.SubClass == 0xFE && alt.Protocol == 0x02 {
					dev.HasUsbmux = true
				}
			}
		}
	}
	dev.Serial = readSerial(dev)
	return dev
}

// List returns the Apple devices on the bus now, sorted by bus and address.
func List(ctx context.Context) ([]Device, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	type result struct {
		devs []Device
		err  error
	}
	// Enumeration takes milliseconds; the goroutine only guards against a
	// libusb that hangs, and finishes on its own.
	ch := make(chan result, 1)
	go func() {
		devs, _, err := enumerate(nil)
		ch <- result{devs, err}
	}()
	select {
	case r := <-ch:
		return r.devs, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Watch sends Added for every Apple device present at start, then Added and
// Removed as devices are plugged and unplugged, until ctx ends; then it
// returns nil. It never blocks on out once ctx is done. It returns an error
// only when USB cannot be watched at all.
//
// Where libusb supports hotplug (Linux, macOS) a callback on a private
// context learns that something changed, with no polling while idle; where
// it does not (Windows) a C loop checks the bus every pollInterval (1.5 s).
func Watch(ctx context.Context, out chan<- Event) error {
	if out == nil {
		return errors.New("usb: Watch: nil channel")
	}
	var closers sync.WaitGroup
	defer closers.Wait()
	w := &watcher{ctx: ctx, out: out, tr: newTracker(), closers: &closers}

	if forcePolling {
		return w.poll()
	}
	hp, err := openHotplug()
	if errors.Is(err, errNoHotplug) {
		return w.poll()
	}
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}

	var (
		mu       sync.Mutex
		pending  []hint
		overflow bool
		runErr   error
	)
	wake := make(chan struct{}, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			stopped, err := hp.run()
			if stopped {
				return
			}
			mu.Lock()
			if err != nil {
				runErr = err
			} else {
				h, of := hp.drain()
				pending = append(pending, h...)
				overflow = overflow || of
			}
			mu.Unlock()
			select {
			case wake <- struct{}{}:
			default:
			}
			if err != nil {
				return
			}
		}
	}()
	defer func() {
		hp.stop()
		<-done
		hp.close()
	}()

	// Registered first, enumerated second: a plug in between shows up in
	// both, and the tracker drops the duplicate.
	if !w.rescan() {
		return nil
	}
	var (
		retry      <-chan time.Time
		retries    int
		awaiting   = map[key]bool{}
		orphanT    <-chan time.Time
		orphanWait = orphanFirst
	)
	for {
		for k := range awaiting {
			if w.tr.has(k) {
				delete(awaiting, k)
			}
		}
		if len(awaiting) > 0 && retry == nil {
			if retries < arrivalRetries {
				retry = time.After(arrivalRetryDelay)
			} else {
				// Still not in sysfs after the retries: the orphan
				// rescans below take over, with backoff.
				clear(awaiting)
			}
		}
		// A device the scan saw but the hotplug context missed (its "add"
		// was processed after sysfs was already gone again: a fast flap)
		// will get no "left" event; one the hotplug context has but the
		// scans never showed would never be reported. Rescan until they
		// agree, with backoff so a stuck one cannot keep the process busy.
		if orphanT == nil {
			if w.orphans(hp) {
				orphanT = time.After(orphanWait)
			} else {
				orphanWait = orphanFirst
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-wake:
			mu.Lock()
			hints, of, rerr := pending, overflow, runErr
			pending, overflow = nil, false
			mu.Unlock()
			if rerr != nil {
				// The event loop broke; keep watching by polling.
				return w.poll()
			}
			scan := of
			for _, h := range hints {
				if _, tracked := Classify(AppleVendorID, h.productID); !tracked && h.productID >= 0 {
					continue // an Apple keyboard, a Watch charger…: not worth a scan
				}
				k := key{h.bus, h.addr}
				if h.arrived {
					w.tr.arrived(k)
					awaiting[k] = true
					scan = true
					continue
				}
				delete(awaiting, k)
				if !w.emit(w.tr.left(k)) {
					return nil
				}
			}
			if scan {
				retries = 0
				if !w.rescan() {
					return nil
				}
			}
		case <-retry:
			retry = nil
			retries++
			if !w.rescan() {
				return nil
			}
		case <-orphanT:
			orphanT = nil
			if !w.rescan() {
				return nil
			}
			orphanWait = min(2*orphanWait, orphanMax)
		}
	}
}

// Orphan rescan delays (see Watch).
var (
	orphanFirst = 200 * time.Millisecond
	orphanMax   = 30 * time.Second
)

// orphans reports whether the scans and the hotplug context disagree (or
// the check failed): a tracked device the hotplug context does not know, or
// a tracked-kind device it knows that no scan has shown yet.
func (w *watcher) orphans(hp *hotplug) bool {
	known, err := hp.known()
	if err != nil {
		return len(w.tr.known) > 0
	}
	for k := range w.tr.known {
		if _, ok := known[k]; !ok {
			return true
		}
	}
	for k, tracked := range known {
		if tracked && !w.tr.has(k) && !w.tr.gone[k] {
			return true
		}
	}
	return false
}

type watcher struct {
	ctx     context.Context
	out     chan<- Event
	tr      *tracker
	closers *sync.WaitGroup
}

// emit sends events in order; false when ctx ended first.
func (w *watcher) emit(evs []Event) bool {
	for _, ev := range evs {
		select {
		case w.out <- ev:
		case <-w.ctx.Done():
			return false
		}
	}
	return w.ctx.Err() == nil
}

// rescan enumerates and emits the differences; false when ctx ended. A
// failed enumeration is skipped: the next event or poll retries.
func (w *watcher) rescan() bool {
	_, _, ok := w.rescanDevs()
	return ok
}

// rescanDevs is rescan that also returns what the enumeration found, and
// whether it succeeded.
func (w *watcher) rescanDevs() (devs []Device, scanned, ok bool) {
	devs, complete, err := enumerate(w.closers)
	if err != nil {
		return nil, false, w.ctx.Err() == nil
	}
	return devs, true, w.emit(w.tr.scan(devs, complete))
}

// poll watches without hotplug: a C loop checks the device list every
// pollInterval on a quiet libusb context and wakes us only when it changed;
// then the full gousb scan runs.
func (w *watcher) poll() error {
	p, err := openPoller(pollInterval)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	wake := make(chan struct{}, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for !p.run() {
			select {
			case wake <- struct{}{}:
			default:
			}
		}
	}()
	defer func() {
		p.stop()
		<-done
		p.close()
	}()
	// The poll loop's list and the gousb enumeration can disagree for a
	// moment (on Linux the list follows udev, which may announce a removal
	// before sysfs is gone); then the next check would see no change and
	// the scan's stale answer would stick. So rescan until they agree.
	var retry <-chan time.Time
	retries := 0
	for {
		select {
		case <-w.ctx.Done():
			return nil
		case <-wake:
			retries = 0
		case <-retry:
			retries++
		}
		retry = nil
		devs, scanned, ok := w.rescanDevs()
		if !ok {
			return nil
		}
		if sig, have := p.signature(); (!scanned || !have || sig != devSignature(devs)) && retries < arrivalRetries {
			retry = time.After(arrivalRetryDelay)
		}
	}
}

// Describe names the USB layer for `trustwatch version`.
func Describe() string { return "libusb through gousb" }
