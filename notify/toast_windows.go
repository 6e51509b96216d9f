package notify

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	toast "git.sr.ht/~jackmordaunt/go-toast"

	"github.com/trustwatch/trustwatch/icons"
	"github.com/trustwatch/trustwatch/internal/actionurl"
)

// ToastBackend shows Windows toasts through go-toast, with buttons that
// activate "trustwatch:" URLs: Windows starts trustwatch.exe with the URL;
// "How to fix" opens the guide there, "Fix trust" goes to the running tray.
// Protocol activation needs no COM server of ours and works even when the
// toast is clicked in the Action Center after the tray has quit. go-toast
// sets no Tag/Group, so an update is a new toast and Withdraw does nothing.
type ToastBackend struct {
	appID string
	icon  func(icons.Level) []byte // the badge of a message's level
	busy  atomic.Bool
}

// toastGUID is trustwatch's own COM class ID for go-toast's activator
// registration, instead of go-toast's default shared by every app using it.
const toastGUID = "{6F3C1D9E-2B7A-4E58-9C41-7D2E5A0B8F13}"

// NewToastBackend registers appID (the AppUserModelID, also the Start menu
// shortcut's) with its display name and appPNG as its icon, and returns
// the backend. The icons are written to lasting files (toasts shown
// earlier still read them from the Action Center), unless the installer put
// trustwatch.png beside the exe.
func NewToastBackend(appID string, icon func(icons.Level) []byte, appPNG []byte) *ToastBackend {
	b := &ToastBackend{appID: appID, icon: icon}
	appIcon := besideExe(appID + ".png")
	if appIcon == "" {
		appIcon = lastingFile(appID, appID+".png", appPNG)
	}
	_ = toast.SetAppData(toast.AppData{AppID: appID, GUID: toastGUID, IconPath: appIcon})
	return b
}

// besideExe is name in the exe's folder, when it exists there.
func besideExe(name string) string {
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	p := filepath.Join(filepath.Dir(exe), name)
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// lastingFile is %LOCALAPPDATA%\<appID>\<name> holding data, written when
// missing or different; "" when it cannot be.
func lastingFile(appID, name string, data []byte) string {
	lad := os.Getenv("LOCALAPPDATA")
	if lad == "" || len(data) == 0 {
		return ""
	}
	p := filepath.Join(lad, appID, name)
	if cur, err := os.ReadFile(p); err == nil && bytes.Equal(cur, data) {
		return p
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return ""
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		return ""
	}
	return p
}

// levelIcon is the lasting file of a level's badge.
func (b *ToastBackend) levelIcon(l icons.Level) string {
	if b.icon == nil {
		return ""
	}
	return lastingFile(b.appID, "toast-"+l.String()+".png", b.icon(l))
}

// Send pushes the toast, giving up waiting when ctx ends (a hung WinRT
// call finishes on its own; later messages are refused until it does).
func (b *ToastBackend) Send(ctx context.Context, m Message) error {
	if !b.busy.CompareAndSwap(false, true) {
		return errBusy
	}
	n := toastFor(m, b.appID, b.levelIcon(m.Level))
	done := make(chan error, 1)
	go func() {
		defer b.busy.Store(false)
		done <- n.Push()
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Withdraw does nothing: go-toast cannot tag a toast to remove it later.
func (b *ToastBackend) Withdraw(context.Context, string) error { return nil }

// Close does nothing: the registration stays for toasts still in the
// Action Center.
func (b *ToastBackend) Close() error { return nil }

// toastFor is the pure part: which toast a message becomes.
func toastFor(m Message, appID, icon string) toast.Notification {
	n := toast.Notification{
		AppID: appID,
		Title: cdata(m.Title),
		Body:  cdata(m.Body),
		Icon:  icon,
	}
	if m.Transient || m.Urgency == UrgencyLow {
		n.Audio = toast.Silent
	}
	if m.Anchor != "" {
		// A click on the toast itself opens the guide, like "How to fix".
		n.ActivationType = toast.Protocol
		n.ActivationArguments = actionurl.GuideURL(m.Anchor)
	}
	if m.FixTrust != "" {
		n.Actions = append(n.Actions, toast.Action{Type: toast.Protocol, Content: m.Buttons.fixTrust(), Arguments: actionurl.FixURL(m.FixTrust)})
	}
	if m.Anchor != "" {
		n.Actions = append(n.Actions, toast.Action{Type: toast.Protocol, Content: m.Buttons.howToFix(), Arguments: actionurl.GuideURL(m.Anchor)})
	}
	return n
}

// cdata keeps a phone's name from closing go-toast's CDATA section.
func cdata(s string) string { return strings.ReplaceAll(s, "]]>", "]] >") }
