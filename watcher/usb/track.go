package usb

import "sort"

// tracker turns enumerations and hotplug hints into Added/Removed events.
// It is pure (no I/O) so that every merge rule is a table test.
type tracker struct {
	known map[key]Device
	// gone holds devices whose "left" hotplug event was seen but which an
	// enumeration may still show for a moment: udev announces a removal
	// before sysfs is gone, and umockdev sends the uevent before removing
	// the files. Without this, the next scan would re-add a dead device.
	gone map[key]bool
}

func newTracker() *tracker {
	return &tracker{known: map[key]Device{}, gone: map[key]bool{}}
}

// left applies a hotplug "left" event.
func (t *tracker) left(k key) []Event {
	t.gone[k] = true
	d, ok := t.known[k]
	if !ok {
		return nil
	}
	delete(t.known, k)
	return []Event{{Kind: Removed, Device: d}}
}

// arrived applies a hotplug "arrived" event: the address is live again, so
// an older tombstone for it no longer applies. The device itself is added by
// the next scan, which reads its descriptors.
func (t *tracker) arrived(k key) { delete(t.gone, k) }

// scan merges one enumeration. complete is false when the enumeration hit
// an error, so absence proves nothing and no Removed is derived from it.
func (t *tracker) scan(devs []Device, complete bool) []Event {
	devs = append([]Device(nil), devs...)
	sortDevices(devs)
	var evs []Event
	seen := make(map[key]bool, len(devs))
	for _, d := range devs {
		k := d.key()
		seen[k] = true
		if t.gone[k] {
			continue
		}
		old, ok := t.known[k]
		if ok && sameDevice(old, d) {
			if old.Problem != d.Problem {
				// The same device whose driver state changed (Windows:
				// a driver got installed while it was plugged in):
				// Added again refreshes it without an unplug.
				t.known[k] = d
				evs = append(evs, Event{Kind: Added, Device: d})
			}
			continue
		}
		if ok {
			// Same bus/address but different identity: the old one left
			// while we were not looking.
			evs = append(evs, Event{Kind: Removed, Device: old})
		}
		t.known[k] = d
		evs = append(evs, Event{Kind: Added, Device: d})
	}
	for k := range t.gone {
		if !seen[k] {
			delete(t.gone, k)
		}
	}
	if complete {
		var gone []Device
		for k, d := range t.known {
			if !seen[k] {
				gone = append(gone, d)
				delete(t.known, k)
			}
		}
		sortDevices(gone)
		for _, d := range gone {
			evs = append(evs, Event{Kind: Removed, Device: d})
		}
	}
	return evs
}

// has reports whether a device with this key is currently known.
func (t *tracker) has(k key) bool { _, ok := t.known[k]; return ok }

// sameDevice compares identity, not every field: a serial that was
// unreadable on one scan and readable on the next is the same device.
func sameDevice(a, b Device) bool {
	return a.ProductID == b.ProductID && a.Path == b.Path && a.SpeedMbps == b.SpeedMbps &&
		(a.Serial == "" || b.Serial == "" || a.Serial == b.Serial)
}

func sortDevices(ds []Device) {
	sort.Slice(ds, func(i, j int) bool {
		if ds[i].Bus != ds[j].Bus {
			return ds[i].Bus < ds[j].Bus
		}
		return ds[i].Address < ds[j].Address
	})
}
