package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/trustwatch/trustwatch/guide"
	"github.com/trustwatch/trustwatch/internal/actionurl"
	"github.com/trustwatch/trustwatch/ipc"
	"github.com/trustwatch/trustwatch/service"
	"github.com/trustwatch/trustwatch/watcher/engine"
)

// Action URLs ("trustwatch:guide/step-3", "trustwatch:fix/<key>") are what
// Windows toast buttons activate: Windows starts `trustwatch.exe <URL>`.
// How to fix opens the guide from this process; Fix trust goes to the
// running tray through its IPC endpoint (as `trustwatch fix` does), and
// opens the guide at the Fix-trust step when no tray runs.

// runActionURL is `trustwatch trustwatch:…`.
func runActionURL(url string, stderr io.Writer) int {
	a, err := actionurl.Parse(url)
	if err != nil {
		say(stderr, "cli.failed", map[string]any{"Error": err})
		return exitUsage
	}
	anchor := a.Arg
	if a.Verb == actionurl.Fix {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err := ipc.Do(ctx, ipc.OpFixTrust, deviceKey(a.Arg))
		if err == nil {
			return exitOK
		}
		if !errors.Is(err, ipc.ErrNotRunning) {
			say(stderr, "cli.url.tray_unreachable", map[string]any{"Error": err})
		}
		anchor = "step-6" // "Fix trust from this computer", by hand
	}
	if err := guide.Open(anchor); err != nil {
		say(stderr, "cli.failed", map[string]any{"Error": err})
		return exitFailure
	}
	return exitOK
}

// deviceKey is how the engine keys a device: a UDID, hyphenated as people
// see it or not, becomes its normal form; other keys ("usb:1-5") stay.
func deviceKey(arg string) string {
	if strings.Contains(arg, ":") {
		return arg
	}
	return engine.NormalizeUDID(arg)
}

// registerURLScheme points trustwatch: URLs at this exe (Windows; a no-op
// elsewhere), so toast buttons reach it wherever it was unzipped.
func registerURLScheme(log *slog.Logger) {
	if err := service.RegisterURLProtocol(); err != nil {
		log.Warn("toast buttons will not reach trustwatch: could not register trustwatch: URLs", "err", err)
	}
}
