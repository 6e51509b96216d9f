//go:build !windows && !darwin

package sessionbus

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
)

func TestGuard(t *testing.T) {
	if _, err := os.Stat(fmt.Sprintf("/run/user/%d/bus", os.Getuid())); err == nil {
		t.Skipf("SKIPPING: /run/user/%d/bus exists, so this user always has a session bus", os.Getuid())
	}
	empty := t.TempDir()
	withBus := t.TempDir()
	l, err := net.Listen("unix", filepath.Join(withBus, "bus"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	for _, tc := range []struct {
		name, addr, runtime string
		missing             bool
		want                string
	}{
		{"address set", "unix:path=/somewhere/bus", empty, false, "unix:path=/somewhere/bus"},
		{"nothing at all", "", empty, true, disabled},
		{"autolaunch asked for", "autolaunch:", empty, true, disabled},
		{"no runtime folder", "", "", true, disabled},
		{"systemd user bus", "", withBus, false, "unix:path=" + filepath.Join(withBus, "bus")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(envAddress, tc.addr)
			t.Setenv("XDG_RUNTIME_DIR", tc.runtime)
			why := Guard()
			if (why != "") != tc.missing || Missing() != tc.missing {
				t.Errorf("Guard() = %q, Missing() = %v; want missing=%v", why, Missing(), tc.missing)
			}
			if got := os.Getenv(envAddress); got != tc.want {
				t.Errorf("%s = %q, want %q", envAddress, got, tc.want)
			}
			if again := Guard(); again != why {
				t.Errorf("second Guard() = %q, first %q", again, why)
			}
		})
	}
}
