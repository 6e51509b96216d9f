package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/trustwatch/trustwatch/internal/catalog"
	speak "github.com/trustwatch/trustwatch/internal/say"
	"github.com/trustwatch/trustwatch/watcher/engine"
)

// runFix is the tray's Fix trust from a terminal: one Pair for the chosen
// phone, the user taps Trust, the approved pairing is saved through
// usbmuxd; bounded by --timeout, and Ctrl-C safe.
func runFix(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("fix")
	timeout := fs.Duration("timeout")
	s, code, ok := openForAction(fs, args, forFix, stdout, stderr)
	if !ok {
		return code
	}
	defer s.Close()
	ctx, signalled, link, snap := s.ctx, s.signalled, s.link, s.snap
	if !snap.Usbmux.Reachable && len(snap.Devices) == 0 {
		describeUnreachable(stderr, snap)
		say(stdout, "cli.no_iphone", nil)
		return exitUnreachable
	}
	d, code, ok := pickPhone(snap, s.udid, "fix", stdout, stderr)
	if !ok {
		if !snap.Usbmux.Reachable {
			describeUnreachable(stderr, snap)
			return exitUnreachable
		}
		return code
	}
	name := d.DisplayName()
	nameOnly := map[string]any{"Name": name}
	switch d.State {
	case engine.StateReady, engine.StateLocked, engine.StateLockedSinceRestart:
		return alreadyTrusted(ctx, link, d, stdout, stderr)
	case engine.StateUntrusted, engine.StateTrustRevoked:
		if d.State == engine.StateTrustRevoked {
			say(stdout, "cli.fix.asking_afresh", nameOnly)
		} else {
			say(stdout, "cli.fix.asking", nameOnly)
		}
		link.FixTrust(d.Key)
	case engine.StateServiceUnavailable:
		fmt.Fprintf(stdout, "%s  %s  %s\n", name, d.State, speak.Summary(catalog.Current(), d))
		describeUnreachable(stderr, snap)
		return exitUnreachable
	default:
		fmt.Fprintf(stdout, "%s  %s  %s\n", name, d.State, terminalSummary(catalog.Current(), d))
		say(stderr, "cli.fix.cannot_in_state", map[string]any{"Name": name, "State": d.State})
		return exitFailure
	}
	return awaitTrust(ctx, signalled, link, d, *timeout, stdout, stderr)
}

// awaitTrust follows the phone after the Pair until it trusts this
// computer and the pairing is saved, or says why not.
func awaitTrust(ctx context.Context, signalled func() int, link phoneLink, d engine.Device, timeout time.Duration, stdout, stderr io.Writer) int {
	name := d.DisplayName()
	waiting := map[string]any{"Name": name, "Timeout": timeout}
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
				say(stderr, "cli.fix.unplugged", waiting)
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
				say(stdout, "cli.fix.tap_trust", waiting)
			case engine.StateUntrustedLocked:
				say(stdout, "cli.fix.unlock", waiting)
			case engine.StateUntrusted:
				// between the unlock and the question: keep waiting
			case engine.StateReady, engine.StateLocked, engine.StateLockedSinceRestart:
				return confirmSaved(ctx, link, cur, stdout, stderr)
			case engine.StateTrustDenied:
				say(stderr, "cli.fix.denied", waiting)
				return exitDenied
			case engine.StateServiceUnavailable:
				fmt.Fprintf(stderr, "%s\n", speak.Summary(catalog.Current(), cur))
				return exitUnreachable
			default:
				say(stderr, "cli.fix.now_state", map[string]any{"Name": name, "Words": speak.StateWords(catalog.Current(), cur.State), "Summary": terminalSummary(catalog.Current(), cur)})
				return exitFailure
			}
		case <-deadline.C:
			if last.State == engine.StateUntrustedLocked {
				say(stderr, "cli.fix.stayed_locked", waiting)
				return exitLocked
			}
			// A "Don't Trust" tapped now is not reported by the phone: only
			// another Pair would tell, and that could flash the question.
			say(stderr, "cli.fix.timed_out", waiting)
			return exitTimedOut
		case <-ctx.Done():
			code := signalled()
			if code == 0 {
				code = exitInterrupted
			}
			link.Close() // stop before looking, so nothing is saved behind our back
			if saved, err := link.HasPairRecord(context.Background(), d.UDID); err == nil && saved {
				say(stderr, "cli.fix.interrupted_saved", waiting)
			} else {
				say(stderr, "cli.fix.interrupted_unsaved", nil)
			}
			return code
		}
	}
}

// alreadyTrusted handles a phone that needs no Pair.
func alreadyTrusted(ctx context.Context, link phoneLink, d engine.Device, stdout, stderr io.Writer) int {
	say(stdout, "cli.fix.already", map[string]any{"Name": d.DisplayName()})
	return confirmSaved(ctx, link, d, io.Discard, stderr)
}

// confirmSaved checks that usbmuxd now holds the pairing, which is what
// makes the trust last: exit 0 only then.
func confirmSaved(ctx context.Context, link phoneLink, d engine.Device, stdout, stderr io.Writer) int {
	name := map[string]any{"Name": d.DisplayName()}
	saved, err := link.HasPairRecord(ctx, d.UDID)
	if err != nil {
		say(stderr, "cli.fix.cannot_check", map[string]any{"Name": d.DisplayName(), "Error": err})
		return exitFailure
	}
	if !saved {
		say(stderr, "cli.fix.no_record", name)
		return exitFailure
	}
	say(stdout, "cli.fix.saved", name)
	switch d.State {
	case engine.StateLocked, engine.StateLockedSinceRestart:
		say(stderr, "cli.fix.locked_after", name)
	}
	return exitOK
}
