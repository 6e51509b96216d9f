package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"time"

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
		if err := enc.Encode(snap); err != nil {
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

func printStatus(stdout, stderr io.Writer, s engine.Snapshot) {
	if !s.Usbmux.Reachable {
		describeUnreachable(stderr, s)
	}
	if len(s.Devices) == 0 {
		say(stdout, "cli.no_iphone", nil)
		return
	}
	for _, d := range s.Devices {
		fmt.Fprintf(stdout, "%s  %s  %s\n", d.DisplayName(), d.State, terminalSummary(d))
	}
}

// terminalSummary is a device's advice for someone at a terminal: where the
// tray's advice names a menu item, the command that does the same; the
// technical detail only where it is the whole answer (error).
func terminalSummary(d engine.Device) string {
	fix := "trustwatch fix"
	if d.UDID != "" {
		fix += " " + d.UDID
	}
	switch d.State {
	case engine.StateTrustRevoked:
		return "The iPhone no longer trusts this computer (trust was reset). Run " + fix + ", then tap Trust on the iPhone."
	case engine.StateUntrusted:
		return "This computer is not trusted by the iPhone. Run " + fix + ", unlock the iPhone and tap Trust."
	case engine.StateError:
		if d.Detail != "" {
			return d.Summary + " Reason: " + d.Detail
		}
	}
	return d.Summary
}
