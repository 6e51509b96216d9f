package engine

import (
	"strings"
	"testing"
	"time"
)

var debian = MuxEnv{GOOS: "linux", Install: "sudo apt install usbmuxd", USBVisible: true}

// Every usbmuxd state in words, on each OS, with and without a phone on
// USB: the headline, the next step, where the guide explains it, and
// whether it is a problem (an alarm) at all.
func TestDescribeMux(t *testing.T) {
	addr := "unix:///var/run/usbmuxd"
	cases := []struct {
		name     string
		state    MuxState
		env      MuxEnv
		phone    bool
		headline string
		advice   string // a fragment
		anchor   string
		problem  bool
	}{
		{"running", MuxRunning, debian, false, "usbmuxd is running", "", "", false},
		{"not installed, debian", MuxNotInstalled, debian, false, "usbmuxd is not installed", "Install it with: sudo apt install usbmuxd", "issue-drivers", true},
		{"not installed, fedora", MuxNotInstalled, MuxEnv{GOOS: "linux", Install: "sudo dnf install usbmuxd"}, true, "usbmuxd is not installed", "sudo dnf install usbmuxd", "issue-drivers", true},
		{"not installed, unknown distribution", MuxNotInstalled, MuxEnv{GOOS: "linux"}, false, "usbmuxd is not installed", "your distribution's package manager", "issue-drivers", true},
		{"not installed, windows", MuxNotInstalled, MuxEnv{GOOS: "windows"}, false, "Apple Mobile Device Service is not installed", "Install Apple Devices from the Microsoft Store, or iTunes", "issue-drivers", true},
		{"not running, no phone: no alarm", MuxNotRunning, debian, false, "usbmuxd is not running, as usual while no iPhone is plugged in", "It starts by itself when one is", "", false},
		{"not running, no USB layer: no alarm", MuxNotRunning, MuxEnv{GOOS: "linux"}, false, "usbmuxd is not running", "That is normal while no iPhone is plugged in", "issue-drivers", false},
		{"not running, phone on USB", MuxNotRunning, debian, true, "usbmuxd is not running", "sudo systemctl start usbmuxd", "issue-drivers", true},
		{"not running, mac, phone", MuxNotRunning, MuxEnv{GOOS: "darwin"}, true, "usbmuxd is not running", "restart the Mac", "issue-drivers", true},
		{"not running, windows, phone", MuxNotRunning, MuxEnv{GOOS: "windows"}, true, "Apple Mobile Device Service is not running", "services.msc", "issue-drivers", true},
		{"disabled", MuxDisabled, MuxEnv{GOOS: "windows"}, true, "Apple Mobile Device Service is disabled", "Automatic", "issue-drivers", true},
		{"starting", MuxStarting, MuxEnv{GOOS: "windows"}, true, "Apple Mobile Device Service is still starting", "Wait a few seconds", "issue-drivers", false},
		{"Store app not running", MuxAppNotRunning, MuxEnv{GOOS: "windows"}, true, "Apple Devices is installed, but its device service is not running", "Open Apple Devices from the Start menu", "issue-drivers", true},
		{"permission denied", MuxPermissionDenied, debian, false, "usbmuxd refuses this user (permission denied)", "ls -l /var/run/usbmuxd", "issue-permissions", true},
		{"permission denied, mac", MuxPermissionDenied, MuxEnv{GOOS: "darwin"}, false, "usbmuxd refuses this user (permission denied)", "sandbox", "issue-permissions", true},
		{"unreadable", MuxUnreadable, debian, false, "usbmuxd answered something trustwatch cannot read", "Another program may be listening at /var/run/usbmuxd", "issue-drivers", true},
		{"not responding", MuxNotResponding, debian, false, "usbmuxd does not answer", "sudo systemctl restart usbmuxd", "issue-drivers", true},
		{"busy", MuxBusy, debian, true, "usbmuxd is busy", "tries again by itself", "issue-drivers", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := DescribeMux(Usbmux{Address: addr, State: c.state}, c.env, c.phone)
			if m.Headline != c.headline || !strings.Contains(m.Advice, c.advice) || m.Anchor != c.anchor || m.Problem != c.problem {
				t.Fatalf("got %+v", m)
			}
			if c.state != MuxRunning {
				if !strings.HasPrefix(m.Device, "The iPhone is on USB, but ") || strings.Contains(m.Device, "no iPhone") {
					t.Errorf("device summary %q", m.Device)
				}
			}
			for _, s := range []string{m.Headline, m.Advice, m.Device} {
				if strings.Contains(s, "..") || strings.Contains(s, "  ") {
					t.Errorf("sloppy text %q", s)
				}
			}
		})
	}
}

// A phone that is on USB while usbmuxd cannot be reached says why, in the
// words of usbmuxd's state, and its summary follows when that state
// changes; the snapshot carries the advice for scripts.
func TestServiceUnavailableSaysWhy(t *testing.T) {
	h := newHarness(t, Config{Mode: ModeFollow, AllowPair: true, Mux: debian})
	h.do(MuxDown{Address: "unix:///var/run/usbmuxd", Err: "dial: no such file", State: MuxNotRunning})
	snap := h.e.Snapshot(h.now)
	if snap.Usbmux.Advice != "usbmuxd is not running, as usual while no iPhone is plugged in. It starts by itself when one is" {
		t.Fatalf("advice without a phone: %q", snap.Usbmux.Advice)
	}
	h.do(USBAdded{usbPhone})
	d, _ := h.e.Snapshot(h.now).Device("usb:1-5")
	if d.State != StateServiceUnavailable || !strings.Contains(d.Summary, "usbmuxd is not running. Start it: sudo systemctl start usbmuxd") {
		t.Fatalf("device: %s %q", d.State, d.Summary)
	}
	if a := h.e.Snapshot(h.now).Usbmux.Advice; !strings.HasPrefix(a, "usbmuxd is not running. Start it") {
		t.Fatalf("advice with a phone on USB: %q", a)
	}
	h.do(MuxDown{Address: "unix:///var/run/usbmuxd", Err: "permission denied", State: MuxPermissionDenied})
	d, _ = h.e.Snapshot(h.now).Device("usb:1-5")
	if !strings.Contains(d.Summary, "refuses this user") {
		t.Fatalf("summary did not follow usbmuxd's state: %q", d.Summary)
	}
	if h.e.Snapshot(h.now).Usbmux.Advice == "" {
		t.Fatal("no advice")
	}
	// usbmuxd comes up but does not list the phone: the usual no-data window.
	out := h.do(MuxUp{Address: "unix:///var/run/usbmuxd"})
	if changes(out) != "service-unavailable>probing" || h.e.Snapshot(h.now).Usbmux.Advice != "" {
		t.Fatalf("usbmuxd back: %q, advice %q", changes(out), h.e.Snapshot(h.now).Usbmux.Advice)
	}
	if out := h.after(5 * time.Second); changes(out) != "probing>no-data" {
		t.Fatalf("after the window: %q", changes(out))
	}
}

// trustwatch fix diagnoses without Pair, then asks for one: the Pair that
// follows an unlock belongs to that request (and stays capped).
func TestFixTrustUnlockPairWithoutAllowPair(t *testing.T) {
	h := newHarness(t, Config{Mode: ModeFollow})
	h.do(MuxUp{})
	if got := cmds(h.do(MuxAttached{phone})); got != "Probe(never)" {
		t.Fatalf("attach: %q", got)
	}
	h.result(key, ProbeResult{State: StateUntrusted})
	if got := cmds(h.do(FixTrust{Key: key})); got != "SendPair(clear=false)" {
		t.Fatalf("fix: %q", got)
	}
	h.result(key, ProbeResult{State: StateUntrustedLocked, Lockdown: "PasswordProtected"})
	if d, _ := h.e.Snapshot(h.now).Device(key); d.Lockdown != "PasswordProtected" {
		t.Fatalf("lockdown error name not kept: %+v", d)
	}
	if got := cmds(h.do(Unlocked{Key: key, Epoch: h.epoch(key)})); got != "SendPair(clear=false, unlock=1)" {
		t.Fatalf("unlock after Fix trust: %q", got)
	}
	// Without the user's request, an unlock only re-checks.
	h = newHarness(t, Config{Mode: ModeFollow})
	h.do(MuxUp{})
	h.do(MuxAttached{phone})
	h.result(key, ProbeResult{State: StateUntrustedLocked})
	if got := cmds(h.do(Unlocked{Key: key, Epoch: h.epoch(key)})); got != "Probe(never)" {
		t.Fatalf("unlock without Fix trust: %q", got)
	}
}
