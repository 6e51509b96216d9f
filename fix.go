package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/trustwatch/trustwatch/internal/catalog"
	"github.com/trustwatch/trustwatch/internal/say"
	"github.com/trustwatch/trustwatch/watcher/engine"
)

// runFix is the tray's Fix trust from a terminal: one Pair for the chosen
// phone, the user taps Trust, the approved pairing is saved through
// usbmuxd; bounded by --timeout, and Ctrl-C safe.
func runFix(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("fix")
	timeout := fs.Duration("timeout")
	addr, pos, code, ok := fs.parseAddr(args, 1, stdout, stderr)
	if !ok {
		return code
	}
	ctx, signalled, stop := interruptible()
	defer stop()
	link, snap := openPhones(ctx, addr, forFix)
	defer link.Close()
	if c := signalled(); c != 0 {
		fmt.Fprintln(stderr, "Interrupted; nothing was changed.")
		return c
	}
	if !snap.Usbmux.Reachable && len(snap.Devices) == 0 {
		describeUnreachable(stderr, snap)
		fmt.Fprintln(stdout, "No iPhone connected.")
		return exitUnreachable
	}
	udid := ""
	if len(pos) == 1 {
		udid = pos[0]
	}
	d, code, ok := pickPhone(snap, udid, "fix", stdout, stderr)
	if !ok {
		if !snap.Usbmux.Reachable {
			describeUnreachable(stderr, snap)
			return exitUnreachable
		}
		return code
	}
	name := d.DisplayName()
	switch d.State {
	case engine.StateReady, engine.StateLocked, engine.StateLockedSinceRestart:
		return alreadyTrusted(ctx, link, d, stdout, stderr)
	case engine.StateUntrusted, engine.StateTrustRevoked:
		if d.State == engine.StateTrustRevoked {
			fmt.Fprintf(stdout, "%s no longer accepts this computer's pairing: removing it and asking the iPhone to trust this computer again.\n", name)
		} else {
			fmt.Fprintf(stdout, "Asking %s to trust this computer.\n", name)
		}
		link.FixTrust(d.Key)
	case engine.StateServiceUnavailable:
		fmt.Fprintf(stdout, "%s  %s  %s\n", name, d.State, say.Summary(catalog.Current(), d))
		describeUnreachable(stderr, snap)
		return exitUnreachable
	default:
		fmt.Fprintf(stdout, "%s  %s  %s\n", name, d.State, terminalSummary(catalog.Current(), d))
		fmt.Fprintf(stderr, "trustwatch fix: nothing was sent to %s: a pairing cannot be asked for in state %s.\n", name, d.State)
		return exitFailure
	}
	return awaitTrust(ctx, signalled, link, d, *timeout, stdout, stderr)
}

// awaitTrust follows the phone after the Pair until it trusts this
// computer and the pairing is saved, or says why not.
func awaitTrust(ctx context.Context, signalled func() int, link phoneLink, d engine.Device, timeout time.Duration, stdout, stderr io.Writer) int {
	name := d.DisplayName()
	snaps, unsubscribe := link.Subscribe()
	defer unsubscribe()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	told := engine.State("")
	last := d
	moved := false // the Pair has started: the state before it is history
	for {
		select {
		case s, ok := <-snaps:
			if !ok {
				snaps = nil // the watcher stopped with ctx: handled below
				continue
			}
			cur, present := s.Device(d.Key)
			if !present {
				fmt.Fprintf(stderr, "trustwatch fix: %s was unplugged; nothing was saved. Plug it in and run trustwatch fix again.\n", name)
				return exitNoPhone
			}
			last = cur
			if !cur.State.Final() {
				moved = true
				continue
			}
			if cur.State == told || (!moved && cur.State == d.State) {
				continue
			}
			told = cur.State
			switch cur.State {
			case engine.StateTrustPending:
				fmt.Fprintf(stdout, "Tap Trust on %s (\"Trust This Computer?\"), then enter its passcode. Waiting up to %s; Ctrl-C to stop.\n", name, timeout)
			case engine.StateUntrustedLocked:
				fmt.Fprintf(stdout, "Unlock %s: it can only ask whether to trust this computer when it is unlocked. Waiting up to %s; Ctrl-C to stop.\n", name, timeout)
			case engine.StateUntrusted:
				// between the unlock and the question: keep waiting
			case engine.StateReady, engine.StateLocked, engine.StateLockedSinceRestart:
				return confirmSaved(ctx, link, cur, stdout, stderr)
			case engine.StateTrustDenied:
				fmt.Fprintf(stderr, "\"Don't Trust\" was tapped on %s. Unplug it and plug it in again (it asks again then), and run trustwatch fix again.\n", name)
				return exitDenied
			case engine.StateServiceUnavailable:
				fmt.Fprintf(stderr, "%s\n", say.Summary(catalog.Current(), cur))
				return exitUnreachable
			default:
				fmt.Fprintf(stderr, "trustwatch fix: %s is now %s: %s\n", name, say.StateWords(catalog.Current(), cur.State), terminalSummary(catalog.Current(), cur))
				return exitFailure
			}
		case <-deadline.C:
			if last.State == engine.StateUntrustedLocked {
				fmt.Fprintf(stderr, "%s stayed locked for %s, so it could not ask whether to trust this computer. Unlock it and run trustwatch fix again.\n", name, timeout)
				return exitLocked
			}
			// A "Don't Trust" tapped now is not reported by the phone: only
			// another Pair would tell, and that could flash the question.
			fmt.Fprintf(stderr, "Nobody tapped Trust on %s within %s; nothing was saved. Run trustwatch fix again when you are at the iPhone (if \"Don't Trust\" was tapped, unplug it and plug it in again first).\n", name, timeout)
			return exitTimedOut
		case <-ctx.Done():
			code := signalled()
			if code == 0 {
				code = exitInterrupted
			}
			link.Close() // stop before looking, so nothing is saved behind our back
			if saved, err := link.HasPairRecord(context.Background(), d.UDID); err == nil && saved {
				fmt.Fprintf(stderr, "Interrupted, after the pairing with %s was saved.\n", name)
			} else {
				fmt.Fprintln(stderr, "Interrupted; nothing was saved.")
			}
			return code
		}
	}
}

// alreadyTrusted handles a phone that needs no Pair.
func alreadyTrusted(ctx context.Context, link phoneLink, d engine.Device, stdout, stderr io.Writer) int {
	fmt.Fprintf(stdout, "%s already trusts this computer; nothing to fix.\n", d.DisplayName())
	return confirmSaved(ctx, link, d, io.Discard, stderr)
}

// confirmSaved checks that usbmuxd now holds the pairing, which is what
// makes the trust last: exit 0 only then.
func confirmSaved(ctx context.Context, link phoneLink, d engine.Device, stdout, stderr io.Writer) int {
	saved, err := link.HasPairRecord(ctx, d.UDID)
	if err != nil {
		fmt.Fprintf(stderr, "trustwatch fix: %s trusts this computer, but usbmuxd could not be asked for the pairing: %v\n", d.DisplayName(), err)
		return exitFailure
	}
	if !saved {
		fmt.Fprintf(stderr, "trustwatch fix: %s trusts this computer, but usbmuxd holds no pairing for it; run trustwatch fix again.\n", d.DisplayName())
		return exitFailure
	}
	fmt.Fprintf(stdout, "%s now trusts this computer; the pairing is saved.\n", d.DisplayName())
	switch d.State {
	case engine.StateLocked, engine.StateLockedSinceRestart:
		fmt.Fprintf(stderr, "%s is locked: unlock it to sync, back up or import photos.\n", d.DisplayName())
	}
	return exitOK
}
