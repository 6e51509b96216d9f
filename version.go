package main

import (
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"runtime/debug"

	"github.com/trustwatch/trustwatch/watcher"
)

// version is set at release time with -ldflags "-X main.version=…".
var version = "dev"

func runVersion(args []string, stdout, stderr io.Writer) int {
	if _, code, ok := newFlags("version").parse(args, 0, stdout, stderr); !ok {
		return code
	}
	fmt.Fprintf(stdout, "trustwatch %s\n", version)
	fmt.Fprintf(stdout, "commit:    %s\n", buildCommit())
	fmt.Fprintf(stdout, "go:        %s\n", runtime.Version())
	fmt.Fprintf(stdout, "platform:  %s/%s\n", runtime.GOOS, runtime.GOARCH)
	if _, ok, why := watcher.NewUSBBus(); ok {
		fmt.Fprintln(stdout, "usb:       available (libusb through gousb)")
	} else {
		fmt.Fprintf(stdout, "usb:       unavailable (%s); diagnosing from usbmuxd alone\n", why)
	}
	fmt.Fprintf(stdout, "tray:      %s\n", trayAvailability())
	fmt.Fprintf(stdout, "log:       %s\n", logLocation())
	return exitOK
}

// buildCommit is the VCS revision this binary was built from, with
// " (modified)" for a dirty tree.
func buildCommit() string {
	commit, modified := "unknown", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					modified = " (modified)"
				}
			}
		}
	}
	return commit + modified
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
