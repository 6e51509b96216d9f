//go:build !darwin || cgo

package tray

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/systray"

	"github.com/trustwatch/trustwatch/icons"
	"github.com/trustwatch/trustwatch/internal/clipboard"
	"github.com/trustwatch/trustwatch/notify"
	"github.com/trustwatch/trustwatch/watcher/engine"
)

// minRebuild spaces menu rebuilds: a burst of snapshots (plug, probe,
// pair within a second) becomes at most a few ResetMenu calls, which
// panels render without flicker.
const minRebuild = 150 * time.Millisecond

// startStopWait bounds how long Run waits for Start to return at exit.
const startStopWait = 3 * time.Second

// Run shows the tray and blocks until the user quits or ctx ends (main
// ends it on SIGINT/SIGTERM, caught from the start so that a signal during
// start-up still shuts down cleanly). Every goroutine it started has ended
// (or was given up on after startStopWait) when it returns. Call it from
// main(): macOS needs the main thread.
func Run(ctx context.Context, opts Options) error {
	if opts.Controller == nil {
		return errors.New("tray: Options.Controller is nil")
	}
	t := newShell(ctx, opts)
	if err := sessionBus(); err != nil {
		// systray v1.12.2 panics in Quit without a session bus, and could
		// show nothing anyway: keep watching (and notifying, where that
		// still works) without a tray until a signal ends it.
		t.log.Warn("no tray icon and no notifications: " + err.Error() +
			"; it keeps watching without them (in a terminal, \"trustwatch status\" and \"trustwatch watch\" show the phones)")
		t.startWatcher()
		<-ctx.Done()
		t.wait()
		return nil
	}
	restore := quietSystrayRegisterLog()
	defer restore()
	var lost atomic.Bool
	gone := busGone() // now: the connection sessionBus just made
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		select {
		case <-t.ctx.Done():
			if ctx.Err() != nil { // main asked (a signal); not Quit's own onExit
				systray.Quit()
			}
		case <-gone:
			// Nothing can show the icon or the menu any more, and
			// lingering would keep the instance lock from the next login's
			// tray: quit, with an error so a service manager restarts us
			// where a session still exists.
			t.log.Error("the D-Bus session bus went away; quitting")
			lost.Store(true)
			systray.Quit()
		}
	}()
	systray.Run(t.onReady, t.onExit)
	t.wait()
	if lost.Load() {
		return ErrSessionBusLost
	}
	return nil
}

// ErrSessionBusLost: the tray quit because its D-Bus session bus died.
var ErrSessionBusLost = errors.New("the D-Bus session bus went away")

type shell struct {
	opts Options
	log  *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	clicks chan Action
	wg     sync.WaitGroup // Start and the shell's own goroutines

	// menuCtx ends when the menu is rebuilt (or the shell stops): the
	// click forwarders of the items it replaces end with it, as in
	// tailscale's tray (eventCancel).
	menuCtx    context.Context
	menuCancel context.CancelFunc

	mu      sync.Mutex
	snap    engine.Snapshot
	login   bool
	items   []Item
	level   icons.Level
	tooltip string
	drawn   bool
	stopped bool          // Start returned before Quit
	redraw  chan struct{} // capacity 1: "something changed, re-render"
	shown   itemProps     // what render last gave systray, for confirmItem
	reapply bool          // confirmItem found systray's item lacking what we set
}

func newShell(parent context.Context, opts Options) *shell {
	lg := opts.Logger
	if lg == nil {
		lg = slog.Default()
	}
	ctx, cancel := context.WithCancel(parent)
	return &shell{
		opts: opts, log: lg.With("part", "tray"),
		ctx: ctx, cancel: cancel,
		clicks: make(chan Action, 16),
		redraw: make(chan struct{}, 1),
		level:  icons.Level(-1),
	}
}

func (t *shell) startWatcher() {
	if t.opts.Start == nil {
		return
	}
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		t.opts.Start(t.ctx)
		if t.ctx.Err() == nil {
			// the menu must not keep claiming a state nobody watches
			t.log.Error("the watcher stopped on its own; the tray no longer follows the phones")
			t.mu.Lock()
			t.stopped = true
			t.mu.Unlock()
			t.poke()
		}
	}()
}

// wait stops everything Run started and waits for it, up to a bound so a
// stuck watcher cannot keep a quitting app alive.
func (t *shell) wait() {
	t.cancel()
	done := make(chan struct{})
	go func() { t.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(startStopWait):
		t.log.Warn("watcher did not stop in time; exiting anyway", "waited", startStopWait)
	}
}

// itemTitle is the StatusNotifierItem's title.
const itemTitle = "trustwatch"

func (t *shell) onReady() {
	systray.SetTitle(itemTitle)
	// The first menu is drawn here, synchronously: the host's first
	// GetLayout waits until onReady returns.
	t.render()
	t.startWatcher()
	if li := t.opts.LoginItem; li != nil {
		// reading it may run systemctl or touch the registry: not on the
		// way to the first menu or the watcher
		t.wg.Add(1)
		go func() {
			defer t.wg.Done()
			on, err := li.Enabled()
			if err != nil {
				t.log.Warn("cannot read the login item", "err", err)
			}
			t.mu.Lock()
			t.login = on
			t.mu.Unlock()
			t.poke()
		}()
	}
	if t.opts.Actions != nil {
		t.wg.Add(1)
		go t.external()
	}
	t.wg.Add(5)
	go t.receive()
	go t.dispatch()
	go t.renderLoop()
	go t.confirmItem()
	go t.checkHost()
}

// confirmItemFor bounds how long confirmItem waits for systray to publish
// its item (it connects to the session bus first, slow on a loaded box).
const confirmItemFor = 10 * time.Second

// confirmItem reads the item back from the session bus until it shows the
// icon, tooltip and title render gave systray, re-applying them when it does
// not. fyne.io/systray v1.12.2 on Linux runs onReady while it is still
// exporting the item: a SetIcon (or SetTooltip, SetTitle) that lands after
// it took its copy of the properties but before it publishes them is lost,
// and the tray would show a blank icon until the level next changed.
func (t *shell) confirmItem() {
	defer t.wg.Done()
	deadline := time.Now().Add(confirmItemFor)
	for time.Now().Before(deadline) {
		t.mu.Lock()
		want := t.shown
		t.mu.Unlock()
		got, err := readItem(t.ctx)
		if errors.Is(err, errNoReadBack) {
			return
		}
		if err == nil {
			if got == want {
				return
			}
			t.log.Debug("the tray item lacks what was set; re-applying", "shows", got, "set", want)
			t.mu.Lock()
			t.reapply = true
			t.mu.Unlock()
			t.poke()
		}
		select {
		case <-t.ctx.Done():
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.log.Debug("the tray item never showed what was set", "waited", confirmItemFor)
}

func (t *shell) onExit() { t.cancel() }

// checkHost logs, once, why there is no icon when nothing on the session
// bus hosts StatusNotifierItems. Notifications keep working.
func (t *shell) checkHost() {
	defer t.wg.Done()
	if why := trayHostMissing(); why != "" {
		t.log.Warn("no tray icon: " + why + "; notifications still work")
	}
}

// receive takes snapshots from the controller, never blocking it (the
// channel is latest-value), and asks for a redraw.
func (t *shell) receive() {
	defer t.wg.Done()
	ch, stop := t.opts.Controller.Subscribe()
	defer stop()
	for {
		select {
		case <-t.ctx.Done():
			return
		case s, ok := <-ch:
			if !ok {
				return
			}
			t.mu.Lock()
			t.snap = s
			t.mu.Unlock()
			t.poke()
		}
	}
}

// external forwards clicks from elsewhere (a notification's button) to
// the dispatcher, so they take the menu's path.
func (t *shell) external() {
	defer t.wg.Done()
	for {
		select {
		case <-t.ctx.Done():
			return
		case a, ok := <-t.opts.Actions:
			if !ok {
				return
			}
			select {
			case t.clicks <- a:
			default:
				t.log.Warn("click dropped: too many pending", "op", a.Op.String())
			}
		}
	}
}

func (t *shell) poke() {
	select {
	case t.redraw <- struct{}{}:
	default: // a redraw is already pending; it will see the newest state
	}
}

func (t *shell) renderLoop() {
	defer t.wg.Done()
	for {
		select {
		case <-t.ctx.Done():
			return
		case <-t.redraw:
		}
		t.render()
		select { // coalesce bursts
		case <-t.ctx.Done():
			return
		case <-time.After(minRebuild):
		}
	}
}

// render brings icon, tooltip and menu up to date with the latest
// snapshot, touching systray only for what changed.
func (t *shell) render() {
	t.mu.Lock()
	snap, login, stopped, reapply := t.snap, t.login, t.stopped, t.reapply
	t.reapply = false
	t.mu.Unlock()

	items := Build(snap, login)
	if stopped {
		items[0].Title = StoppedLine()
	}
	if t.opts.LoginItem == nil {
		items = WithoutLogin(items)
	}
	if t.opts.Report == nil {
		items = without(items, OpCopyReport)
	}
	items = WithAbout(items, t.opts.About, t.opts.OpenFolder != nil)
	if n := t.opts.Notifications; n != nil {
		items = WithNotifications(items, snap, n.Mode(), n.Muted)
	}
	if reapply {
		systray.SetTitle(itemTitle)
	}
	if lv := LevelOf(snap); lv != t.level || reapply {
		t.log.Debug("tray icon", "level", lv.String(), "status", items[0].Title)
		setIcon(lv)
		t.level = lv
	}
	tip := Tooltip(snap)
	if stopped {
		tip = TooltipLine(words(), StoppedLine())
	}
	if tip != t.tooltip || reapply {
		systray.SetTooltip(tip)
		t.tooltip = tip
	}
	t.mu.Lock()
	t.shown = itemProps{Icon: t.level, Tooltip: tip, Title: itemTitle}
	t.mu.Unlock()
	if t.drawn && reflect.DeepEqual(items, t.items) {
		return
	}
	// Rebuild from scratch, as tailscale's tray does: systray items cannot
	// be reordered. The old items' forwarders end with their menuCtx.
	if t.menuCancel != nil {
		t.menuCancel()
	}
	t.menuCtx, t.menuCancel = context.WithCancel(t.ctx)
	if t.drawn {
		systray.ResetMenu()
	}
	for _, it := range items {
		t.add(nil, it)
	}
	t.items, t.drawn = items, true
}

func (t *shell) add(parent *systray.MenuItem, it Item) {
	if it.Separator {
		if parent == nil {
			systray.AddSeparator()
		} else {
			parent.AddSeparator()
		}
		return
	}
	var mi *systray.MenuItem
	switch {
	case parent == nil && it.Checkbox:
		mi = systray.AddMenuItemCheckbox(it.Title, it.Tooltip, it.Checked)
	case parent == nil:
		mi = systray.AddMenuItem(it.Title, it.Tooltip)
	case it.Checkbox:
		mi = parent.AddSubMenuItemCheckbox(it.Title, it.Tooltip, it.Checked)
	default:
		mi = parent.AddSubMenuItem(it.Title, it.Tooltip)
	}
	if it.Disabled {
		mi.Disable()
	}
	for _, c := range it.Children {
		t.add(mi, c)
	}
	if it.Action.Op != OpNone {
		t.wg.Add(1)
		go func(ctx context.Context) {
			defer t.wg.Done()
			forward(ctx, mi.ClickedCh, it.Action, t.clicks, t.log)
		}(t.menuCtx)
	}
}

// forward is the always-running receiver for one item (systray drops a
// click when nobody receives). It ends with the menu it belongs to (ctx),
// or when systray closes the channel.
func forward(ctx context.Context, ch <-chan struct{}, a Action, out chan<- Action, lg *slog.Logger) {
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-ch:
			if !ok {
				return
			}
			select {
			case out <- a:
			default:
				lg.Warn("click dropped: too many pending", "op", a.Op.String())
			}
		}
	}
}

// dispatch runs clicks one at a time, so two quick "Fix trust" clicks
// cannot interleave.
func (t *shell) dispatch() {
	defer t.wg.Done()
	for {
		select {
		case <-t.ctx.Done():
			return
		case a := <-t.clicks:
			t.do(a)
		}
	}
}

func (t *shell) do(a Action) {
	t.log.Info("menu click", "op", a.Op.String(), "device", a.Key, "anchor", a.Anchor)
	switch a.Op {
	case OpFixTrust:
		t.mu.Lock()
		d, ok := t.snap.Device(a.Key)
		t.mu.Unlock()
		if !ok {
			t.notice(noticeUnplugged())
			return
		}
		// decide on the state now, not the one the menu was drawn from
		f := FixAction(d.State)
		n := t.opts.Notifications
		if f.CallFixTrust {
			if n != nil {
				// before the Pair, so its outcome is the answer
				n.FixTrustClicked(a.Key)
			}
			t.opts.Controller.FixTrust(a.Key)
		}
		if f.Title != "" {
			if n != nil {
				n.Answer(a.Key, notify.Feedback{Title: f.Title, Body: f.Body, Anchor: f.Anchor, Level: icons.StateLevel(d.State)})
			} else {
				title, body := f.Render(words())
				t.tell(title, body, f.Anchor)
			}
		}
		if f.OpenGuide != "" {
			t.openGuide(f.OpenGuide)
		}
	case OpShowGuide:
		t.openGuide(a.Anchor)
	case OpForget:
		t.mu.Lock()
		d, ok := t.snap.Device(a.Key)
		t.mu.Unlock()
		if !ok {
			return
		}
		if n := t.opts.Notifications; n != nil {
			// before the unpair: the "not trusted" that follows is the
			// user's own doing, not news
			n.Forgot(a.Key)
			t.opts.Controller.Forget(a.Key)
			return
		}
		t.opts.Controller.Forget(a.Key)
		title, body := notify.Forgotten(words(), d.DisplayName())
		t.tell(title, body, notify.ForgottenFeedback.Anchor)
	case OpNotifyMode:
		if n := t.opts.Notifications; n != nil {
			if err := n.SetMode(a.Mode); err != nil {
				t.log.Warn("cannot save the Notifications switch", "err", err)
			}
			t.poke()
		}
	case OpMute:
		if n := t.opts.Notifications; n != nil {
			if err := n.SetMuted(a.UDID, !n.Muted(a.UDID)); err != nil {
				t.log.Warn("cannot save Mute this iPhone", "err", err)
			}
			t.poke()
		}
	case OpToggleLogin:
		t.toggleLogin()
	case OpOpenLogFolder:
		t.openLogFolder()
	case OpCopyReport:
		t.copyReport()
	case OpQuit:
		systray.Quit()
	}
}

// copyReport puts the support report on the clipboard, or where there is
// none into a file in the home folder, and says which in a notification.
// It runs off the dispatcher: gathering the report takes a moment.
func (t *shell) copyReport() {
	if t.opts.Report == nil {
		return
	}
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		text := t.opts.Report(t.ctx)
		how, err := clipboard.Copy(t.ctx, text)
		if err == nil {
			t.log.Info("support report copied", "tool", how, "bytes", len(text))
			t.notice(noticeReportCopied())
			return
		}
		t.log.Info("no clipboard; saving the support report to a file", "err", err)
		path, ferr := saveReport(text, time.Now())
		if ferr != nil {
			t.log.Warn("cannot save the support report", "err", ferr)
			t.notice(noticeReportFailed(ferr))
			return
		}
		t.notice(noticeReportSaved(path))
	}()
}

// saveReport writes the report into the home folder (where people find
// it), or the temporary folder when there is no home.
func saveReport(text string, now time.Time) (string, error) {
	dir, err := os.UserHomeDir()
	if err != nil || dir == "" {
		dir = os.TempDir()
	}
	path := filepath.Join(dir, "trustwatch-report-"+now.Format("20060102-150405")+".txt")
	return path, os.WriteFile(path, []byte(text), 0o600)
}

func (t *shell) toggleLogin() {
	li := t.opts.LoginItem
	if li == nil {
		return
	}
	on, err := li.Enabled()
	if err == nil {
		err = li.SetEnabled(!on)
	}
	if err != nil {
		t.log.Warn("cannot change Open at login", "err", err)
		t.notice(noticeLoginFailed(err))
	}
	if now, rerr := li.Enabled(); rerr == nil {
		on = now
	}
	t.mu.Lock()
	t.login = on
	t.mu.Unlock()
	t.poke()
}

// tell and openGuide run off the dispatcher: a notification server or a
// browser that is slow to start must not hold up the next click.
func (t *shell) tell(title, body, anchor string) {
	if t.opts.Tell == nil {
		t.log.Info("notification (no notifier)", "title", title)
		return
	}
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		t.opts.Tell(title, body, anchor)
	}()
}

// notice tells one of the tray's own notices in the user's language.
func (t *shell) notice(n notice) {
	title, body := n.render(words())
	t.tell(title, body, n.anchor)
}

func (t *shell) openLogFolder() {
	dir := filepath.Dir(t.opts.About.Log)
	if t.opts.OpenFolder == nil || !filepath.IsAbs(t.opts.About.Log) {
		return
	}
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		if err := t.opts.OpenFolder(dir); err != nil {
			t.log.Warn("cannot open the log folder", "dir", dir, "err", err)
			t.notice(noticeLogFolderFailed(t.opts.About.Log))
		}
	}()
}

func (t *shell) openGuide(anchor string) {
	if t.opts.OpenGuide == nil {
		return
	}
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		if err := t.opts.OpenGuide(anchor); err != nil {
			t.log.Warn("cannot open the guide", "anchor", anchor, "err", err)
			title, body := notify.GuideUnavailable(words(), anchor)
			t.tell(title, body, "")
		}
	}()
}
