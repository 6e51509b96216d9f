package main

import (
	"os"
	"runtime"
)

// onePMode keeps the long-running modes (the tray, watch) on one P:
// trustwatch waits on I/O nearly all the time, and with a second P the Go
// runtime wakes another thread to look for work around every timer and
// every reply. One P cut the wakeups of a phone waiting on the charger by
// about a quarter (docs/BENCH.md, section 4); a burst of phones is
// diagnosed a little slower, well within its goal. GOMAXPROCS in the
// environment still wins.
func onePMode() {
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
}
