package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/trustwatch/trustwatch/watcher"
	"github.com/trustwatch/trustwatch/watcher/ledger"
)

// The wiring every verb shares: the USB source, the Pair ledger, the
// terminal's logger and the context that Ctrl-C ends.

// usbSource returns the USB watcher when this build has one, and a function
// telling whether its initial listing is done.
func usbSource() (watcher.USBSource, func() bool) {
	bus, ok, _ := watcher.NewUSBBus()
	if !ok {
		return nil, func() bool { return true }
	}
	return bus, bus.Ready
}

// openLedger opens the cross-process Pair ledger; without one, this
// process still sends at most one Pair per plug, but cannot know about
// the others'.
func openLedger(log *slog.Logger) *ledger.Ledger {
	l, err := ledger.Default()
	if err != nil {
		log.Warn("no Pair ledger; other trustwatch processes may each send a Pair for the same plug", "err", err)
		return nil
	}
	return l
}

// stderrLogger is the terminal verbs' logger: warnings and errors only.
func stderrLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// interruptible is a context that ends on SIGINT or SIGTERM, and the exit
// code for the signal that ended it (0 while none has). Every verb that
// waits takes its context from here; stop ends the context and its
// goroutine.
func interruptible() (ctx context.Context, code func() int, stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	got := make(chan int, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		select {
		case s := <-sigs:
			if s == syscall.SIGTERM {
				got <- exitTerminated
			} else {
				got <- exitInterrupted
			}
			cancel()
		case <-ctx.Done():
		}
	}()
	code = func() int {
		select {
		case c := <-got:
			got <- c
			return c
		default:
			return 0
		}
	}
	return ctx, code, func() { signal.Stop(sigs); cancel(); <-done }
}
