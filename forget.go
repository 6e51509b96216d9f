package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/trustwatch/trustwatch/internal/catalog"
	speak "github.com/trustwatch/trustwatch/internal/say"
	"github.com/trustwatch/trustwatch/watcher/engine"
)

// stdin is where forget reads its confirmation (tests replace it).
var stdin io.Reader = os.Stdin

// forgetBound bounds the unpairing itself (the executor's own steps are
// bounded by the 5 s probe budget).
const forgetBound = 15 * time.Second

// runForget is the tray's "Forget this computer's pairing" from a terminal.
func runForget(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("forget")
	yes := fs.Bool("yes")
	s, code, ok := openForAction(fs, args, forForget, stdout, stderr)
	if !ok {
		return code
	}
	defer s.Close()
	ctx, signalled, link, snap := s.ctx, s.signalled, s.link, s.snap
	if !snap.Usbmux.Reachable {
		describeUnreachable(stderr, snap)
		return exitUnreachable
	}
	d, code, ok := pickPhone(snap, s.udid, "forget", stdout, stderr)
	if !ok {
		return code
	}
	name := d.DisplayName()
	switch d.State {
	case engine.StateReady, engine.StateLocked, engine.StateLockedSinceRestart, engine.StateTrustRevoked, engine.StateError:
	case engine.StateUntrusted, engine.StateUntrustedLocked, engine.StateTrustPending, engine.StateTrustDenied:
		say(stdout, "cli.forget.no_pairing", map[string]any{"Name": name})
		return exitOK
	default:
		say(stderr, "cli.forget.unreachable_state", map[string]any{"Name": name, "Words": speak.StateWords(catalog.Current(), d.State)})
		return exitFailure
	}
	if !*yes {
		fmt.Fprint(stdout, catalog.Current().T("cli.forget.question", map[string]any{"Name": name, "UDID": d.UDID})+" ")
		answer := make(chan string, 1)
		go func() {
			line, _ := bufio.NewReader(stdin).ReadString('\n')
			answer <- strings.ToLower(strings.TrimSpace(line))
		}()
		select {
		case a := <-answer:
			if !isYes(a) {
				say(stdout, "cli.nothing_changed", nil)
				return exitFailure
			}
		case <-ctx.Done():
			fmt.Fprintln(stdout)
			say(stderr, "cli.interrupted_unchanged", nil)
			return signalled()
		}
	}
	return forgetPhone(ctx, signalled, link, d, stdout, stderr)
}

// forgetPhone asks the engine to forget, waits for the phone's next final
// state, and checks that usbmuxd no longer holds the pairing.
func forgetPhone(ctx context.Context, signalled func() int, link phoneLink, d engine.Device, stdout, stderr io.Writer) int {
	name := map[string]any{"Name": d.DisplayName()}
	snaps, unsubscribe := link.Subscribe()
	defer unsubscribe()
	link.Forget(d.Key)
	bound := time.NewTimer(forgetBound)
	defer bound.Stop()
	for {
		select {
		case s, ok := <-snaps:
			if !ok {
				snaps = nil // the watcher stopped with ctx: handled below
				continue
			}
			cur, present := s.Device(d.Key)
			if !present {
				say(stderr, "cli.forget.unplugged", name)
				return exitNoPhone
			}
			// Snapshots coalesce, so "probing" may never be seen: a new
			// final state (or a new one entered since) ends the wait.
			if !cur.State.Final() || (cur.State == d.State && cur.Since.Equal(d.Since)) {
				continue
			}
		case <-bound.C:
			say(stderr, "cli.forget.no_answer", map[string]any{"Name": d.DisplayName(), "Bound": forgetBound})
			return exitFailure
		case <-ctx.Done():
			say(stderr, "cli.forget.interrupted", nil)
			return signalled()
		}
		saved, err := link.HasPairRecord(ctx, d.UDID)
		switch {
		case err != nil:
			say(stderr, "cli.forget.cannot_check", map[string]any{"Error": err})
			return exitFailure
		case saved:
			say(stderr, "cli.forget.still_held", name)
			return exitFailure
		}
		say(stdout, "cli.forget.done", name)
		return exitOK
	}
}

// isYes tells whether an answer to forget's question (lower case, trimmed)
// is a yes in the language asked or in English.
func isYes(answer string) bool {
	words := catalog.Current().T("cli.forget.yes_words", nil) + "," + speak.English.T("cli.forget.yes_words", nil)
	for _, w := range strings.Split(words, ",") {
		if w = strings.TrimSpace(w); w != "" && answer == w {
			return true
		}
	}
	return false
}
