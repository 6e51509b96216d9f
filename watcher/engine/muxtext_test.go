package engine

import (
	"strings"
	"testing"
	"time"
)

var debian = MuxEnv{GOOS: "linux", Install: "sudo apt install usbmuxd", USBVisible: true}

// Every usbmuxd state, on each OS, with and without a phone on USB: which
// words the engine chooses (the headline, the next step and the phone's
// summary, as message ids), where the guide explains it, and whether it is
// a problem (an alarm) at all. internal/say's tests check the words.
func TestDescribeMux(t *testing.T) {
	addr := "unix:///var/run/usbmuxd"
	cases := []struct {
		name           string
		state          MuxState
		env            MuxEnv
		phone          bool
		headline, next string
		anchor         string
		problem        bool
		args           Args // the placeholders that matter here
	}{
		{"running", MuxRunning, debian, false, "mux.running", "", "", false, Args{Service: "usbmuxd"}},
		{"not installed, debian", MuxNotInstalled, debian, false, "mux.not-installed", "mux.install.command", "issue-drivers", true, Args{Command: "sudo apt install usbmuxd"}},
		{"not installed, unknown distribution", MuxNotInstalled, MuxEnv{GOOS: "linux"}, false, "mux.not-installed", "mux.install.package", "issue-drivers", true, Args{Service: "usbmuxd"}},
		{"not installed, windows", MuxNotInstalled, MuxEnv{GOOS: "windows"}, false, "mux.not-installed", "mux.install.windows", "issue-drivers", true, Args{Service: "Apple Mobile Device Service", App: "Apple Devices"}},
		{"not running, no phone: no alarm", MuxNotRunning, debian, false, "mux.not-running.idle", "mux.idle.starts-by-itself", "", false, Args{}},
		{"not running, no USB layer: no alarm", MuxNotRunning, MuxEnv{GOOS: "linux"}, false, "mux.not-running", "mux.idle.unsure", "issue-drivers", false, Args{Command: "sudo systemctl start usbmuxd"}},
		{"not running, phone on USB", MuxNotRunning, debian, true, "mux.not-running", "mux.start.linux", "issue-drivers", true, Args{Command: "sudo systemctl start usbmuxd"}},
		{"not running, mac, phone", MuxNotRunning, MuxEnv{GOOS: "darwin"}, true, "mux.not-running", "mux.start.darwin", "issue-drivers", true, Args{}},
		{"not running, windows, phone", MuxNotRunning, MuxEnv{GOOS: "windows"}, true, "mux.not-running", "mux.start.windows", "issue-drivers", true, Args{Console: "services.msc"}},
		{"disabled", MuxDisabled, MuxEnv{GOOS: "windows"}, true, "mux.disabled", "mux.disabled.enable", "issue-drivers", true, Args{Console: "services.msc"}},
		{"starting", MuxStarting, MuxEnv{GOOS: "windows"}, true, "mux.starting", "mux.starting.wait", "issue-drivers", false, Args{}},
		{"Store app not running", MuxAppNotRunning, MuxEnv{GOOS: "windows"}, true, "mux.app-not-running", "mux.app-not-running.open", "issue-drivers", true, Args{App: "Apple Devices"}},
		{"permission denied", MuxPermissionDenied, debian, false, "mux.permission-denied", "mux.permission-denied.socket", "issue-permissions", true, Args{Path: "/var/run/usbmuxd", Command: "ls -l /var/run/usbmuxd", Restart: "sudo systemctl restart usbmuxd", Mode: "srw-rw-rw-"}},
		{"permission denied, mac", MuxPermissionDenied, MuxEnv{GOOS: "darwin"}, false, "mux.permission-denied", "mux.permission-denied.darwin", "issue-permissions", true, Args{}},
		{"permission denied, windows", MuxPermissionDenied, MuxEnv{GOOS: "windows"}, false, "mux.permission-denied", "mux.permission-denied.windows", "issue-permissions", true, Args{Path: addr}},
		{"unreadable", MuxUnreadable, debian, false, "mux.unreadable", "mux.unreadable.socket", "issue-drivers", true, Args{Path: "/var/run/usbmuxd", Variable: "USBMUXD_SOCKET_ADDRESS", Then: "mux.restart.linux"}},
		{"unreadable, windows", MuxUnreadable, MuxEnv{GOOS: "windows"}, false, "mux.unreadable", "mux.unreadable.windows", "issue-drivers", true, Args{Path: addr}},
		{"not responding", MuxNotResponding, debian, false, "mux.not-responding", "mux.not-responding.next", "issue-drivers", true, Args{Then: "mux.restart.linux"}},
		{"not responding, mac", MuxNotResponding, MuxEnv{GOOS: "darwin"}, false, "mux.not-responding", "mux.not-responding.next", "issue-drivers", true, Args{Then: "mux.restart.darwin"}},
		{"busy", MuxBusy, debian, true, "mux.busy", "mux.busy.next", "issue-drivers", false, Args{Then: "mux.restart.linux"}},
		{"a state nobody named", "weird", debian, true, "mux.unknown-state", "mux.restart.linux", "issue-drivers", true, Args{State: "weird"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := DescribeMux(Usbmux{Address: addr, State: c.state}, c.env, c.phone)
			if m.Headline.ID != c.headline || m.Next.ID != c.next || m.Anchor != c.anchor || m.Problem != c.problem {
				t.Fatalf("got %+v", m)
			}
			if !hasArgs(m.Headline.Args, c.args) {
				t.Errorf("args %+v lack %+v", m.Headline.Args, c.args)
			}
			if c.state == MuxRunning {
				if !m.Device.IsZero() {
					t.Errorf("a running usbmuxd has a device summary: %+v", m.Device)
				}
				return
			}
			// A phone's summary names the headline's clause and the step
			// for a phone on USB (not the calm no-phone words).
			d := m.Device
			if d.ID != "mux.device" || d.Args.Clause == "" || strings.HasSuffix(d.Args.Clause, ".idle") ||
				d.Args.Next == "" || strings.HasPrefix(d.Args.Next, "mux.idle") {
				t.Errorf("device summary %+v", d)
			}
			if m.Headline.Args.Clause != "" || m.Headline.Args.Next != "" {
				t.Errorf("headline carries the device sentence's parts: %+v", m.Headline.Args)
			}
		})
	}
}

// hasArgs reports whether got has every non-empty field of want.
func hasArgs(got, want Args) bool {
	pick := func(g, w string) bool { return w == "" || g == w }
	return pick(got.Service, want.Service) && pick(got.Command, want.Command) && pick(got.Restart, want.Restart) &&
		pick(got.Path, want.Path) && pick(got.Mode, want.Mode) && pick(got.Variable, want.Variable) &&
		pick(got.Console, want.Console) && pick(got.App, want.App) && pick(got.State, want.State) &&
		pick(got.Then, want.Then) && (want.Code == 0 || got.Code == want.Code)
}

// A phone that is on USB while usbmuxd cannot be reached says why, in the
// words of usbmuxd's state, and its summary follows when that state
// changes; the snapshot carries usbmuxd's state for scripts.
func TestServiceUnavailableSaysWhy(t *testing.T) {
	h := newHarness(t, Config{Mode: ModeFollow, AllowPair: true, Mux: debian})
	h.do(MuxDown{Address: "unix:///var/run/usbmuxd", Err: "dial: no such file", State: MuxNotRunning})
	snap := h.e.Snapshot(h.now)
	if m := snap.Usbmux.Text; m.Headline.ID != "mux.not-running.idle" || m.Next.ID != "mux.idle.starts-by-itself" {
		t.Fatalf("without a phone: %+v", m)
	}
	h.do(USBAdded{usbPhone})
	d, _ := h.e.Snapshot(h.now).Device("usb:1-5")
	if a := d.Advice.Args; d.State != StateServiceUnavailable || d.Advice.ID != "mux.device" || a.Clause != "mux.not-running" || a.Next != "mux.start.linux" || a.Command != "sudo systemctl start usbmuxd" {
		t.Fatalf("device: %s %+v", d.State, d.Advice)
	}
	if m := h.e.Snapshot(h.now).Usbmux.Text; m.Headline.ID != "mux.not-running" || m.Next.ID != "mux.start.linux" {
		t.Fatalf("with a phone on USB: %+v", m)
	}
	h.do(MuxDown{Address: "unix:///var/run/usbmuxd", Err: "permission denied", State: MuxPermissionDenied})
	d, _ = h.e.Snapshot(h.now).Device("usb:1-5")
	if d.Advice.Args.Clause != "mux.permission-denied" {
		t.Fatalf("summary did not follow usbmuxd's state: %+v", d.Advice)
	}
	// usbmuxd comes up but does not list the phone: the usual no-data window.
	out := h.do(MuxUp{Address: "unix:///var/run/usbmuxd"})
	if changes(out) != "service-unavailable>probing" || h.e.Snapshot(h.now).Usbmux.Text.Headline.ID != "mux.running" {
		t.Fatalf("usbmuxd back: %q, %+v", changes(out), h.e.Snapshot(h.now).Usbmux.Text)
	}
	if d, _ := h.e.Snapshot(h.now).Device("usb:1-5"); d.Advice != StateAdvice(StateProbing) {
		t.Fatalf("probing again, advice %+v", d.Advice)
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
