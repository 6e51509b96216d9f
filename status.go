package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/trustwatch/trustwatch/internal/catalog"
	speak "github.com/trustwatch/trustwatch/internal/say"
	"github.com/trustwatch/trustwatch/watcher/engine"
	"github.com/trustwatch/trustwatch/watcher/usbmux"
)

func runStatus(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("status")
	asJSON := fs.Bool("json")
	noPair := fs.Bool("no-pair")
	timeout := fs.Duration("timeout")
	addr, _, code, ok := fs.parseAddr(args, 0, stdout, stderr)
	if !ok {
		return code
	}
	ctx, signalled, stop := interruptible()
	defer stop()
	// The running tray already knows the phones: ask it, and probe here
	// (which may send a Pair) only when nothing runs.
	tctx, tcancel := context.WithTimeout(ctx, *timeout)
	snap, fromTray := askRunning(tctx, addr)
	tcancel()
	if fromTray {
		snap = snap.Expire(*timeout)
	} else {
		snap = diagnoseOnce(ctx, addr, !*noPair, *timeout, stderrLogger(stderr))
	}
	if c := signalled(); c != 0 {
		// Cut short: whatever was found so far is not a verdict.
		say(stderr, "cli.status.interrupted", nil)
		return c
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		if err := enc.Encode(contractStatus(snap)); err != nil {
			fmt.Fprintf(stderr, "trustwatch status: %v\n", err)
			return exitFailure
		}
	} else {
		printStatus(stdout, stderr, snap)
	}
	if !snap.Usbmux.Reachable {
		return exitUnreachable
	}
	return exitOK
}

// stopGrace is how long status waits for its watcher to stop once the
// answer is known or --timeout has passed; past it the process exits
// anyway, so --timeout bounds the whole run.
const stopGrace = 250 * time.Millisecond

// diagnoseOnce runs a watcher until usbmuxd has answered (or refused) and
// every device has a final state, or until timeout; what is then still in
// progress is an error (Expire).
func diagnoseOnce(ctx context.Context, addr usbmux.Address, allowPair bool, timeout time.Duration, log *slog.Logger) engine.Snapshot {
	l, snap := watchHere(ctx, addr, engine.Config{Mode: engine.ModeOneShot, AllowPair: allowPair}, log, timeout)
	l.cancel()
	select {
	case <-l.done:
	case <-time.After(stopGrace):
	}
	return snap.Expire(timeout)
}

// statusOut is what `status --json` prints: the contract's fields in its
// order, the words in English whatever the user's language.
type statusOut struct {
	Usbmux  usbmuxOut   `json:"usbmux"`
	Devices []deviceOut `json:"devices"`
}

type usbmuxOut struct {
	Address   string          `json:"address"`
	Reachable bool            `json:"reachable"`
	Error     string          `json:"error"`
	State     engine.MuxState `json:"state"`
	Advice    string          `json:"advice"`
}

type deviceOut struct {
	UDID        string          `json:"udid"`
	Name        string          `json:"name"`
	ProductType string          `json:"product_type"`
	IOSVersion  string          `json:"ios_version"`
	Connection  string          `json:"connection"`
	State       engine.State    `json:"state"`
	Summary     string          `json:"summary"`
	Guide       string          `json:"guide"`
	Detail      string          `json:"detail"`
	LinkSpeed   string          `json:"link_speed,omitempty"`
	USB         *engine.USBInfo `json:"usb,omitempty"`
}

func contractStatus(s engine.Snapshot) statusOut {
	u := s.Usbmux
	out := statusOut{
		Usbmux:  usbmuxOut{Address: u.Address, Reachable: u.Reachable, Error: u.Error, State: u.State, Advice: speak.MuxAdvice(u)},
		Devices: make([]deviceOut, 0, len(s.Devices)),
	}
	for _, d := range s.Devices {
		out.Devices = append(out.Devices, deviceOut{
			UDID: d.UDID, Name: d.Name, ProductType: d.ProductType, IOSVersion: d.IOSVersion, Connection: d.Connection,
			State: d.State, Summary: speak.Summary(speak.English, d), Guide: d.Guide, Detail: d.Detail,
			LinkSpeed: speak.Advice(speak.English, d.LinkSpeed), USB: d.USB,
		})
	}
	return out
}

func printStatus(stdout, stderr io.Writer, s engine.Snapshot) {
	w := catalog.Current()
	if !s.Usbmux.Reachable {
		describeUnreachable(stderr, s)
	}
	if len(s.Devices) == 0 {
		say(stdout, "cli.no_iphone", nil)
		return
	}
	for _, d := range s.Devices {
		fmt.Fprintf(stdout, "%s  %s  %s\n", d.DisplayName(), d.State, terminalSummary(w, d))
	}
}

// terminalSummary is a device's advice for someone at a terminal, in w:
// where the tray's advice names a menu item, the command that does the
// same; the technical detail only where it is the whole answer (error).
func terminalSummary(w catalog.Words, d engine.Device) string {
	fix := "trustwatch fix"
	if d.UDID != "" {
		fix += " " + d.UDID
	}
	switch d.State {
	case engine.StateTrustRevoked:
		return w.T("status.trust-revoked", map[string]any{"Command": fix})
	case engine.StateUntrusted:
		return w.T("status.untrusted", map[string]any{"Command": fix})
	case engine.StateError:
		if d.Detail != "" {
			return w.T("status.reason", map[string]any{"Summary": speak.Summary(w, d), "Detail": d.Detail})
		}
	}
	return speak.Summary(w, d)
}
