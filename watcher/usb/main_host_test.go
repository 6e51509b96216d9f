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

// TestIdleWakeups measures Watch idling on this host's real USB (often no
// bus at all in containers). The umockdev build measures it with devices.
func TestIdleWakeups(t *testing.T) { checkIdle(t) }
