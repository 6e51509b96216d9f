package main

import (
	"fmt"
	"io"
	"log/slog"
	"runtime"

	"github.com/trustwatch/trustwatch/watcher"
	"github.com/trustwatch/trustwatch/watcher/usb"
)

// licence is what About says this build is distributed under. The
// repository names no licence yet (there is no LICENSE file); say it here
// once it does.
const licence = "not stated yet (the source has no LICENSE file)"

func runVersion(args []string, stdout, stderr io.Writer) int {
	if _, code, ok := newFlags("version").parse(args, 0, stdout, stderr); !ok {
		return code
	}
	bi, modified := readBuildInfo(), ""
	if bi.Modified {
		modified = " (modified)"
	}
	fmt.Fprintf(stdout, "trustwatch %s\n", bi.Version)
	fmt.Fprintf(stdout, "commit:    %s%s\n", bi.Commit, modified)
	fmt.Fprintf(stdout, "date:      %s\n", bi.Date)
	fmt.Fprintf(stdout, "go:        %s\n", runtime.Version())
	fmt.Fprintf(stdout, "platform:  %s/%s\n", runtime.GOOS, runtime.GOARCH)
	if _, ok, why := watcher.NewUSBBus(); ok {
		fmt.Fprintf(stdout, "usb:       available (%s)\n", usb.Describe())
	} else {
		fmt.Fprintf(stdout, "usb:       unavailable (%s); diagnosing from usbmuxd alone\n", why)
	}
	fmt.Fprintf(stdout, "tray:      %s\n", trayAvailability())
	fmt.Fprintf(stdout, "log:       %s\n", logLocation())
	fmt.Fprintf(stdout, "language:  %s\n", languageLine())
	return exitOK
}

// usbSource returns the USB watcher when this build has one, and a function
// telling whether its initial listing is done.
func usbSource() (watcher.USBSource, func() bool) {
	bus, ok, _ := watcher.NewUSBBus()
	if !ok {
		return nil, func() bool { return true }
	}
	return bus, bus.Ready
}

func stderrLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}
