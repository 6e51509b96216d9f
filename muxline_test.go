package main

import (
	"testing"

	"github.com/trustwatch/trustwatch/watcher/engine"
)

func TestMuxUnreachableLine(t *testing.T) {
	m := engine.Usbmux{Address: "tcp://127.0.0.1:27015", Error: "connection refused", State: engine.MuxNotInstalled}
	if got, want := muxUnreachableLine(m, "windows"), "Apple Mobile Device Support is not installed, so Windows cannot talk to an iPhone. Install Apple Devices from the Microsoft Store (or iTunes), then plug the iPhone in again. (tcp://127.0.0.1:27015: connection refused)"; got != want {
		t.Errorf("windows:\n got %q\nwant %q", got, want)
	}
	m.State = engine.MuxDisabled
	if got, want := muxUnreachableLine(m, "windows"), "Apple Mobile Device Service is disabled. Open Services (services.msc), double-click Apple Mobile Device Service, set Startup type to Automatic, then click Start. (tcp://127.0.0.1:27015: connection refused)"; got != want {
		t.Errorf("windows, disabled:\n got %q\nwant %q", got, want)
	}
	m = engine.Usbmux{Address: "unix:///var/run/usbmuxd", Error: "no such file", State: engine.MuxNotInstalled}
	if got, want := muxUnreachableLine(m, "linux"), "usbmuxd is not reachable at unix:///var/run/usbmuxd: no such file"; got != want {
		t.Errorf("linux: %q", got)
	}
}
