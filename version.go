package main

import (
	"fmt"
	"io"
	"runtime"

	"github.com/trustwatch/trustwatch/service"
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
	fmt.Fprintf(stdout, "log:       %s\n", service.LogLocation())
	fmt.Fprintf(stdout, "language:  %s\n", languageLine())
	return exitOK
}

// trayAvailability says how this build shows its tray.
func trayAvailability() string {
	switch runtime.GOOS {
	case "linux", "freebsd", "openbsd", "netbsd":
		return "StatusNotifierItem over D-Bus (needs a tray host; GNOME needs the AppIndicator extension)"
	case "darwin":
		return "menu bar (Cocoa; cgo builds only)"
	default:
		return "notification area"
	}
}
