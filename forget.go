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
	"github.com/trustwatch/trustwatch/internal/say"
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
	addr, pos, code, ok := fs.parseAddr(args, 1, stdout, stderr)
	if !ok {
		return code
	}
	ctx, signalled, stop := interruptible()
	defer stop()
	link, snap := openPhones(ctx, addr, forForget)
	defer link.Close()
	if c := signalled(); c != 0 {
		fmt.Fprintln(stderr, "Interrupted; nothing was changed.")
		return c
	}
	if !snap.Usbmux.Reachable {
		describeUnreachable(stderr, snap)
		return exitUnreachable
	}
	udid := ""
	if len(pos) == 1 {
		udid = pos[0]
	}
	d, code, ok := pickPhone(snap, udid, "forget", stdout, stderr)
	if !ok {
		return code
	}
	name := d.DisplayName()
	switch d.State {
	case engine.StateReady, engine.StateLocked, engine.StateLockedSinceRestart, engine.StateTrustRevoked, engine.StateError:
	case engine.StateUntrusted, engine.StateUntrustedLocked, engine.StateTrustPending, engine.StateTrustDenied:
		fmt.Fprintf(stdout, "This computer has no pairing with %s; nothing to forget.\n", name)
		return exitOK
	default:
		fmt.Fprintf(stderr, "trustwatch forget: %s is %s, so usbmuxd cannot reach it; nothing was changed.\n", name, say.StateWords(catalog.Current(), d.State))
		return exitFailure
	}
	if !*yes {
		fmt.Fprintf(stdout, "Forget the pairing between this computer and %s (%s)? It will ask \"Trust This Computer?\" again the next time it is plugged in. [y/N] ", name, d.UDID)
		answer := make(chan string, 1)
		go func() {
			line, _ := bufio.NewReader(stdin).ReadString('\n')
			answer <- strings.ToLower(strings.TrimSpace(line))
		}()
		select {
		case a := <-answer:
			if a != "y" && a != "yes" {
				fmt.Fprintln(stdout, "Nothing was changed.")
				return exitFailure
			}
		case <-ctx.Done():
			fmt.Fprintln(stdout)
			fmt.Fprintln(stderr, "Interrupted; nothing was changed.")
			return signalled()
		}
	}
	return forgetPhone(ctx, signalled, link, d, stdout, stderr)
}

// forgetPhone asks the engine to forget, waits for the phone's next final
// state, and checks that usbmuxd no longer holds the pairing.
func forgetPhone(ctx context.Context, signalled func() int, link phoneLink, d engine.Device, stdout, stderr io.Writer) int {
	name := d.DisplayName()
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
				fmt.Fprintf(stderr, "trustwatch forget: %s was unplugged before its pairing could be removed.\n", name)
				return exitNoPhone
			}
			// Snapshots coalesce, so "probing" may never be seen: a new
			// final state (or a new one entered since) ends the wait.
			if !cur.State.Final() || (cur.State == d.State && cur.Since.Equal(d.Since)) {
				continue
			}
		case <-bound.C:
			fmt.Fprintf(stderr, "trustwatch forget: %s did not answer within %s.\n", name, forgetBound)
			return exitFailure
		case <-ctx.Done():
			fmt.Fprintln(stderr, "Interrupted; the pairing may or may not have been removed (run trustwatch status to see).")
			return signalled()
		}
		saved, err := link.HasPairRecord(ctx, d.UDID)
		switch {
		case err != nil:
			fmt.Fprintf(stderr, "trustwatch forget: could not check usbmuxd afterwards: %v\n", err)
			return exitFailure
		case saved:
			fmt.Fprintf(stderr, "trustwatch forget: usbmuxd still holds the pairing with %s; nothing was removed.\n", name)
			return exitFailure
		}
		fmt.Fprintf(stdout, "Forgotten: %s will ask to trust this computer the next time it is plugged in.\n", name)
		return exitOK
	}
}
