//go:build cgo && linux && !umockdev

package usb

import (
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	idleChildMain()
	os.Exit(m.Run())
}

// BenchmarkIdleWakeups measures Watch idling on this host's real USB (often
// no bus at all in containers) over TW_USB_IDLE (default 60 s); run it with
// -benchtime 1x. The umockdev build measures it with devices.
func BenchmarkIdleWakeups(b *testing.B) { checkIdle(b) }
