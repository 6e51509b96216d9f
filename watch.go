package main

import (
	"fmt"
	"io"
	"time"

	"github.com/trustwatch/trustwatch/internal/catalog"
	speak "github.com/trustwatch/trustwatch/internal/say"
	"github.com/trustwatch/trustwatch/internal/watchjson"
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
		printChange = watchjson.Write
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
