package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/trustwatch/trustwatch/internal/catalog"
	speak "github.com/trustwatch/trustwatch/internal/say"
	"github.com/trustwatch/trustwatch/watcher"
	"github.com/trustwatch/trustwatch/watcher/engine"
	"github.com/trustwatch/trustwatch/watcher/usbmux"
)

// lookupBound bounds how long fix, forget and report wait for the first
// diagnosis of every phone (status's default timeout).
const lookupBound = 10 * time.Second

// purpose says what a verb may do to the phones it looks at.
type purpose int

const (
	forReport purpose = iota // look only: no Pair, no record written
	forForget                // look, then remove a pairing on request
	forFix                   // look, then one Pair on request, wait for Trust, save
)

// phoneLink is how the terminal verbs see the phones and act on them.
// openPhones makes it from a watcher in this process; it is the one place
// to switch to the running tray (the ipc endpoint), so that fix and forget
// go through the tray's engine, and the Pair ledger holds either way.
type phoneLink interface {
	Snapshot() engine.Snapshot
	Subscribe() (<-chan engine.Snapshot, func())
	FixTrust(key string)
	Forget(key string)
	History() []watcher.Entry
	// HasPairRecord tells whether usbmuxd holds this computer's pair
	// record for udid (the record itself never leaves the link).
	HasPairRecord(ctx context.Context, udid string) (bool, error)
	// Close stops the link and waits for everything it started.
	Close()
}

// openPhones starts watching, and returns once usbmuxd has answered and
// every phone has a final state (or lookupBound passed), with the
// snapshot at that moment. Diagnosis sends no Pair: a Pair only follows a
// FixTrust, so looking at several phones never asks one of them to trust.
func openPhones(ctx context.Context, addr usbmux.Address, p purpose) (phoneLink, engine.Snapshot) {
	// A running tray already follows the phones: act through it.
	tctx, tcancel := context.WithTimeout(ctx, lookupBound)
	s, ok := askRunning(tctx, addr)
	tcancel()
	if ok {
		return newTrayLink(addr, s), s.Expire(lookupBound)
	}
	cfg := engine.Config{Mode: engine.ModeOneShot}
	if p == forFix {
		// Follow the phone through unlock and Trust, and save the pairing
		// the user approved, as the tray does after Fix trust.
		cfg.Mode = engine.ModeFollow
	}
	return watchHere(ctx, addr, cfg, slog.New(slog.DiscardHandler), lookupBound)
}

// watchHere starts a watcher in this process and returns once usbmuxd has
// answered and every phone has a final state, with the snapshot then; or
// once bound has passed, with the snapshot expired; or when ctx ends, with
// the latest snapshot as it is. The watcher keeps running until the
// link's Close.
func watchHere(ctx context.Context, addr usbmux.Address, cfg engine.Config, log *slog.Logger, bound time.Duration) (*localLink, engine.Snapshot) {
	usbSrc, usbReady := usbSource()
	w := watcher.New(watcher.Config{Address: addr, Engine: cfg, USB: usbSrc, Logger: log, Ledger: openLedger(log)})
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = w.Run(wctx) }()
	l := &localLink{Watcher: w, addr: addr, cancel: cancel, done: done}
	snaps, stop := w.Subscribe()
	defer stop()
	timeout := time.NewTimer(bound)
	defer timeout.Stop()
	// Snapshots arrive on changes; the short tick also notices the USB
	// layer finishing its first listing, which changes no state.
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case _, ok := <-snaps:
			if !ok { // the watcher stopped: only ctx ends it
				return l, w.Snapshot()
			}
		case <-tick.C:
		case <-timeout.C:
			return l, w.Snapshot().Expire(bound)
		case <-ctx.Done():
			return l, w.Snapshot()
		}
		if s := w.Snapshot(); s.Usbmux.Answered() && usbReady() && s.AllFinal() {
			return l, s
		}
	}
}

// localLink is a phoneLink backed by a watcher in this process.
type localLink struct {
	*watcher.Watcher
	addr   usbmux.Address
	cancel context.CancelFunc
	done   chan struct{}
}

func (l *localLink) HasPairRecord(ctx context.Context, udid string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err := usbmux.ReadPairRecord(ctx, l.addr, udid)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, usbmux.ErrNoPairRecord):
		return false, nil
	}
	var refused *usbmux.ResultError
	if errors.As(err, &refused) {
		return false, nil // what Apple's daemons answer for "none" is not known; a clean refusal is "none"
	}
	return false, err
}

func (l *localLink) Close() {
	l.cancel()
	<-l.done
}

// pickPhone chooses the phone a verb acts on: the one given by UDID, or the
// only one connected. With several and no UDID it lists them (exit 2).
func pickPhone(snap engine.Snapshot, udid, verb string, stdout, stderr io.Writer) (engine.Device, int, bool) {
	if udid != "" {
		want := engine.NormalizeUDID(udid)
		for _, d := range snap.Devices {
			if d.UDID != "" && engine.NormalizeUDID(d.UDID) == want {
				return d, 0, true
			}
		}
		data := map[string]any{"Verb": verb, "UDID": udid}
		if len(snap.Devices) == 0 {
			say(stderr, "cli.pick.none_connected", data)
		} else {
			say(stderr, "cli.pick.no_match", data)
			listPhones(stderr, snap, verb)
		}
		return engine.Device{}, exitNoPhone, false
	}
	switch len(snap.Devices) {
	case 0:
		say(stdout, "cli.no_iphone", nil)
		say(stderr, "cli.pick.plug_in", map[string]any{"Verb": verb})
		return engine.Device{}, exitNoPhone, false
	case 1:
		return snap.Devices[0], 0, true
	}
	fmt.Fprintln(stderr, catalog.Current().N("cli.pick.several", len(snap.Devices), map[string]any{"Verb": verb}))
	listPhones(stderr, snap, verb)
	return engine.Device{}, exitUsage, false
}

func listPhones(w io.Writer, snap engine.Snapshot, verb string) {
	for _, d := range snap.Devices {
		id := d.UDID
		if id == "" {
			id = catalog.Current().T("cli.pick.udid_unknown", nil)
		}
		fmt.Fprintf(w, "  trustwatch %s %-26s  # %s, %s\n", verb, id, d.DisplayName(), speak.StateWords(catalog.Current(), d.State))
	}
}

// describeUnreachable writes usbmuxd's state to stderr in plain words, in
// the user's language, with the next step (and the raw error when it helps someone fix it).
func describeUnreachable(stderr io.Writer, s engine.Snapshot) {
	w := catalog.Current()
	t := s.Usbmux.Text
	if t.Headline.IsZero() {
		if s.Usbmux.Error != "" {
			say(stderr, "cli.mux.unreachable_at", map[string]any{"Address": s.Usbmux.Address, "Error": s.Usbmux.Error})
		}
		return
	}
	if !t.Problem {
		fmt.Fprintf(stderr, "%s.\n", strings.TrimSuffix(speak.MuxLine(w, t), "."))
		return
	}
	fmt.Fprintf(stderr, "%s.\n", speak.MuxHeadline(w, t))
	said := false // a phone's line on stdout already gives the next step
	for _, d := range s.Devices {
		said = said || d.State == engine.StateServiceUnavailable
	}
	if next := speak.MuxNext(w, t); next != "" && !said {
		fmt.Fprintf(stderr, "  %s\n", next)
	}
	if t.Anchor != "" {
		fmt.Fprintln(stderr, "  "+w.T("cli.mux.more", map[string]any{"Anchor": t.Anchor}))
	}
	switch s.Usbmux.State {
	case engine.MuxNotInstalled, engine.MuxNotRunning:
		// the words say it all; the raw error only repeats "no such file"
	default:
		if s.Usbmux.Error != "" {
			fmt.Fprintf(stderr, "  (%s: %s)\n", s.Usbmux.Address, shortMuxError(s.Usbmux.Error))
		}
	}
}

// shortMuxError drops the usbmux client's wrapping from an error, keeping
// the cause ("dial unix /var/run/usbmuxd: connect: permission denied").
func shortMuxError(e string) string {
	if i := strings.Index(e, "dial "); i >= 0 {
		return e[i:]
	}
	return strings.TrimPrefix(e, "usbmux: ")
}

// say writes message id of the catalog, in the user's language, as a line.
func say(w io.Writer, id string, data map[string]any) {
	fmt.Fprintln(w, catalog.Current().T(id, data))
}

// action is what fix and forget share once their flags are read: Ctrl-C
// is caught, the phones are looked at, and the UDID given (if any) is at
// hand. Close stops the look, then the signal handling.
type action struct {
	ctx       context.Context
	signalled func() int
	link      phoneLink
	snap      engine.Snapshot
	udid      string
	stop      func()
}

func (a *action) Close() {
	a.link.Close()
	a.stop()
}

// openForAction reads fix's or forget's arguments (one optional UDID) and
// opens the phones for p. ok false means: return code, all said (--help,
// a usage error, or Ctrl-C while looking: nothing was changed).
func openForAction(fs *cmdFlags, args []string, p purpose, stdout, stderr io.Writer) (*action, int, bool) {
	addr, pos, code, ok := fs.parseAddr(args, 1, stdout, stderr)
	if !ok {
		return nil, code, false
	}
	a := &action{}
	a.ctx, a.signalled, a.stop = interruptible()
	a.link, a.snap = openPhones(a.ctx, addr, p)
	if c := a.signalled(); c != 0 {
		a.Close()
		say(stderr, "cli.interrupted_unchanged", nil)
		return nil, c, false
	}
	if len(pos) == 1 {
		a.udid = pos[0]
	}
	return a, 0, true
}
