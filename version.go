package main

import (
	"fmt"
	"io"
	"runtime"
	"strings"

	"github.com/trustwatch/trustwatch/internal/catalog"
	speak "github.com/trustwatch/trustwatch/internal/say"
	"github.com/trustwatch/trustwatch/service"
	"github.com/trustwatch/trustwatch/watcher"
	"github.com/trustwatch/trustwatch/watcher/usb"
)

// licence is what About says this build is distributed under. The
// repository names no licence yet (there is no LICENSE file); say it here
// once it does.
const licence = "not stated yet (the source has no LICENSE file)"

// runVersion prints the build's facts in the user's language: labels and
// descriptions are words, versions, paths and language codes are not.
func runVersion(args []string, stdout, stderr io.Writer) int {
	if _, code, ok := newFlags("version").parse(args, 0, stdout, stderr); !ok {
		return code
	}
	w := catalog.Current()
	bi, modified := readBuildInfo(), ""
	if bi.Modified {
		modified = " " + w.T("cli.version.modified", nil)
	}
	usbLine := ""
	if _, ok, why := watcher.NewUSBBus(); ok {
		usbLine = w.T("cli.version.usb_available", map[string]any{"Detail": usb.Describe()})
	} else {
		usbLine = w.T("cli.version.usb_unavailable", map[string]any{"Why": why})
	}
	rows := [][2]string{
		{"commit", bi.Commit + modified},
		{"date", bi.Date},
		{"go", runtime.Version()},
		{"platform", runtime.GOOS + "/" + runtime.GOARCH},
		{"usb", usbLine},
		{"tray", trayAvailabilityIn(w)},
		{"log", service.LogLocation()},
		{"language", languageLineIn(w)},
	}
	col := 0
	for i := range rows {
		rows[i][0] = w.T("cli.version."+rows[i][0], nil) + ":"
		col = max(col, len([]rune(rows[i][0]))+2)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "trustwatch %s\n", bi.Version)
	for _, r := range rows {
		b.WriteString(r[0] + strings.Repeat(" ", col-len([]rune(r[0]))) + r[1] + "\n")
	}
	_, _ = io.WriteString(stdout, b.String())
	return exitOK
}

// trayAvailability says how this build shows its tray, in English (for
// the support report).
func trayAvailability() string { return trayAvailabilityIn(speak.English) }

func trayAvailabilityIn(w catalog.Words) string {
	switch runtime.GOOS {
	case "linux", "freebsd", "openbsd", "netbsd":
		return w.T("cli.version.tray_sni", nil)
	case "darwin":
		return w.T("cli.version.tray_menubar", nil)
	default:
		return w.T("cli.version.tray_notification_area", nil)
	}
}
