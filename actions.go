package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/trustwatch/trustwatch/guide"
	"github.com/trustwatch/trustwatch/internal/actionurl"
	"github.com/trustwatch/trustwatch/service"
	"github.com/trustwatch/trustwatch/tray"
	"github.com/trustwatch/trustwatch/watcher/engine"
)

// Action URLs ("trustwatch:guide/step-3", "trustwatch:fix/<key>") are what
// Windows toast buttons activate: Windows starts `trustwatch.exe <URL>`.
// This process hands the action to the running tray; without one, it opens
// the guide (Fix trust needs the tray's view of the phone).

// runActionURL is `trustwatch trustwatch:…`.
func runActionURL(url string, stderr io.Writer) int {
	a, err := actionurl.Parse(url)
	if err != nil {
		fmt.Fprintf(stderr, "trustwatch: %v\n", err)
		return exitUsage
	}
	err = service.SendAction(a.String())
	if err == nil {
		return exitOK
	}
	if !errors.Is(err, service.ErrNoTray) {
		fmt.Fprintf(stderr, "trustwatch: could not reach the running trustwatch: %v\n", err)
	}
	anchor := a.Arg
	if a.Verb == actionurl.Fix {
		anchor = "step-6" // "Fix trust from this computer", by hand
	}
	if err := guide.Open(anchor); err != nil {
		fmt.Fprintf(stderr, "trustwatch: %v\n", err)
		return exitFailure
	}
	return exitOK
}

// trayAction turns a handed-over URL into the tray action it stands for.
func trayAction(url string) (tray.Action, error) {
	a, err := actionurl.Parse(url)
	if err != nil {
		return tray.Action{}, err
	}
	if a.Verb == actionurl.Fix {
		key := a.Arg
		if !strings.Contains(key, ":") {
			// A UDID, hyphenated as people see it or not, as devices are keyed.
			key = engine.NormalizeUDID(key)
		}
		return tray.Action{Op: tray.OpFixTrust, Key: key}, nil
	}
	return tray.Action{Op: tray.OpShowGuide, Anchor: a.Arg}, nil
}

// serveActions registers the trustwatch: scheme for this exe and feeds
// handed-over actions to the tray; stop ends it. Off Windows both are no-ops.
func serveActions(log *slog.Logger) (actions <-chan tray.Action, stop func()) {
	ch := make(chan tray.Action, 4)
	if err := service.RegisterURLProtocol(); err != nil {
		log.Warn("toast buttons will not reach trustwatch: could not register trustwatch: URLs", "err", err)
	}
	stop, err := service.ServeActions(func(url string) {
		a, err := trayAction(url)
		if err != nil {
			log.Warn("ignored a handed-over action", "err", err)
			return
		}
		select {
		case ch <- a:
		default:
			log.Warn("actions arrive faster than they run; dropped one", "op", a.Op.String())
		}
	})
	if err != nil {
		log.Warn("toast buttons will not reach trustwatch", "err", err)
		return nil, func() {}
	}
	return ch, stop
}
