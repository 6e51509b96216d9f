package tray

import (
	"os"
	"testing"
)

// childEnv makes the test binary act as a tray app (see child_test.go):
// systray is process-global and wants the main thread, so desktop tests
// run the tray in a child process and drive it over D-Bus.
const childEnv = "TRUSTWATCH_TRAY_CHILD"

func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		os.Exit(runChild(mode))
	}
	os.Exit(m.Run())
}
