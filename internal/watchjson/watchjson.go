// Package watchjson writes `trustwatch watch --json`: one JSON object per
// line and change, in the contract's field order. It is apart from the
// command so that the bench's in-process watcher prints exactly the same.
package watchjson

import (
	"encoding/json"
	"io"
	"time"

	"github.com/trustwatch/trustwatch/internal/say"
	"github.com/trustwatch/trustwatch/watcher/engine"
)

// changeLine is one line of `watch --json` (contract field order).
type changeLine struct {
	Time     string       `json:"time"`
	UDID     string       `json:"udid"`
	Name     string       `json:"name"`
	State    engine.State `json:"state,omitempty"`
	Previous engine.State `json:"previous"`
	Guide    string       `json:"guide"`
	Summary  string       `json:"summary"`
	Detail   string       `json:"detail"`
	// Detached marks a device that went away (no state of its own).
	Detached bool `json:"detached,omitempty"`
}

type muxLine struct {
	Time   string `json:"time"`
	Usbmux struct {
		Reachable bool            `json:"reachable"`
		Error     string          `json:"error"`
		State     engine.MuxState `json:"state"`
		Advice    string          `json:"advice"`
	} `json:"usbmux"`
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }

// Write prints out as `watch --json` lines: a usbmux line when the
// connection to usbmuxd changed, then one line per device change, in
// English whatever the user's language.
func Write(w io.Writer, out engine.Output, snap engine.Snapshot, now time.Time) {
	enc := json.NewEncoder(w)
	if out.MuxChanged {
		var l muxLine
		l.Time, l.Usbmux.Reachable, l.Usbmux.Error = stamp(now), snap.Usbmux.Reachable, snap.Usbmux.Error
		l.Usbmux.State, l.Usbmux.Advice = snap.Usbmux.State, say.MuxAdvice(snap.Usbmux)
		_ = enc.Encode(l)
	}
	for _, c := range out.Changes {
		d := c.Device
		l := changeLine{Time: stamp(now), UDID: d.UDID, Name: d.Name, Previous: c.Previous}
		if c.Removed {
			l.Detached = true
		} else {
			l.State, l.Guide, l.Summary, l.Detail = d.State, d.Guide, say.Summary(say.English, d), d.Detail
		}
		_ = enc.Encode(l)
	}
}
