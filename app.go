package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/trustwatch/trustwatch/guide"
	"github.com/trustwatch/trustwatch/internal/report"
	"github.com/trustwatch/trustwatch/internal/sessionbus"
	"github.com/trustwatch/trustwatch/ipc"
	"github.com/trustwatch/trustwatch/notify"
	"github.com/trustwatch/trustwatch/service"
	"github.com/trustwatch/trustwatch/tray"
	"github.com/trustwatch/trustwatch/watcher"
	"github.com/trustwatch/trustwatch/watcher/engine"
	"github.com/trustwatch/trustwatch/watcher/usbmux"
)

// runTray is the main job: tray, notifications and watcher.
func runTray(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("")
	allowRoot := fs.Bool("allow-root")
	addr, _, code, ok := fs.parseAddr(args, 0, stdout, stderr)
	if !ok {
		return code
	}
	onePMode()
	ctx, _, stop := interruptible() // Ctrl-C and SIGTERM quit cleanly: exit 0
	defer stop()
	usbSrc, _ := usbSource()
	return startApp(ctx, appConfig{addr: addr, usb: usbSrc, allowRoot: *allowRoot, stderr: stderr})
}

type appConfig struct {
	addr      usbmux.Address
	usb       watcher.USBSource
	allowRoot bool
	stderr    io.Writer
	// story, when set, runs beside the watcher: the demo's script. A demo
	// takes no instance lock (it may run beside the real tray) and keeps
	// its notification settings in memory.
	story func(ctx context.Context)
}

// startApp wires watcher → notifier and tray, and blocks until Quit or
// until ctx ends.
func startApp(ctx context.Context, c appConfig) int {
	if !c.allowRoot {
		if err := service.RefuseRoot(); err != nil {
			fmt.Fprintln(c.stderr, err) // it starts with "trustwatch will not run as …"
			return exitFailure
		}
	}
	var inst *service.Instance
	if c.story == nil {
		var err error
		inst, err = service.AcquireInstance()
		if errors.Is(err, service.ErrAlreadyRunning) {
			say(c.stderr, "cli.tray.already_running", nil)
			return exitFailure
		} else if err != nil {
			say(c.stderr, "cli.failed", map[string]any{"Error": err})
			return exitFailure
		}
		defer inst.Release()
	}
	log, where, err := service.SetupLogging(false)
	if err != nil {
		log = slog.New(slog.NewTextHandler(c.stderr, nil))
		log.Warn("logging to stderr", "err", err)
	}
	started := time.Now()
	log.Info("trustwatch starting", "version", readBuildInfo().String(), "usbmuxd", c.addr.String(), "log", where)
	// Before anything opens D-Bus (the notifier, the tray): no session bus
	// means none, never one started for us. The tray then logs the one
	// line that says so, and the notifier stays off rather than fail at
	// every state change.
	headless := sessionbus.Guard() != ""
	var ipcL net.Listener
	if inst != nil {
		for _, why := range inst.Skipped {
			log.Warn("runtime dir unusable; using the next one", "err", why)
		}
		// `status` and friends ask this tray instead of probing (and
		// perhaps pairing) by themselves.
		if ipcL, err = ipc.Listen(inst.Dir); err != nil {
			log.Warn("no IPC endpoint; status will probe by itself", "err", err)
		}
	}

	w := watcher.New(watcher.Config{
		Address: c.addr,
		Engine:  engine.Config{Mode: engine.ModeFollow, AllowPair: true},
		USB:     c.usb,
		Logger:  log,
		Ledger:  openLedger(log),
	})
	// A notification's Fix trust button takes the menu's path.
	actions := make(chan tray.Action, 4)
	n := notify.New(notify.Options{
		AppName:   "trustwatch",
		OpenGuide: guide.Open,
		FixTrust: func(key string) {
			select {
			case actions <- tray.Action{Op: tray.OpFixTrust, Key: key}:
			default: // clicks pile up: the user can click again
			}
		},
		SettingsPath: notifySettingsPath(c, log),
		Logger:       log,
	})
	defer n.Close()
	if c.story == nil { // the demo leaves toast buttons to the real tray
		registerURLScheme(log)
	}
	err = tray.Run(ctx, tray.Options{
		Controller:    w,
		Tell:          n.Tell,
		Notifications: n,
		Actions:       actions,
		OpenGuide:     guide.Open,
		LoginItem:     loginItem{},
		Logger:        log,
		About:         aboutThisBuild(where),
		OpenFolder:    guide.OpenFolder,
		Report: func(ctx context.Context) string {
			var b strings.Builder
			in := gatherReport(ctx, c.addr, w.Snapshot(), w.History(), "this tray, since "+started.Format("2006-01-02 15:04:05"))
			if err := report.Write(&b, in, false); err != nil {
				log.Warn("support report", "err", err)
			}
			return b.String()
		},
		Start: func(ctx context.Context) { runParts(ctx, w, n, ipcL, headless, c.story, log) },
	})
	if err != nil {
		say(c.stderr, "cli.failed", map[string]any{"Error": err})
		return exitFailure
	}
	return exitOK
}

// runParts runs the watcher and what follows it (the notifier, the IPC
// endpoint, the demo's story) until ctx ends or the watcher stops, and
// returns when every one of them has.
func runParts(ctx context.Context, w *watcher.Watcher, n *notify.Notifier, ipcL net.Listener, headless bool, story func(context.Context), log *slog.Logger) {
	ctx, stopAll := context.WithCancel(ctx)
	defer stopAll()
	snaps, unsubscribe := w.Subscribe()
	defer unsubscribe()
	var parts sync.WaitGroup
	if !headless {
		parts.Go(func() { n.Run(ctx, snaps) })
	}
	if story != nil {
		parts.Go(func() { story(ctx) }) // may end early: the others go on
	}
	if ipcL != nil {
		// `status` and friends ask this tray instead of probing
		parts.Go(func() { ipc.Serve(ctx, ipcL, w, log) })
	}
	parts.Go(func() {
		defer stopAll() // nothing to notify about or serve without it
		_ = w.Run(ctx)  // it returns when ctx ends
	})
	parts.Wait()
}

// aboutThisBuild is what the tray's About shows; where is the log's
// destination from service.SetupLogging.
func aboutThisBuild(where string) tray.About {
	bi := readBuildInfo()
	a := tray.About{Version: bi.Version, Commit: bi.Commit, Modified: bi.Modified, Built: bi.Built, Licence: licence, Log: where}
	if runtime.GOOS != "windows" {
		a.Home, _ = os.UserHomeDir()
	}
	return a
}

// loginItem is the tray's "Open at login" checkbox.
type loginItem struct{}

func (loginItem) Enabled() (bool, error) { return service.LoginItemEnabled() }
func (loginItem) SetEnabled(on bool) error {
	return service.SetLoginItem(on)
}

// notifySettingsPath is where the Notifications switch and the muted
// phones are kept. The demo keeps its own in memory: it always shows its
// notifications and never changes the user's switch.
func notifySettingsPath(c appConfig, log *slog.Logger) string {
	if c.story != nil {
		return ""
	}
	p, err := notify.DefaultSettingsPath()
	if err != nil {
		log.Warn("no config directory: the Notifications switch is not kept across restarts", "err", err)
		return ""
	}
	return p
}
