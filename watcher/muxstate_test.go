package watcher

import (
	"context"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/trustwatch/trustwatch/internal/sim"
	"github.com/trustwatch/trustwatch/watcher/engine"
	"github.com/trustwatch/trustwatch/watcher/usbmux"
)

// The failures a real usbmuxd client meets, classified from the errors the
// usbmux client really returns (simulated daemons, a missing socket).
func TestClassifyMuxFailureFromRealErrors(t *testing.T) {
	absent := daemonAbsent() // not-installed or not-running, depending on this machine
	cases := []struct {
		fault sim.MuxFault
		want  engine.MuxState
	}{
		{sim.MuxFaultShortHeader, engine.MuxUnreadable},
		{sim.MuxFaultTruncated, engine.MuxUnreadable},
		{sim.MuxFaultHugeLength, engine.MuxUnreadable},
		{sim.MuxFaultJunk, engine.MuxUnreadable},
		{sim.MuxFaultBadPlist, engine.MuxUnreadable},
		{sim.MuxFaultWrongTag, engine.MuxUnreadable},
		{sim.MuxFaultSilent, engine.MuxNotResponding},
		{sim.MuxFaultClose, engine.MuxNotResponding},
	}
	for _, c := range cases {
		t.Run(c.fault.String(), func(t *testing.T) {
			t.Parallel()
			s, err := sim.Start(sim.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			s.SetMuxFault(c.fault)
			addr, _ := usbmux.ParseAddress(s.Address())
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			_, err = usbmux.ListDevices(ctx, addr)
			if got := classifyMuxFailure(err, false); got != c.want {
				t.Fatalf("%v → %s, want %s", err, got, c.want)
			}
		})
	}
	t.Run("no socket", func(t *testing.T) {
		addr, _ := usbmux.ParseAddress("UNIX://" + filepath.Join(t.TempDir(), "none"))
		_, err := usbmux.ListDevices(context.Background(), addr)
		if got := classifyMuxFailure(err, false); got != absent {
			t.Fatalf("%v → %s, want %s", err, got, absent)
		}
	})
	t.Run("nothing on the TCP port", func(t *testing.T) {
		addr, _ := usbmux.ParseAddress("127.0.0.1:1")
		_, err := usbmux.ListDevices(context.Background(), addr)
		if got := classifyMuxFailure(err, false); got != absent {
			t.Fatalf("%v → %s, want %s", err, got, absent)
		}
	})
	// Wrapped the way the usbmux client wraps dial errors.
	for errno, want := range map[syscall.Errno]engine.MuxState{
		syscall.EACCES: engine.MuxPermissionDenied,
		syscall.EPERM:  engine.MuxPermissionDenied,
		syscall.EAGAIN: engine.MuxBusy,
	} {
		err := fmt.Errorf("%w: dial unix /var/run/usbmuxd: %w", usbmux.ErrUnreachable, errno)
		if got := classifyMuxFailure(err, false); got != want {
			t.Errorf("%v → %s, want %s", err, got, want)
		}
	}
	// A Listen session that worked and then ended: the daemon went away.
	gone := fmt.Errorf("usbmux: Listen: %w: EOF", usbmux.ErrDaemonGone)
	if got := classifyMuxFailure(gone, true); got != engine.MuxNotRunning {
		t.Errorf("established session ended → %s", got)
	}
}

func TestInstallCommand(t *testing.T) {
	none := func(string) bool { return false }
	cases := []struct {
		name, osRelease string
		have            func(string) bool
		want            string
	}{
		{"debian", "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\n", none, "sudo apt install usbmuxd"},
		{"ubuntu", "NAME=\"Ubuntu\"\nID=ubuntu\nID_LIKE=debian\n", none, "sudo apt install usbmuxd"},
		{"mint via ID_LIKE", "ID=linuxmint\nID_LIKE=\"ubuntu debian\"\n", none, "sudo apt install usbmuxd"},
		{"fedora", "ID=fedora\nVERSION_ID=40\n", none, "sudo dnf install usbmuxd"},
		{"rocky via ID_LIKE", "ID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\n", none, "sudo dnf install usbmuxd"},
		{"arch", "ID=arch\n", none, "sudo pacman -S usbmuxd"},
		{"endeavour", "ID=endeavouros\nID_LIKE=arch\n", none, "sudo pacman -S usbmuxd"},
		{"tumbleweed", "ID=\"opensuse-tumbleweed\"\nID_LIKE=\"opensuse suse\"\n", none, "sudo zypper install usbmuxd"},
		{"unknown, apt present", "ID=weird\n", func(t string) bool { return t == "apt" }, "sudo apt install usbmuxd"},
		{"unknown, nothing", "ID=weird\n", none, ""},
		{"empty file", "", none, ""},
		{"comments and junk", "# ID=arch\n=\nID\nID=fedora", none, "sudo dnf install usbmuxd"},
	}
	for _, c := range cases {
		if got := InstallCommand(c.osRelease, c.have); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

func TestHistoryKeepsTheNewest(t *testing.T) {
	var h history
	t0 := time.Unix(0, 0)
	for i := 0; i < historyCap+10; i++ {
		h.record(engine.Output{Changes: []engine.Change{{Device: engine.Device{Key: fmt.Sprint(i), State: engine.StateReady}}}}, engine.Snapshot{}, t0.Add(time.Duration(i)*time.Second))
	}
	l := h.list()
	if len(l) != historyCap || l[0].Key != "10" || l[len(l)-1].Key != fmt.Sprint(historyCap+9) {
		t.Fatalf("%d entries, first %s, last %s", len(l), l[0].Key, l[len(l)-1].Key)
	}
	for i := 1; i < len(l); i++ {
		if l[i].Time.Before(l[i-1].Time) {
			t.Fatal("not oldest first")
		}
	}
}
