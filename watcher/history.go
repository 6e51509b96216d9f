package watcher

import (
	"sync"
	"time"

	"github.com/trustwatch/trustwatch/watcher/engine"
)

// historyCap bounds the history kept for support reports: the newest
// entries win, whatever runs for weeks.
const historyCap = 256

// Entry is one thing that happened in this process: a device's state
// change (or its leaving), or a change of usbmuxd's state.
type Entry struct {
	Time time.Time
	// Device fields; empty for usbmuxd entries.
	Key, UDID, Name string
	State, Previous engine.State
	Detail          string
	Lockdown        string // lockdownd error name behind the state
	Removed         bool
	// Usbmux is set for usbmuxd entries.
	Usbmux *engine.Usbmux
}

// history is a ring of the newest historyCap entries.
type history struct {
	mu      sync.Mutex
	entries []Entry
	next    int
}

func (h *history) record(out engine.Output, snap engine.Snapshot, now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if out.MuxChanged {
		u := snap.Usbmux
		h.add(Entry{Time: now, Usbmux: &u})
	}
	for _, c := range out.Changes {
		d := c.Device
		h.add(Entry{Time: now, Key: d.Key, UDID: d.UDID, Name: d.Name, State: d.State, Previous: c.Previous,
			Detail: d.Detail, Lockdown: d.Lockdown, Removed: c.Removed})
	}
}

func (h *history) add(e Entry) {
	if len(h.entries) < historyCap {
		h.entries = append(h.entries, e)
		return
	}
	h.entries[h.next] = e
	h.next = (h.next + 1) % historyCap
}

// list returns the entries oldest first.
func (h *history) list() []Entry {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]Entry, 0, len(h.entries))
	out = append(out, h.entries[h.next:]...)
	return append(out, h.entries[:h.next]...)
}

// History returns what this watcher saw, oldest first (at most the newest
// 256 entries), for support reports.
func (w *Watcher) History() []Entry { return w.hist.list() }
