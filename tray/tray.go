package tray

import (
	"context"
	"errors"
	"log/slog"

	"github.com/trustwatch/trustwatch/icons"
	"github.com/trustwatch/trustwatch/notify"
	"github.com/trustwatch/trustwatch/watcher/engine"
)

// Controller is the watcher as the tray sees it.
type Controller interface {
	// Subscribe gives the latest snapshot on a capacity-1, coalescing
	// channel, and a function that ends the subscription.
	Subscribe() (<-chan engine.Snapshot, func())
	// FixTrust clears a stale pair record and sends one Pair so the Trust
	// prompt shows; pairing completes after the user taps Trust.
	FixTrust(key string)
	// Forget unpairs and deletes this host's pair record.
	Forget(key string)
}

// Notifications is the notifier as the tray sees it: the switch, the
// per-phone mute, and the answers to clicks that go into a phone's bubble.
type Notifications interface {
	Mode() notify.Mode
	SetMode(notify.Mode) error
	Muted(udid string) bool
	SetMuted(udid string, on bool) error
	// FixTrustClicked, Forgot and Answer: see notify.Notifier.
	FixTrustClicked(deviceKey string)
	Forgot(deviceKey string)
	Answer(deviceKey string, f notify.Feedback)
}

// LoginItem is the "Open at login" switch.
type LoginItem interface {
	Enabled() (bool, error)
	SetEnabled(bool) error
}

// Options wires the tray to the rest of trustwatch.
type Options struct {
	Controller Controller
	Tell       func(title, body, anchor string) // a one-off notification
	// Notifications, when set, adds the Notifications switch and "Mute
	// this iPhone", and answers Fix trust / Forget in the phone's bubble.
	Notifications Notifications
	// Actions are clicks from elsewhere (a notification's Fix trust
	// button), handled exactly like the menu's.
	Actions   <-chan Action
	OpenGuide func(anchor string) error
	LoginItem LoginItem // nil: no "Open at login" item
	// Start is called once from onReady in its own goroutine: it starts the
	// watcher and notifier and should return when ctx is done.
	Start  func(ctx context.Context)
	Logger *slog.Logger
	// About is what "About trustwatch" shows.
	About About
	// OpenFolder shows a folder in the file manager ("Open log folder");
	// nil leaves that item out.
	OpenFolder func(dir string) error
	// Report returns the support report for "Copy support report" (nil:
	// no such item). It may take a few seconds; it runs off the menu.
	Report func(ctx context.Context) string
}

// itemProps is what a tray host sees of the item: the icon (the level whose
// pixels it shows, -1 for none of them), tooltip title and title.
type itemProps struct {
	Icon           icons.Level
	Tooltip, Title string
}

// errNoReadBack: this platform's tray is not read back (only Linux's
// StatusNotifierItem has the start-up race confirmItem repairs).
var errNoReadBack = errors.New("tray item not readable on this platform")
