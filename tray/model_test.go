package tray

import (
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/trustwatch/trustwatch/icons"
	"github.com/trustwatch/trustwatch/internal/say"
	"github.com/trustwatch/trustwatch/notify"
	"github.com/trustwatch/trustwatch/watcher/engine"
)

var now = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

func dev(key, name string, s engine.State) engine.Device {
	return engine.Device{Key: key, UDID: key, Name: name, State: s, Advice: engine.StateAdvice(s), Guide: s.Anchor()}
}

func snap(reachable bool, ds ...engine.Device) engine.Snapshot {
	return engine.Snapshot{Time: now, Usbmux: engine.Usbmux{Reachable: reachable}, Devices: ds}
}

// down is a snapshot with usbmuxd unreachable in state st, described as
// the engine describes it on goos.
func down(st engine.MuxState, goos string, ds ...engine.Device) engine.Snapshot {
	u := engine.Usbmux{Address: "unix:///var/run/usbmuxd", State: st}
	env := engine.MuxEnv{GOOS: goos, Install: "sudo apt install usbmuxd", USBVisible: true}
	u.Text = engine.DescribeMux(u, env, len(ds) > 0)
	return engine.Snapshot{Time: now, Usbmux: u, Devices: ds}
}

func TestStatusLine(t *testing.T) {
	ready := dev("a", "Anna's iPhone", engine.StateReady)
	pending := dev("b", "Ben's iPhone", engine.StateTrustPending)
	nodata := dev("c", "", engine.StateNoData)
	probing := dev("d", "Dee", engine.StateProbing)
	for _, tc := range []struct {
		name string
		snap engine.Snapshot
		goos string
		want string
	}{
		{"before the first snapshot", engine.Snapshot{}, "linux", "Starting…"},
		{"no phone", snap(true), "linux", "No iPhone connected"},
		{"usbmuxd idle without a phone: no alarm", down(engine.MuxNotRunning, "linux"), "linux", "No iPhone connected"},
		{"AMDS down without a phone", down(engine.MuxNotRunning, "windows"), "windows", "No iPhone connected"},
		{"usbmuxd not installed, no phone", down(engine.MuxNotInstalled, "linux"), "linux", "No iPhone connected"},
		{"down with a phone on USB", down(engine.MuxNotRunning, "darwin", dev("u", "", engine.StateServiceUnavailable)), "darwin", "1 iPhone on USB — usbmuxd is not running"},
		{"refused with a phone on USB", down(engine.MuxPermissionDenied, "linux", dev("u", "", engine.StateServiceUnavailable)), "linux", "1 iPhone on USB — usbmuxd refuses this user (permission denied)"},
		{"unclassified, with a phone", snap(false, dev("u", "", engine.StateServiceUnavailable)), "linux", "1 iPhone on USB — usbmuxd cannot be reached"},
		{"one ready", snap(true, ready), "linux", "1 iPhone connected — ready"},
		{"one pending", snap(true, pending), "linux", "1 iPhone connected — needs attention"},
		{"two, one pending", snap(true, ready, pending), "linux", "2 iPhones connected — 1 needs attention"},
		{"three, two need", snap(true, ready, pending, nodata), "linux", "3 iPhones connected — 2 need attention"},
		{"two ready", snap(true, ready, dev("e", "E", engine.StateReady)), "linux", "2 iPhones connected — all ready"},
		{"probing", snap(true, ready, probing), "linux", "2 iPhones connected — checking…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := build(tc.snap, false, tc.goos)
			if got[0].Title != tc.want || !got[0].Disabled || got[0].Action.Op != OpNone {
				t.Errorf("status item = %+v, want disabled %q", got[0], tc.want)
			}
			tip := tooltip(tc.snap, tc.goos)
			if first := strings.SplitN(tip, "\n", 2)[0]; first != "trustwatch: "+tc.want {
				t.Errorf("tooltip starts %q, want the status line", first)
			}
			if n := strings.Count(tip, "\n"); n != len(tc.snap.Devices) {
				t.Errorf("tooltip has %d device lines, want %d", n, len(tc.snap.Devices))
			}
		})
	}
}

func labels(items []Item) []string {
	var out []string
	for _, it := range items {
		if it.Separator {
			out = append(out, "---")
			continue
		}
		out = append(out, it.Title)
	}
	return out
}

func find(items []Item, title string) (Item, bool) {
	for _, it := range items {
		if it.Title == title {
			return it, true
		}
		if c, ok := find(it.Children, title); ok {
			return c, true
		}
	}
	return Item{}, false
}

// TestDeviceEntries covers every contract state: the entry's title, and
// which of Fix trust / Show me how / Forget it offers.
func TestDeviceEntries(t *testing.T) {
	type offer struct{ fix, how, forget bool }
	want := map[engine.State]offer{
		engine.StateReady:              {false, true, true},
		engine.StateLocked:             {false, true, true},
		engine.StateLockedSinceRestart: {false, true, true},
		engine.StateUntrusted:          {true, true, false},
		engine.StateUntrustedLocked:    {true, true, false},
		engine.StateTrustPending:       {true, true, false},
		engine.StateTrustDenied:        {true, true, false},
		engine.StateTrustRevoked:       {true, true, false},
		engine.StateNoData:             {false, true, false},
		engine.StateUnstable:           {false, true, false},
		engine.StateRecovery:           {false, true, false},
		engine.StateServiceUnavailable: {false, true, false},
		engine.StateProbing:            {false, false, false},
		engine.StateError:              {false, true, false},
	}
	for _, s := range engine.AllStates {
		t.Run(string(s), func(t *testing.T) {
			w, ok := want[s]
			if !ok {
				t.Fatalf("state %q has no expectation in this table", s)
			}
			d := dev("00008030-001A2B3C4D5E6F70", "Anna's iPhone", s)
			items := build(snap(true, d), false, "linux")
			entry := items[1]
			if wantTitle := "Anna's iPhone — " + say.StateWords(say.English, s); entry.Title != wantTitle {
				t.Errorf("title %q, want %q", entry.Title, wantTitle)
			}
			if len(entry.Children) == 0 {
				t.Fatal("device entry has no submenu")
			}
			fix, hasFix := find(entry.Children, LabelFixTrust.String())
			how, hasHow := find(entry.Children, LabelShowMeHow.String())
			_, hasForget := find(entry.Children, LabelForget.String())
			if hasFix != w.fix || hasHow != w.how || hasForget != w.forget {
				t.Errorf("offers fix=%v how=%v forget=%v, want %+v", hasFix, hasHow, hasForget, w)
			}
			if hasFix && fix.Action != (Action{Op: OpFixTrust, Key: d.Key}) {
				t.Errorf("Fix trust action %+v", fix.Action)
			}
			if hasHow && how.Action != (Action{Op: OpShowGuide, Anchor: s.Anchor()}) {
				t.Errorf("Show me how action %+v, want anchor %q", how.Action, s.Anchor())
			}
			if hasForget {
				confirm, ok := find(entry.Children, "Forget pairing with Anna's iPhone")
				if !ok || confirm.Action != (Action{Op: OpForget, Key: d.Key}) {
					t.Errorf("Forget has no confirming child: %+v", confirm)
				}
			}
			// the summary is shown, one sentence per disabled line
			joined := ""
			for _, c := range entry.Children {
				if c.Disabled && c.Action.Op == OpNone {
					joined += c.Title + " "
				}
			}
			if !strings.Contains(joined, strings.SplitN(say.StateSummary(say.English, s), ". ", 2)[0]) {
				t.Errorf("submenu %q does not show the summary %q", joined, say.StateSummary(say.English, s))
			}
		})
	}
}

// usbmuxd gets an item of its own only when something needs fixing: its
// state in words, the next step, and the guide; never for the normal idle
// usbmuxd without a phone.
func TestServiceItem(t *testing.T) {
	for _, tc := range []struct {
		name   string
		snap   engine.Snapshot
		title  string // "" = no item
		advice string
		anchor string
	}{
		{"running", snap(true), "", "", ""},
		{"idle without a phone", down(engine.MuxNotRunning, "linux"), "", "", ""},
		{"not installed", down(engine.MuxNotInstalled, "linux"), "usbmuxd is not installed", "Install it with: sudo apt install usbmuxd", "issue-drivers"},
		{"not running, phone on USB", down(engine.MuxNotRunning, "linux", dev("u", "", engine.StateServiceUnavailable)), "usbmuxd is not running", "Start it: sudo systemctl start usbmuxd (or unplug the iPhone and plug it in again)", "issue-drivers"},
		{"permission denied", down(engine.MuxPermissionDenied, "linux"), "usbmuxd refuses this user (permission denied)", "then restart it: sudo systemctl restart usbmuxd", "issue-permissions"},
		{"garbage", down(engine.MuxUnreadable, "linux"), "usbmuxd answered something trustwatch cannot read", "Restart it: sudo systemctl restart usbmuxd", "issue-drivers"},
		{"busy (passes by itself)", down(engine.MuxBusy, "linux"), "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			items := build(tc.snap, false, "linux")
			if LevelOf(tc.snap) != icons.Idle && len(tc.snap.Devices) == 0 {
				t.Errorf("icon %v without a phone", LevelOf(tc.snap))
			}
			it, ok := find(items, tc.title)
			if tc.title == "" {
				if len(items) > 1 && items[1].Title != "---" && !items[1].Separator {
					t.Fatalf("an item about usbmuxd where none belongs: %q", items[1].Title)
				}
				return
			}
			if !ok || items[1].Title != tc.title {
				t.Fatalf("no %q right under the status line: %q", tc.title, labels(items))
			}
			var text []string
			var how Item
			for _, c := range it.Children {
				text = append(text, c.Title)
				if c.Title == LabelShowMeHow.String() {
					how = c
				}
			}
			if !strings.Contains(strings.Join(text, " "), tc.advice) {
				t.Errorf("advice %q not in %q", tc.advice, text)
			}
			if how.Action != (Action{Op: OpShowGuide, Anchor: tc.anchor}) {
				t.Errorf("Show me how… %+v, want the guide at %s", how.Action, tc.anchor)
			}
		})
	}
}

func TestMenuTail(t *testing.T) {
	for _, tc := range []struct {
		goos, quit string
	}{{"linux", "Quit"}, {"darwin", "Quit"}, {"windows", "Exit"}} {
		items := build(snap(true, dev("k", "", engine.StateUntrusted)), true, tc.goos)
		got := labels(items)
		tail := got[len(got)-6:]
		if !reflect.DeepEqual(tail, []string{LabelOpenGuide.String(), LabelCopyReport.String(), LabelOpenAtLog.String(), LabelAbout.String(), "---", tc.quit}) {
			t.Errorf("%s: tail %q", tc.goos, tail)
		}
		login, _ := find(items, LabelOpenAtLog.String())
		if !login.Checkbox || !login.Checked || login.Action.Op != OpToggleLogin {
			t.Errorf("%s: login item %+v", tc.goos, login)
		}
		if _, ok := find(WithoutLogin(items), LabelOpenAtLog.String()); ok {
			t.Error("WithoutLogin kept the login item")
		}
		if len(WithoutLogin(items)) != len(items)-1 {
			t.Error("WithoutLogin removed more than the login item")
		}
		unchecked := build(snap(true), false, tc.goos)
		if l, _ := find(unchecked, LabelOpenAtLog.String()); l.Checked {
			t.Error("login item checked while disabled")
		}
	}
}

func TestDevicesInSnapshotOrder(t *testing.T) {
	s := snap(true, dev("a", "Anna", engine.StateReady), dev("b", "", engine.StateNoData), dev("00008030-001A2B3C4D5E6F70", "", engine.StateTrustDenied))
	got := labels(build(s, false, "linux"))[1:4]
	want := []string{"Anna — ready", "iPhone b — charging only, no data", "iPhone …5E6F70 — Don't Trust was tapped"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestErrorDetailShown(t *testing.T) {
	d := dev("a", "Anna", engine.StateError)
	d.Detail = "lockdown: read: connection reset"
	if _, ok := find(build(snap(true, d), false, "linux"), "Reason: lockdown: read: connection reset"); !ok {
		t.Error("error detail missing from the submenu")
	}
}

func TestLevelOf(t *testing.T) {
	for _, tc := range []struct {
		name string
		snap engine.Snapshot
		want icons.Level
	}{
		{"nothing yet", engine.Snapshot{}, icons.Idle},
		{"no phone", snap(true), icons.Idle},
		{"no phone, usbmuxd down", snap(false), icons.Idle},
		{"ready", snap(true, dev("a", "", engine.StateReady)), icons.OK},
		{"probing only", snap(true, dev("a", "", engine.StateProbing)), icons.Idle},
		{"ready + probing", snap(true, dev("a", "", engine.StateReady), dev("b", "", engine.StateProbing)), icons.Idle},
		{"locked", snap(true, dev("a", "", engine.StateLocked)), icons.Waiting},
		{"locked since restart", snap(true, dev("a", "", engine.StateLockedSinceRestart)), icons.Waiting},
		{"locked, not trusted yet", snap(true, dev("a", "", engine.StateUntrustedLocked)), icons.Waiting},
		{"pending + ready", snap(true, dev("a", "", engine.StateReady), dev("b", "", engine.StateTrustPending)), icons.Waiting},
		{"pending + probing", snap(true, dev("a", "", engine.StateProbing), dev("b", "", engine.StateTrustPending)), icons.Waiting},
		{"revoked", snap(true, dev("a", "", engine.StateTrustRevoked)), icons.Attention},
		{"untrusted", snap(true, dev("a", "", engine.StateUntrusted)), icons.Attention},
		{"denied", snap(true, dev("a", "", engine.StateTrustDenied)), icons.Attention},
		{"pending + revoked", snap(true, dev("a", "", engine.StateTrustPending), dev("b", "", engine.StateTrustRevoked)), icons.Attention},
		{"locked + no data", snap(true, dev("a", "", engine.StateLocked), dev("b", "", engine.StateNoData)), icons.Problem},
		{"re-check after pending keeps waiting", snap(true, withPrev(dev("a", "", engine.StateProbing), engine.StateTrustPending)), icons.Waiting},
		{"no data", snap(true, dev("a", "", engine.StateNoData)), icons.Problem},
		{"service missing", snap(false, dev("a", "", engine.StateServiceUnavailable)), icons.Problem},
		{"unstable + pending", snap(true, dev("a", "", engine.StateUnstable), dev("b", "", engine.StateTrustPending)), icons.Problem},
		{"recovery", snap(true, dev("a", "", engine.StateRecovery)), icons.Problem},
		{"error", snap(true, dev("a", "", engine.StateError)), icons.Problem},
		{"re-check after revoked keeps attention", snap(true, withPrev(dev("a", "", engine.StateProbing), engine.StateTrustRevoked)), icons.Attention},
		{"re-check after ready keeps ok", snap(true, withPrev(dev("a", "", engine.StateProbing), engine.StateReady)), icons.OK},
		{"re-check after no-data keeps problem", snap(true, withPrev(dev("a", "", engine.StateProbing), engine.StateNoData)), icons.Problem},
		{"unknown state string", snap(true, dev("a", "", engine.State("bogus"))), icons.Problem},
	} {
		if got := LevelOf(tc.snap); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func withPrev(d engine.Device, p engine.State) engine.Device { d.Previous = p; return d }

func TestFixAction(t *testing.T) {
	for _, s := range engine.AllStates {
		f := FixAction(s)
		title, body := f.Render(say.English)
		switch s {
		case engine.StateUntrusted, engine.StateTrustRevoked:
			if !f.CallFixTrust || f.Title != "" || f.OpenGuide != "" {
				t.Errorf("%s: %+v", s, f)
			}
		case engine.StateUntrustedLocked:
			if f.CallFixTrust || !strings.Contains(title, "Unlock") || f.OpenGuide != "" {
				t.Errorf("%s: %+v", s, f)
			}
		case engine.StateTrustDenied:
			if f.CallFixTrust || f.OpenGuide != "step-2" || !strings.Contains(body, "unplug") {
				t.Errorf("%s: %+v", s, f)
			}
		default:
			if f.CallFixTrust || f.Title != "" || f.OpenGuide != s.Anchor() {
				t.Errorf("%s: %+v, want only the guide at %q", s, f, s.Anchor())
			}
		}
	}
}

func TestSentences(t *testing.T) {
	got := sentences(say.StateSummary(say.English, engine.StateNoData))
	if len(got) != 2 || !strings.HasSuffix(got[0], "came up.") || !strings.HasPrefix(got[1], "Try a data cable") {
		t.Errorf("%q", got)
	}
	if got := sentences(""); len(got) != 0 {
		t.Errorf("empty: %q", got)
	}
}

func TestWindowsEscapesAndTooltip(t *testing.T) {
	d := dev("a", "Anna & Ben's iPhone", engine.StateReady)
	items := build(snap(true, d), false, "windows")
	if items[1].Title != "Anna && Ben's iPhone — ready" {
		t.Errorf("windows title %q", items[1].Title)
	}
	if _, ok := find(items, "Forget pairing with Anna && Ben's iPhone"); !ok {
		t.Error("submenu titles are not escaped")
	}
	if l := build(snap(true, d), false, "linux"); l[1].Title != "Anna & Ben's iPhone — ready" {
		t.Errorf("linux title %q", l[1].Title)
	}
	var many []engine.Device
	for i := 0; i < 8; i++ {
		many = append(many, dev(fmt.Sprint(i), "A rather long iPhone name number "+fmt.Sprint(i), engine.StateTrustPending))
	}
	tip := tooltip(snap(true, many...), "windows")
	if n := len(utf16.Encode([]rune(tip))); n > winTipMax {
		t.Errorf("windows tooltip is %d UTF-16 units: %q", n, tip)
	}
	if !strings.HasPrefix(tip, "trustwatch: 8 iPhones connected") || !strings.HasSuffix(tip, "…") {
		t.Errorf("windows tooltip %q", tip)
	}
	if got := fitUTF16([]string{strings.Repeat("é", 300)}, 10); len([]rune(got)) != 10 || !strings.HasSuffix(got, "…") {
		t.Errorf("cut first line: %q", got)
	}
	if got := fitUTF16([]string{"a", "b"}, 10); got != "a\nb" {
		t.Errorf("short: %q", got)
	}
}

func TestNamesAreSafe(t *testing.T) {
	long := strings.Repeat("x", 100)
	for _, tc := range []struct{ in, want string }{
		{"Anna's iPhone", "Anna's iPhone"},
		{"two\nlines\tand\x00nul", "two lines and nul"},
		{long, strings.Repeat("x", maxName-1) + "…"},
		{"", "iPhone a"},
	} {
		d := dev("a", tc.in, engine.StateReady)
		d.UDID = "a"
		if got := name(d); got != tc.want {
			t.Errorf("name(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestWithAbout(t *testing.T) {
	items := build(snap(true), false, "linux")
	home := filepath.Join(string(filepath.Separator), "home", "anna")
	logFile := filepath.Join(home, ".local", "state", "trustwatch", "trustwatch.log")
	a := About{Version: "v1.2.3", Commit: "0123456789abcdef0123", Modified: true, Built: "2026-11-30",
		Licence: "MIT", Log: logFile, Home: home}
	got := WithAbout(items, a, true)
	if len(got) != len(items) {
		t.Fatalf("WithAbout changed the menu's length: %q", labels(got))
	}
	if _, ok := find(items, "trustwatch v1.2.3"); ok {
		t.Fatal("WithAbout changed its input")
	}
	about, _ := find(got, LabelAbout.String())
	want := []string{"trustwatch v1.2.3", "Commit 0123456789ab (modified), built 2026-11-30", "Licence: MIT",
		"Log: " + filepath.Join("~", ".local", "state", "trustwatch", "trustwatch.log"), "---", LabelOpenLogDir.String()}
	if !reflect.DeepEqual(labels(about.Children), want) {
		t.Errorf("About submenu %q, want %q", labels(about.Children), want)
	}
	if about.Action.Op != OpNone {
		t.Errorf("the About item itself does %v; it is a submenu now", about.Action.Op)
	}
	for _, c := range about.Children[:4] {
		if !c.Disabled || c.Action.Op != OpNone {
			t.Errorf("information line %q is clickable", c.Title)
		}
	}
	if open := about.Children[5]; open.Disabled || open.Action.Op != OpOpenLogFolder {
		t.Errorf("Open log folder: %+v", open)
	}

	for _, tc := range []struct {
		name    string
		a       About
		canOpen bool
		want    []string
	}{
		{"development build, cannot open", About{Log: logFile}, false,
			[]string{"trustwatch (development build)", "Commit unknown", "Licence: not stated", "Log: " + logFile}},
		{"journal", About{Version: "dev", Commit: "unknown", Built: "2026-01-02", Log: "journal"}, true,
			[]string{"trustwatch dev", "Commit unknown, built 2026-01-02", "Licence: not stated", "Log: journalctl --user -u trustwatch"}},
		{"stderr", About{Version: "dev", Log: "stderr"}, true,
			[]string{"trustwatch dev", "Commit unknown", "Licence: not stated", "Log: printed to the terminal it was started from"}},
		{"outside home", About{Version: "dev", Log: "/var/log/tw.log", Home: home}, true,
			[]string{"trustwatch dev", "Commit unknown", "Licence: not stated", "Log: /var/log/tw.log", "---", LabelOpenLogDir.String()}},
	} {
		about, _ := find(WithAbout(items, tc.a, tc.canOpen), LabelAbout.String())
		if got := labels(about.Children); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}

	long := About{Version: "dev", Log: "/srv/" + strings.Repeat("very-long-folder-name/", 8) + "trustwatch.log"}
	about, _ = find(WithAbout(items, long, true), LabelAbout.String())
	line := about.Children[3].Title
	if n := len([]rune(line)); n > len("Log: ")+maxLogPath || !strings.HasSuffix(line, "trustwatch.log") || !strings.Contains(line, "…") {
		t.Errorf("long log path shown as %q (%d characters)", line, n)
	}
}

// The Notifications switch sits after "Open guide…" with the mode in force
// checked; every phone with a UDID gets "Mute this iPhone", checked when
// muted; the menu without the switch is unchanged.
func TestWithNotifications(t *testing.T) {
	rev := dev("k1", "Anna's iPhone", engine.StateTrustRevoked)
	anon := engine.Device{Key: "usb:3-7", State: engine.StateNoData}
	s := snap(true, rev, anon)
	base := build(s, true, "linux")
	items := WithNotifications(base, s, notify.ModeProblems, func(u string) bool { return u == "k1" })
	got := labels(items)
	want := []string{"2 iPhones connected — 2 need attention", "Anna's iPhone — trust was reset", "iPhone — charging only, no data",
		"---", "Open guide…", "Notifications: problems only", "Copy support report", "Open at login", "About trustwatch", "---", "Quit"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("menu %q\nwant %q", got, want)
	}
	sw := items[5]
	if len(sw.Children) != 3 {
		t.Fatalf("switch %+v", sw)
	}
	for i, l := range ModeLabels {
		c := sw.Children[i]
		if c.Title != l.Label.String() || !c.Checkbox || c.Checked != (l.Mode == notify.ModeProblems) || c.Action != (Action{Op: OpNotifyMode, Mode: l.Mode}) {
			t.Errorf("switch item %d: %+v", i, c)
		}
	}
	mute, ok := find(items[1].Children, LabelMute.String())
	if !ok || !mute.Checkbox || !mute.Checked || mute.Action != (Action{Op: OpMute, UDID: "k1"}) {
		t.Errorf("mute item %+v (found %v)", mute, ok)
	}
	if _, ok := find(items[2].Children, LabelMute.String()); ok {
		t.Error("a phone without UDID offers Mute")
	}
	if !reflect.DeepEqual(base, build(s, true, "linux")) {
		t.Error("WithNotifications changed the menu it was given")
	}
	for _, m := range []notify.Mode{notify.ModeAll, notify.ModeOff} {
		if got := NotificationsTitle(m); got != "Notifications: "+map[notify.Mode]string{notify.ModeAll: "all", notify.ModeOff: "off"}[m] {
			t.Errorf("title %q", got)
		}
	}
}
