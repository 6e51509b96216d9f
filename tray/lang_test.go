package tray

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/trustwatch/trustwatch/internal/catalog"
	"github.com/trustwatch/trustwatch/internal/catalog/catalogtest"
	"github.com/trustwatch/trustwatch/internal/lang"
	"github.com/trustwatch/trustwatch/notify"
	"github.com/trustwatch/trustwatch/watcher/engine"
)

// leakedID is a message id shown instead of its words (the catalog shows
// the id when a language lacks a message).
var leakedID = regexp.MustCompile(`\b(tray|notify|state|say|cli|guide|mux|usb)\.[a-z_-]+(\.[a-z_-]+)*\b`)

// speaking sets the process's language for one test.
func speaking(t *testing.T, tag string) {
	t.Helper()
	old := lang.Current()
	lang.Set(lang.Choice{Tag: tag, Source: "test"})
	t.Cleanup(func() { lang.Set(old) })
}

// allLanguagesMenu is a menu with a phone in every state, with the
// Notifications switch, Mute and About filled in.
func allLanguagesMenu() []Item {
	var ds []engine.Device
	for i, s := range engine.AllStates {
		d := engine.Device{Key: fmt.Sprint("k", i), UDID: fmt.Sprint("u", i), Name: "iPhone", State: s, Guide: s.Anchor()}
		if s == engine.StateError {
			d.Detail = "EOF"
		}
		ds = append(ds, d)
	}
	s := snap(true, ds...)
	items := WithNotifications(Build(s, true), s, notify.ModeProblems, func(string) bool { return false })
	return WithAbout(items, About{Version: "v1.2.3", Commit: "0123456789abcdef", Modified: true, Built: "2026-11-30", Licence: "MIT", Log: "/var/log/trustwatch.log"}, true)
}

// shownTexts is every string of a menu a person reads: titles and tooltips.
func shownTexts(items []Item) []string {
	var out []string
	for _, it := range items {
		if it.Separator {
			continue
		}
		out = append(out, it.Title)
		if it.Tooltip != "" {
			out = append(out, it.Tooltip)
		}
		out = append(out, shownTexts(it.Children)...)
	}
	return out
}

// trayNotices are the tray's own notifications, rendered in w: Fix trust's
// answers in every state, and the notices of its other items.
func trayNotices(w catalog.Words) [][2]string {
	var out [][2]string
	for _, s := range engine.AllStates {
		if f := FixAction(s); f.Title != "" {
			t, b := f.Render(w)
			out = append(out, [2]string{t, b})
		}
	}
	err := errors.New("EOF")
	for _, n := range []notice{noticeUnplugged(), noticeReportCopied(), noticeReportSaved("/home/anna/trustwatch-report.txt"),
		noticeReportFailed(err), noticeLoginFailed(err), noticeLogFolderFailed("/var/log/trustwatch.log")} {
		t, b := n.render(w)
		out = append(out, [2]string{t, b})
	}
	return out
}

// checkWords fails on an empty string, a leaked message id, and in a
// language not written in Latin letters, on English left in it.
func checkWords(t *testing.T, tag, where, s string, allowed ...string) {
	t.Helper()
	if strings.TrimSpace(s) == "" {
		t.Errorf("%s %s: empty", tag, where)
	}
	if id := leakedID.FindString(s); id != "" {
		t.Errorf("%s %s: message id %q shown in %q", tag, where, id, s)
	}
	if tag == "ru" {
		if ws := catalogtest.StrayLatin(s, allowed...); len(ws) > 0 {
			t.Errorf("%s %s: Latin words %q in %q", tag, where, ws, s)
		}
	}
}

// Every state's tray entry, every item, tooltip and notice of the tray, in
// every language: no empty string, no message id, no English in Russian.
func TestTrayInEveryLanguage(t *testing.T) {
	// What stays in Latin letters in any language: the system's own error
	// ("EOF"), a command, a path, a version, a commit.
	allowed := []string{"EOF", "journalctl", "user", "u", "trustwatch", "report", "var", "log", "home", "anna", "trustwatch-report", "txt", "v1", "MIT", "0123456789ab"}
	for _, tag := range catalog.Languages() {
		t.Run(tag, func(t *testing.T) {
			speaking(t, tag)
			w := catalog.In(tag)
			texts := shownTexts(allLanguagesMenu())
			if len(texts) < 60 {
				t.Fatalf("only %d strings in the menu", len(texts))
			}
			for _, s := range texts {
				checkWords(t, tag, "menu", s, allowed...)
			}
			for _, goos := range []string{"linux", "windows"} {
				checkWords(t, tag, "quit", QuitLabel(goos))
				for _, l := range strings.Split(tooltip(snap(true, dev("a", "iPhone", engine.StateTrustRevoked)), goos), "\n") {
					checkWords(t, tag, "tooltip", l, allowed...)
				}
			}
			checkWords(t, tag, "stopped", StoppedLine(), allowed...)
			for _, n := range trayNotices(w) {
				checkWords(t, tag, "notice title", n[0], allowed...)
				checkWords(t, tag, "notice body", n[1], allowed...)
			}
			for _, m := range []notify.Mode{notify.ModeAll, notify.ModeProblems, notify.ModeOff} {
				checkWords(t, tag, "switch", NotificationsTitle(m))
			}
			about := WithAbout(Build(snap(true), false), About{Log: "journal"}, false)
			for _, s := range shownTexts(about) {
				checkWords(t, tag, "about", s, allowed...)
			}
		})
	}
	// The check is not blind: English fails it as Russian.
	speaking(t, "en")
	stray := 0
	for _, s := range shownTexts(allLanguagesMenu()) {
		stray += len(catalogtest.StrayLatin(s))
	}
	if stray < 100 {
		t.Errorf("the English menu yields only %d stray words", stray)
	}
	if leakedID.FindString(catalog.In("ru").T("tray.no_such_message", nil)) == "" {
		t.Error("a missing message's id is not caught")
	}
}

// The status line's count in both languages, for the counts whose plural
// forms differ: 0, 1, 2, 5, 11, 21, 22, 25.
func TestStatusLinePlurals(t *testing.T) {
	want := map[string]map[int]string{
		"en": {0: "No iPhone connected", 1: "1 iPhone connected — ready", 2: "2 iPhones connected — 1 needs attention",
			5: "5 iPhones connected — 1 needs attention", 11: "11 iPhones connected — 1 needs attention",
			21: "21 iPhones connected — 1 needs attention", 22: "22 iPhones connected — 1 needs attention", 25: "25 iPhones connected — 1 needs attention"},
		"ru": {0: "iPhone не подключён", 1: "1 iPhone подключён — готов к работе", 2: "2 iPhone подключены — 1 требует внимания",
			5: "5 iPhone подключено — 1 требует внимания", 11: "11 iPhone подключено — 1 требует внимания",
			21: "21 iPhone подключён — 1 требует внимания", 22: "22 iPhone подключены — 1 требует внимания", 25: "25 iPhone подключено — 1 требует внимания"},
	}
	// …and how many need attention, with the same counts.
	need := map[string]map[int]string{
		"en": {2: "2 need attention", 5: "5 need attention", 11: "11 need attention", 21: "21 need attention", 22: "22 need attention", 25: "25 need attention"},
		"ru": {2: "2 требуют внимания", 5: "5 требуют внимания", 11: "11 требуют внимания", 21: "21 требует внимания", 22: "22 требуют внимания", 25: "25 требуют внимания"},
	}
	for _, tag := range []string{"en", "ru"} {
		speaking(t, tag)
		for _, n := range []int{0, 1, 2, 5, 11, 21, 22, 25} {
			var ds []engine.Device
			for i := range n {
				s := engine.StateReady
				if i == 1 {
					s = engine.StateTrustPending
				}
				ds = append(ds, dev(fmt.Sprint("k", i), "iPhone", s))
			}
			if got := build(snap(true, ds...), false, "linux")[0].Title; got != want[tag][n] {
				t.Errorf("%s, %d phones: %q, want %q", tag, n, got, want[tag][n])
			}
			if n < 2 {
				continue
			}
			for i := range ds {
				ds[i].State = engine.StateTrustPending
			}
			got := build(snap(true, ds...), false, "linux")[0].Title
			if _, how, _ := strings.Cut(got, " — "); how != need[tag][n] {
				t.Errorf("%s, %d phones needing attention: %q, want … — %q", tag, n, got, need[tag][n])
			}
		}
	}
}
