// Package tray is trustwatch's tray icon and menu. The menu is a pure
// function of the engine's latest snapshot (Build), re-rendered whenever
// that snapshot changes; clicks become Actions handled off the engine's
// path, so the tray never slows the watcher down.
package tray

import (
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"unicode"
	"unicode/utf16"

	"github.com/trustwatch/trustwatch/icons"
	"github.com/trustwatch/trustwatch/internal/catalog"
	"github.com/trustwatch/trustwatch/internal/say"
	"github.com/trustwatch/trustwatch/notify"
	"github.com/trustwatch/trustwatch/watcher/engine"
)

// Op is what a menu item does when clicked.
type Op int

// The menu operations.
const (
	OpNone          Op = iota // a label: the status line, a device's advice
	OpFixTrust                // FixAction(device state) on Action.Key
	OpShowGuide               // open the guide at Action.Anchor ("" = its start)
	OpForget                  // Controller.Forget(Action.Key)
	OpToggleLogin             // flip "Open at login"
	OpAbout                   // the About item: WithAbout turns it into a submenu
	OpQuit                    // leave the tray
	OpOpenLogFolder           // show the log file's folder
	OpCopyReport              // put the support report on the clipboard (or in a file)
	OpNotifyMode              // set the Notifications switch to Action.Mode
	OpMute                    // flip "Mute this iPhone" for Action.UDID
)

func (o Op) String() string {
	return [...]string{"none", "fix-trust", "show-guide", "forget", "toggle-login", "about", "quit", "open-log-folder", "copy-report", "notify-mode", "mute"}[o]
}

// Action is the click behind an item.
type Action struct {
	Op     Op
	Key    string      // device key, for OpFixTrust and OpForget
	Anchor string      // guide anchor, for OpShowGuide
	Mode   notify.Mode // for OpNotifyMode
	UDID   string      // for OpMute
}

// Item is one menu entry. Separator items have no other fields.
type Item struct {
	Title     string
	Tooltip   string
	Disabled  bool
	Separator bool
	Checkbox  bool // rendered with a check mark slot (Linux needs this up front)
	Checked   bool
	Action    Action
	Children  []Item // a submenu
	Device    string // the device key of a device's entry ("" otherwise)
}

// words are the tray's words: the catalog in the process's language. A
// variable so that a test can run the real tray in a pseudo-locale.
var words = catalog.Current

// Label is a menu item's words, by message id (tray.toml).
type Label string

// String is the label in the process's language: what the menu shows, and
// what tests look items up by.
func (l Label) String() string { return l.In(words()) }

// In is the label in w's language.
func (l Label) In(w catalog.Words) string { return w.T(string(l), nil) }

// Menu labels that tests and docs refer to.
const (
	LabelFixTrust   Label = "tray.menu.fix_trust"
	LabelShowMeHow  Label = "tray.menu.show_me_how"
	LabelForget     Label = "tray.menu.forget"
	LabelOpenGuide  Label = "tray.menu.open_guide"
	LabelOpenAtLog  Label = "tray.menu.open_at_login"
	LabelAbout      Label = "tray.menu.about"
	LabelCopyReport Label = "tray.menu.copy_report"
	LabelOpenLogDir Label = "tray.menu.open_log_folder"
	LabelMute       Label = "tray.menu.mute"
	labelQuitUnix   Label = "tray.menu.quit"
	labelQuitWindow Label = "tray.menu.exit"
)

// StoppedLine replaces the status line when the watcher has stopped.
func StoppedLine() string { return words().T("tray.stopped", nil) }

// QuitLabel is "Exit" on Windows and "Quit" elsewhere, as each platform's
// own apps say it.
func QuitLabel(goos string) string {
	if goos == "windows" {
		return labelQuitWindow.String()
	}
	return labelQuitUnix.String()
}

// serviceName is what the user knows usbmuxd as on goos.
func serviceName(goos string) string {
	if goos == "windows" {
		return "Apple Mobile Device Service"
	}
	return "usbmuxd"
}

// Build is the whole menu for a snapshot, top to bottom. loginEnabled is
// the "Open at login" check mark; Run drops that item when there is no
// login-item support.
func Build(snap engine.Snapshot, loginEnabled bool) []Item {
	return build(snap, loginEnabled, runtime.GOOS)
}

func build(snap engine.Snapshot, loginEnabled bool, goos string) []Item {
	items := buildRaw(snap, loginEnabled, goos)
	if goos == "windows" {
		escapeAmpersands(items)
	}
	return items
}

// escapeAmpersands doubles "&" for Windows menus, where a single one marks
// the next letter as the keyboard accelerator ("Anna & Ben" would lose it).
func escapeAmpersands(items []Item) {
	for i := range items {
		items[i].Title = strings.ReplaceAll(items[i].Title, "&", "&&")
		escapeAmpersands(items[i].Children)
	}
}

func buildRaw(snap engine.Snapshot, loginEnabled bool, goos string) []Item {
	w := words()
	items := []Item{{Title: statusLine(w, snap, goos), Disabled: true}}
	if it, ok := serviceItem(w, snap); ok {
		items = append(items, it)
	}
	for _, d := range snap.Devices {
		items = append(items, deviceItem(w, d))
	}
	items = append(items,
		Item{Separator: true},
		Item{Title: LabelOpenGuide.In(w), Action: Action{Op: OpShowGuide}},
		Item{Title: LabelCopyReport.In(w), Action: Action{Op: OpCopyReport}},
		Item{Title: LabelOpenAtLog.In(w), Checkbox: true, Checked: loginEnabled, Action: Action{Op: OpToggleLogin}},
		Item{Title: LabelAbout.In(w), Action: Action{Op: OpAbout}},
		Item{Separator: true},
		Item{Title: QuitLabel(goos), Action: Action{Op: OpQuit}},
	)
	return items
}

// WithoutLogin removes the "Open at login" item, for builds or platforms
// where the login item is not available yet.
func WithoutLogin(items []Item) []Item { return without(items, OpToggleLogin) }

// without removes the top-level items that do op.
func without(items []Item, op Op) []Item {
	out := make([]Item, 0, len(items))
	for _, it := range items {
		if it.Action.Op != op {
			out = append(out, it)
		}
	}
	return out
}

// serviceItem is a submenu about usbmuxd when something is wrong with it:
// its state in words, the next step, and the guide. Nothing when all is
// well or the state is normal (usbmuxd idle without a phone): no alarm.
func serviceItem(w catalog.Words, snap engine.Snapshot) (Item, bool) {
	t := snap.Usbmux.Text
	if snap.Usbmux.Reachable || !t.Problem || t.Headline.IsZero() {
		return Item{}, false
	}
	it := Item{Title: say.MuxHeadline(w, t), Tooltip: say.MuxLine(w, t)}
	for _, s := range sentences(say.MuxNext(w, t)) {
		it.Children = append(it.Children, Item{Title: s, Disabled: true})
	}
	if t.Anchor != "" {
		if len(it.Children) > 0 {
			it.Children = append(it.Children, Item{Separator: true})
		}
		it.Children = append(it.Children, Item{Title: LabelShowMeHow.In(w), Action: Action{Op: OpShowGuide, Anchor: t.Anchor}})
	}
	if len(it.Children) == 0 {
		it.Children = []Item{{Title: say.MuxHeadline(w, t), Disabled: true}}
	}
	return it, true
}

// About is what "About trustwatch" shows: this build and where its log is.
type About struct {
	Version  string
	Commit   string // "" or "unknown" when the build recorded none
	Modified bool
	Built    string // build date, "" if unknown
	Licence  string
	Log      string // the log file's path, or "journal" or "stderr"
	Home     string // shown as "~" at the start of Log, "" to show it whole
}

// maxLogPath caps the log file's path in About, as maxName does a
// phone's name: the path is shortened, never the words around it.
const maxLogPath = 56

// WithAbout makes the About item a submenu of disabled lines (version,
// commit and build date, licence, log) with "Open log folder" when the log
// is a file and canOpen. Build leaves About as a plain item, so the menu's
// shape does not depend on the build.
func WithAbout(items []Item, a About, canOpen bool) []Item {
	out := make([]Item, len(items))
	copy(out, items)
	for i, it := range out {
		if it.Action.Op == OpAbout {
			out[i] = Item{Title: it.Title, Children: aboutLines(words(), a, canOpen)}
		}
	}
	return out
}

func aboutLines(w catalog.Words, a About, canOpen bool) []Item {
	line := func(s string) Item { return Item{Title: s, Disabled: true} }
	version := w.T("tray.about.development_build", nil)
	if a.Version != "" {
		version = w.T("tray.about.version", map[string]any{"Version": shorten(a.Version, maxLogPath)})
	}
	commit := w.T("tray.about.commit_unknown", nil)
	if a.Commit != "" && a.Commit != "unknown" {
		c := a.Commit
		if len(c) > 12 {
			c = c[:12]
		}
		id := "tray.about.commit"
		if a.Modified {
			id = "tray.about.commit_modified"
		}
		commit = w.T(id, map[string]any{"Commit": c})
	}
	if a.Built != "" {
		commit = w.T("tray.about.built", map[string]any{"Commit": commit, "Date": a.Built})
	}
	lic := w.T("tray.about.licence_unknown", nil)
	if a.Licence != "" {
		lic = w.T("tray.about.licence", map[string]any{"Licence": a.Licence})
	}
	items := []Item{line(version), line(commit), line(lic)}
	switch a.Log {
	case "", "stderr":
		items = append(items, line(w.T("tray.about.log_terminal", nil)))
	case "journal":
		items = append(items, line(w.T("tray.about.log_journal", map[string]any{"Command": "journalctl --user -u trustwatch"})))
	default:
		shown := a.Log
		if a.Home != "" {
			if rel, err := filepath.Rel(a.Home, a.Log); err == nil && filepath.IsLocal(rel) {
				shown = filepath.Join("~", rel)
			}
		}
		items = append(items, line(w.T("tray.about.log_file", map[string]any{"Path": shorten(shown, maxLogPath)})))
		if canOpen && filepath.IsAbs(a.Log) {
			items = append(items, Item{Separator: true}, Item{Title: LabelOpenLogDir.In(w), Action: Action{Op: OpOpenLogFolder}})
		}
	}
	return items
}

// shorten cuts s to max characters with "…" in the middle, so both the
// start and the file name of a long path stay readable.
func shorten(s string, max int) string {
	r := []rune(s)
	if len(r) <= max {
		return s
	}
	head := (max - 1) / 2
	return string(r[:head]) + "…" + string(r[len(r)-(max-1-head):])
}

// NotificationsTitle is the submenu that holds the Notifications switch;
// its title says what is in force ("Notifications: problems only").
func NotificationsTitle(m notify.Mode) string { return notificationsTitle(words(), m) }

func notificationsTitle(w catalog.Words, m notify.Mode) string {
	if !m.Valid() {
		m = notify.ModeAll
	}
	return w.T("tray.notifications."+string(m), nil)
}

// ModeLabels are the switch's items, in menu order.
var ModeLabels = []struct {
	Mode  notify.Mode
	Label Label
}{
	{notify.ModeAll, "tray.notifications.mode.all"},
	{notify.ModeProblems, "tray.notifications.mode.problems"},
	{notify.ModeOff, "tray.notifications.mode.off"},
}

// WithNotifications adds the Notifications switch (after "Open guide…")
// and, in each phone's submenu that has a UDID, "Mute this iPhone".
// muted reports whether a UDID is muted.
func WithNotifications(items []Item, snap engine.Snapshot, mode notify.Mode, muted func(udid string) bool) []Item {
	w := words()
	out := make([]Item, 0, len(items)+1)
	for _, it := range items {
		if it.Device != "" {
			if d, ok := snap.Device(it.Device); ok && notify.MuteID(d) != "" {
				it.Children = append(slices.Clone(it.Children),
					Item{Separator: true},
					Item{Title: LabelMute.In(w), Checkbox: true, Checked: muted(notify.MuteID(d)),
						Tooltip: w.T("tray.menu.mute.tooltip", nil),
						Action:  Action{Op: OpMute, UDID: notify.MuteID(d)}})
			}
		}
		out = append(out, it)
		if it.Action == (Action{Op: OpShowGuide}) && it.Device == "" { // "Open guide…"
			sw := Item{Title: notificationsTitle(w, mode)}
			for _, l := range ModeLabels {
				sw.Children = append(sw.Children, Item{Title: l.Label.In(w), Checkbox: true, Checked: l.Mode == mode,
					Action: Action{Op: OpNotifyMode, Mode: l.Mode}})
			}
			out = append(out, sw)
		}
	}
	return out
}

// DeviceTitle is a device's menu entry: "Anna's iPhone — waiting for Trust".
func DeviceTitle(d engine.Device) string { return deviceTitle(words(), d) }

func deviceTitle(w catalog.Words, d engine.Device) string {
	return w.T("tray.device.title", map[string]any{"Name": name(d), "State": say.StateWords(w, d.State)})
}

// maxName caps a phone's name in menus: the name is whatever its owner
// typed, and a menu as wide as the screen helps nobody.
const maxName = 40

// name is the device's display name made safe for one menu line: control
// characters (a newline in a phone name) become spaces, and it is cut to
// maxName characters.
func name(d engine.Device) string {
	r := []rune(strings.Map(func(c rune) rune {
		if unicode.IsControl(c) {
			return ' '
		}
		return c
	}, d.DisplayName()))
	if len(r) > maxName {
		r = append(r[:maxName-1], '…')
	}
	return strings.TrimSpace(string(r))
}

func deviceItem(w catalog.Words, d engine.Device) Item {
	advice := say.Summary(w, d)
	it := Item{Title: deviceTitle(w, d), Tooltip: advice, Device: d.Key}
	// The advice first, as disabled lines, one sentence each: menus do not
	// wrap, and a sentence is short enough to read.
	for _, s := range sentences(advice) {
		it.Children = append(it.Children, Item{Title: s, Disabled: true})
	}
	if d.Detail != "" && d.State == engine.StateError {
		it.Children = append(it.Children, Item{Title: w.T("tray.device.reason", map[string]any{"Detail": d.Detail}), Disabled: true})
	}
	if !d.LinkSpeed.IsZero() {
		it.Children = append(it.Children, Item{Title: say.Advice(w, d.LinkSpeed), Disabled: true})
	}
	var acts []Item
	if d.State.TrustProblem() {
		acts = append(acts, Item{Title: LabelFixTrust.In(w), Action: Action{Op: OpFixTrust, Key: d.Key}})
	}
	if a := d.State.Anchor(); a != "" {
		acts = append(acts, Item{Title: LabelShowMeHow.In(w), Action: Action{Op: OpShowGuide, Anchor: a}})
	}
	if d.State.HoldsPairing() {
		// A submenu is the confirmation step: forgetting makes the phone
		// ask for Trust again, which nobody wants by a slip of the mouse.
		acts = append(acts, Item{Title: LabelForget.In(w), Children: []Item{
			{Title: w.T("tray.forget.warning", nil), Disabled: true},
			{Title: w.T("tray.forget.confirm", map[string]any{"Name": name(d)}), Action: Action{Op: OpForget, Key: d.Key}},
		}})
	}
	if len(acts) > 0 && len(it.Children) > 0 {
		it.Children = append(it.Children, Item{Separator: true})
	}
	it.Children = append(it.Children, acts...)
	if len(it.Children) == 0 {
		it.Children = []Item{{Title: say.StateWords(w, d.State), Disabled: true}}
	}
	return it
}

// sentences splits advice at ". " so each line of the submenu is one
// sentence; quotes inside a sentence ("Don't Trust") are kept whole.
func sentences(s string) []string {
	var out []string
	for s != "" {
		i := strings.Index(s, ". ")
		if i < 0 {
			out = append(out, strings.TrimSpace(s))
			break
		}
		out = append(out, strings.TrimSpace(s[:i+1]))
		s = s[i+2:]
	}
	return out
}

// statusLine is the disabled first line of the menu and the tooltip, in
// the user's language (internal/catalog, tray.status.*).
func statusLine(w catalog.Words, snap engine.Snapshot, goos string) string {
	n := len(snap.Devices)
	switch {
	case snap.Time.IsZero() && n == 0 && !snap.Usbmux.Reachable:
		return w.T("tray.status.starting", nil) // no snapshot from the watcher yet
	case n == 0:
		// Whatever usbmuxd does: without a phone there is nothing to
		// alarm about (on Linux it only runs while a phone is plugged in);
		// a usbmuxd that needs fixing gets its own item below.
		return w.T("tray.status.none", nil)
	case !snap.Usbmux.Reachable:
		why := w.T("tray.status.unreachable", map[string]any{"Service": serviceName(goos)})
		if h := say.MuxHeadline(w, snap.Usbmux.Text); h != "" {
			why = h
		}
		return w.N("tray.status.on_usb", n, map[string]any{"Why": why})
	}
	var need, checking int
	for _, d := range snap.Devices {
		switch {
		case !d.State.Final():
			checking++
		case d.State.NeedsUser():
			need++
		}
	}
	var how string
	switch {
	case need > 0 && n == 1:
		how = w.T("tray.status.needs_attention", nil)
	case need > 0:
		how = w.N("tray.status.some_need_attention", need, nil)
	case checking > 0:
		how = w.T("tray.status.checking", nil)
	case n == 1:
		how = w.T("tray.status.ready", nil)
	default:
		how = w.T("tray.status.all_ready", nil)
	}
	return w.T("tray.status.line", map[string]any{"Phones": w.N("tray.status.connected", n, nil), "How": how})
}

// Tooltip is the status line, then one line per device.
func Tooltip(snap engine.Snapshot) string { return tooltip(snap, runtime.GOOS) }

func tooltip(snap engine.Snapshot, goos string) string {
	w := words()
	lines := []string{TooltipLine(w, statusLine(w, snap, goos))}
	for _, d := range snap.Devices {
		lines = append(lines, deviceTitle(w, d))
	}
	if goos == "windows" {
		return fitUTF16(lines, winTipMax)
	}
	return strings.Join(lines, "\n")
}

// TooltipLine is the tooltip's first line for status.
func TooltipLine(w catalog.Words, status string) string {
	return w.T("tray.tooltip.status", map[string]any{"Status": status})
}

// winTipMax is the longest tooltip Windows shows: NOTIFYICONDATA.szTip
// holds 128 UTF-16 units including the terminating NUL, and systray copies
// without truncating, so a longer string would lose its terminator.
// The one place the tray cuts text, and only on Windows: whole lines are
// dropped first (the phones' lines, then "…"); a status line longer than
// that alone (no language comes near it) is cut with "…".
const winTipMax = 127

// fitUTF16 joins as many whole lines as fit in max UTF-16 units, ending
// with "…" when lines were left out.
func fitUTF16(lines []string, max int) string {
	units := func(s string) int { return len(utf16.Encode([]rune(s))) }
	out := ""
	for i, l := range lines {
		next := l
		if i > 0 {
			next = out + "\n" + l
		}
		if units(next) > max {
			if i == 0 { // even the first line is too long: cut it
				r := []rune(l)
				for units(string(r))+1 > max {
					r = r[:len(r)-1]
				}
				return string(r) + "…"
			}
			if units(out)+2 <= max {
				return out + "\n…"
			}
			return out
		}
		out = next
	}
	return out
}

// LevelOf is the tray icon for a snapshot: the highest level of any
// device decides (icons.StateLevel: problem, then attention, then waiting
// for the user). A phone seen for the first time and still being
// diagnosed shows the neutral icon, not a premature check mark; no phone
// is idle even when usbmuxd is down, because on Linux usbmuxd only runs
// while a phone is plugged in.
func LevelOf(snap engine.Snapshot) icons.Level {
	if len(snap.Devices) == 0 {
		return icons.Idle
	}
	worst, checking := icons.OK, false
	for _, d := range snap.Devices {
		st := d.State
		if !st.Final() && d.Previous.Final() {
			// a re-check (after Fix trust, a Trust tap, an unlock) keeps
			// the last answer's icon instead of flashing the neutral one
			st = d.Previous
		}
		if !st.Final() {
			checking = true
			continue
		}
		if l := icons.StateLevel(st); l > worst {
			worst = l
		}
	}
	if worst == icons.OK && checking {
		return icons.Idle
	}
	return worst
}

// Fix is what "Fix trust" does for a state: any of calling the
// controller, telling the user something, and opening the guide.
type Fix struct {
	CallFixTrust bool // Controller.FixTrust(key)
	// Title and Body are a notification's message ids (tray.toml); empty
	// Title = none. Render gives their words.
	Title, Body string
	Anchor      string // the notification's guide anchor
	OpenGuide   string // open the guide here; "" = do not open
}

// FixAction decides what "Fix trust" does in state s.
func FixAction(s engine.State) Fix {
	switch s.TrustFix() {
	case engine.FixPair, engine.FixPairAfresh:
		// No notification of our own: the Pair's outcome replaces the
		// phone's bubble ("… is asking to trust this computer", or "is
		// locked"); the notifier says "Check your iPhone — tap Trust" only
		// when no change comes within notify.FeedbackGrace.
		return Fix{CallFixTrust: true}
	case engine.FixUnlockFirst:
		return Fix{
			Title:  "tray.fix.unlock.title",
			Body:   "tray.fix.unlock.body",
			Anchor: "step-1",
		}
	case engine.FixReplug:
		return Fix{
			Title:     "tray.fix.replug.title",
			Body:      "tray.fix.replug.body",
			Anchor:    "step-2",
			OpenGuide: "step-2",
		}
	}
	return Fix{OpenGuide: s.Anchor()}
}

// Render is the notification's words in w's language.
func (f Fix) Render(w catalog.Words) (title, body string) {
	return w.T(f.Title, nil), w.T(f.Body, nil)
}

// notice is a one-off notification of the tray's own, by message ids
// (tray.<id>.title and .body) and what fills them.
type notice struct {
	id     string
	data   map[string]any
	anchor string
}

func (n notice) render(w catalog.Words) (title, body string) {
	return w.T("tray."+n.id+".title", n.data), w.T("tray."+n.id+".body", n.data)
}

// The tray's own notices.
func noticeUnplugged() notice    { return notice{id: "fix.unplugged", anchor: "step-1"} }
func noticeReportCopied() notice { return notice{id: "report.copied"} }
func noticeReportSaved(path string) notice {
	return notice{id: "report.saved", data: map[string]any{"Path": path}}
}
func noticeReportFailed(err error) notice {
	return notice{id: "report.failed", data: map[string]any{"Command": "trustwatch report", "Err": err.Error()}}
}
func noticeLoginFailed(err error) notice {
	return notice{id: "login.failed", data: map[string]any{"Err": err.Error()}}
}
func noticeLogFolderFailed(path string) notice {
	return notice{id: "log_folder.failed", data: map[string]any{"Path": path}}
}
