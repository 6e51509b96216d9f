package tray

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trustwatch/trustwatch/internal/catalog"
	"github.com/trustwatch/trustwatch/internal/catalog/catalogtest"
	"github.com/trustwatch/trustwatch/internal/desktoptest"
	"github.com/trustwatch/trustwatch/notify"
	"github.com/trustwatch/trustwatch/watcher/engine"
)

func init() { childModes["pseudo"] = runPseudoChild }

// pseudoWords is the pseudo-locale: every string of the catalog 40 %
// longer and bracketed (catalogtest.Pad).
func pseudoWords() catalog.Words { return catalog.Current().Reshaped(catalogtest.Pad) }

// runPseudoChild is the tray as the app wires it (a real Notifier sending
// to the session bus, its Tell, Answer and switch) in the pseudo-locale.
// Opening the guide and the log folder fails, so their notices show too.
func runPseudoChild() int {
	words = pseudoWords
	w := pseudoWords()
	lg := slog.New(slog.NewTextHandler(os.Stderr, nil))
	n := notify.New(notify.Options{Words: &w, Logger: lg})
	defer n.Close()
	fc := &fakeController{ch: make(chan engine.Snapshot, 1)}
	toNotifier := &fakeController{ch: make(chan engine.Snapshot, 1)}
	actions := make(chan Action, 4)
	go feed(actions, fc, toNotifier)
	err := Run(childContext(), Options{
		Controller:    fc,
		Tell:          n.Tell,
		Notifications: n,
		Actions:       actions,
		OpenGuide:     func(string) error { return errors.New("no browser in this test") },
		LoginItem:     &fakeLogin{},
		Start:         func(ctx context.Context) { n.Run(ctx, toNotifier.ch) },
		Logger:        lg,
		About: About{Version: "v0.0.0-test", Commit: "0123456789abcdef", Modified: true, Built: "2026-11-30", Licence: "MIT",
			Log: os.Getenv("TRUSTWATCH_TEST_LOG"), Home: os.Getenv("HOME")},
		OpenFolder: func(string) error { return errors.New("no file manager in this test") },
		Report:     func(ctx context.Context) string { return "support report" },
	})
	if err != nil {
		lg.Error("tray.Run", "err", err)
		return 1
	}
	return 0
}

// envValue is key's value in env.
func envValue(env []string, key string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == key {
			return v
		}
	}
	return ""
}

// checkWhole fails the test unless s holds text from the catalog, every
// piece of it whole.
func checkWhole(t *testing.T, where, s string) {
	t.Helper()
	n, err := catalogtest.Whole(s)
	switch {
	case err != nil:
		t.Errorf("%s: %v", where, err)
	case n == 0:
		t.Errorf("%s %q: no text from the catalog in it", where, s)
	}
}

// menuTexts are the labels of a menu as the host got them, each sentence
// of a phone's advice joined back to the text it was split from (the
// tray shows one sentence per line: a split, not a cut).
func menuTexts(m *desktoptest.MenuNode) []string {
	var out []string
	pending := ""
	for _, c := range m.Children {
		if c.Separator() {
			continue
		}
		l := c.Label()
		if pending != "" {
			l = pending + " " + l
		}
		if strings.Count(l, catalogtest.Open) > strings.Count(l, catalogtest.Close) && c.Enabled() == false {
			pending = l // a sentence of advice: the rest follows
			continue
		}
		pending = ""
		out = append(out, l)
		out = append(out, menuTexts(c)...)
	}
	if pending != "" {
		out = append(out, pending)
	}
	return out
}

// The pseudo-locale run of the real tray on xfce4-panel, with the real
// notifier sending to dunst: every label of the menu (a phone in every
// state, the Notifications switch, Mute, About), the tooltip, and every
// notification the tray's clicks raise, read back over D-Bus (dbusmenu
// GetLayout, the item's ToolTip, a bus monitor on Notify), arrive whole
// with every string 40 % longer.
func TestPseudoLocaleTrayWhole(t *testing.T) {
	env, conn := desktop(t)
	bus := envValue(env, "DBUS_SESSION_BUS_ADDRESS")
	desktoptest.StartDunst(t, env)
	watch := desktoptest.WatchNotify(t, bus)
	old := words
	words = pseudoWords // the labels the test looks for are the pseudo-locale's
	t.Cleanup(func() { words = old })

	home := t.TempDir()
	logFile := filepath.Join(home, ".local", "state", "trustwatch", "trustwatch.log")
	c := startChild(t, "pseudo", append(env, "HOME="+home, "TRUSTWATCH_TEST_LOG="+logFile))
	dest := waitItem(t, conn, c, 10*time.Second)
	var devs []wireDevice
	for i, s := range engine.AllStates {
		d := wireDevice{Key: "k-" + string(s), Name: fmt.Sprint("Phone ", i), UDID: fmt.Sprintf("00008030-%016X", i), State: s}
		if s == engine.StateError {
			d.Detail = "EOF"
		}
		devs = append(devs, d)
	}
	c.send(wireMsg{Reachable: true, Devices: devs})
	title := func(s engine.State) string {
		for i, x := range engine.AllStates {
			if x == s {
				return DeviceTitle(engine.Device{Name: fmt.Sprint("Phone ", i), UDID: "x", State: s})
			}
		}
		return ""
	}
	last := title(engine.AllStates[len(engine.AllStates)-1])
	m := waitMenu(t, conn, dest, 10*time.Second, "every phone", func(m *desktoptest.MenuNode) bool { return complete(m) && m.Find(last) != nil })

	texts := menuTexts(m)
	for _, s := range texts {
		checkWhole(t, "menu", s)
	}
	if len(texts) < 80 {
		t.Errorf("only %d labels in the menu:\n%s", len(texts), strings.Join(texts, "\n"))
	}
	tip, err := desktoptest.ToolTip(conn, dest)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(tip, "\n") {
		checkWhole(t, "tooltip", l)
	}

	// The phones' bubble first, as a person sees it before clicking.
	w := pseudoWords()
	group := w.N("notify.group.need_attention", 12, nil)
	watch.Wait(t, 10*time.Second, "the phones' bubble", func(cs []desktoptest.NotifyCall) bool {
		return len(cs) > 0 && cs[len(cs)-1].Summary == group
	})
	// The clicks that raise notifications of the tray's own.
	click := func(n *desktoptest.MenuNode, what string) {
		t.Helper()
		if n == nil {
			t.Fatalf("no %s in the menu:\n%v", what, m)
		}
		if err := desktoptest.MenuClick(conn, dest, n.ID); err != nil {
			t.Fatalf("click %s: %v", what, err)
		}
	}
	click(m.Find(title(engine.StateUntrustedLocked)).Find(LabelFixTrust.String()), "Fix trust (untrusted-locked)")
	click(m.Find(title(engine.StateTrustRevoked)).Find(LabelFixTrust.String()), "Fix trust (revoked)")
	click(m.Find(title(engine.StateReady)).Find(LabelForget.String()).Children[1], "Forget")
	click(m.Find(LabelOpenGuide.String()), "Open guide")
	click(m.Find(LabelCopyReport.String()), "Copy support report")
	click(m.Find(LabelAbout.String()).Find(LabelOpenLogDir.String()), "Open log folder")

	unlock, _ := FixAction(engine.StateUntrustedLocked).Render(w)
	guide, _ := notify.GuideUnavailable(w, "")
	logFolder, _ := noticeLogFolderFailed(logFile).render(w)
	want := []string{unlock, guide, logFolder,
		w.T(notify.FixTrustFeedback.Title, nil), w.T(notify.ForgottenFeedback.Title, nil)} // answers in the phones' bubbles
	reports := []string{w.T("tray.report.copied.title", nil), w.T("tray.report.saved.title", nil)}
	calls := watch.Wait(t, 10*time.Second, "the tray's notices", func(cs []desktoptest.NotifyCall) bool {
		seen := map[string]bool{}
		for _, c := range cs {
			seen[c.Summary] = true
		}
		for _, s := range want {
			if !seen[s] {
				return false
			}
		}
		return seen[reports[0]] || seen[reports[1]]
	})
	for i, c := range calls {
		checkWhole(t, fmt.Sprintf("notification %d title", i), c.Summary)
		checkWhole(t, fmt.Sprintf("notification %d body", i), c.Body)
		for j := 1; j < len(c.Actions); j += 2 {
			checkWhole(t, fmt.Sprintf("notification %d button", i), c.Actions[j])
		}
	}
	t.Logf("pseudo-locale: %d menu labels, %d tooltip lines, %d notifications arrived whole", len(texts), strings.Count(tip, "\n")+1, len(calls))
}
