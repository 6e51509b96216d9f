package main

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/trustwatch/trustwatch/internal/catalog"
	speak "github.com/trustwatch/trustwatch/internal/say"
	"github.com/trustwatch/trustwatch/watcher"
	"github.com/trustwatch/trustwatch/watcher/engine"
)

func runWatch(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("watch")
	asJSON := fs.Bool("json")
	noPair := fs.Bool("no-pair")
	addr, _, code, ok := fs.parseAddr(args, 0, stdout, stderr)
	if !ok {
		return code
	}
	onePMode()
	ctx, _, stop := interruptible() // Ctrl-C ends watching: exit 0
	defer stop()
	usbSrc, _ := usbSource()
	printChange := printChangeText
	if *asJSON {
		printChange = printChangeJSON
	}
	log := stderrLogger(stderr)
	w := watcher.New(watcher.Config{
		Address: addr,
		Engine:  engine.Config{Mode: engine.ModeFollow, AllowPair: !*noPair},
		USB:     usbSrc,
		Logger:  log,
		Ledger:  openLedger(log),
		OnOutput: func(out engine.Output, snap engine.Snapshot) {
			printChange(stdout, out, snap, time.Now())
		},
	})
	_ = w.Run(ctx)
	return exitOK
}

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

func printChangeJSON(w io.Writer, out engine.Output, snap engine.Snapshot, now time.Time) {
	enc := json.NewEncoder(w)
	if out.MuxChanged {
		var l muxLine
		l.Time, l.Usbmux.Reachable, l.Usbmux.Error = stamp(now), snap.Usbmux.Reachable, snap.Usbmux.Error
		l.Usbmux.State, l.Usbmux.Advice = snap.Usbmux.State, speak.MuxAdvice(snap.Usbmux)
		_ = enc.Encode(l)
	}
	for _, c := range out.Changes {
		d := c.Device
		l := changeLine{Time: stamp(now), UDID: d.UDID, Name: d.Name, Previous: c.Previous}
		if c.Removed {
			l.Detached = true
		} else {
			l.State, l.Guide, l.Summary, l.Detail = d.State, d.Guide, speak.Summary(speak.English, d), d.Detail
		}
		_ = enc.Encode(l)
	}
}

// printChangeText prints a change as a line in the user's language; the
// state stays its identifier, as in status.
func printChangeText(w io.Writer, out engine.Output, snap engine.Snapshot, now time.Time) {
	words := catalog.Current()
	ts := now.Format("15:04:05")
	if out.MuxChanged {
		u := snap.Usbmux
		if u.Reachable {
			fmt.Fprintf(w, "%s %s\n", ts, words.T("watch.mux.reachable", map[string]any{"Service": "usbmuxd", "Address": u.Address}))
		} else if !u.Text.Headline.IsZero() {
			fmt.Fprintf(w, "%s %s\n", ts, speak.MuxLine(words, u.Text))
		} else {
			fmt.Fprintf(w, "%s %s\n", ts, words.T("watch.mux.unreachable", map[string]any{"Service": "usbmuxd", "Error": u.Error}))
		}
	}
	for _, c := range out.Changes {
		d := c.Device
		if c.Removed {
			fmt.Fprintf(w, "%s %s\n", ts, words.T("watch.unplugged", map[string]any{"Name": d.DisplayName()}))
			continue
		}
		line := fmt.Sprintf("%s %s: %s", ts, d.DisplayName(), d.State)
		if d.State.Final() {
			line += " — " + terminalSummary(words, d) // names trustwatch fix, not a tray item
		}
		if d.Detail != "" && d.State != engine.StateError { // an error's summary carries it
			line += " (" + d.Detail + ")"
		}
		fmt.Fprintln(w, line)
	}
}
