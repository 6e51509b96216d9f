package notify

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	toast "git.sr.ht/~jackmordaunt/go-toast"

	"github.com/trustwatch/trustwatch/internal/actionurl"
)

// ToastBackend shows Windows toasts through go-toast, with buttons that
// activate "trustwatch:" URLs: Windows starts trustwatch.exe with the URL,
// and that process hands the action to the running tray (or opens the
// guide). Protocol activation needs no COM server of ours and works even
// when the toast is clicked from the Action Center after the tray is gone.
type ToastBackend struct {
	appID string
	icon  string // a file that stays: toasts shown later still read it
	busy  atomic.Bool
}

// toastGUID is trustwatch's own COM class ID for go-toast's activator
// registration, instead of go-toast's default shared by every app using it.
const toastGUID = "{6F3C1D9E-2B7A-4E58-9C41-7D2E5A0B8F13}"

// NewToastBackend registers appID (the AppUserModelID, also the Start menu
// shortcut's) with its display name and icon, and returns the backend.
// iconPNG is written to a lasting file unless one ships beside the exe.
func NewToastBackend(appID string, iconPNG []byte) *ToastBackend {
	b := &ToastBackend{appID: appID, icon: toastIconFile(appID, iconPNG)}
	_ = toast.SetAppData(toast.AppData{AppID: appID, GUID: toastGUID, IconPath: b.icon})
	return b
}

// toastIconFile is the icon beside the exe (the installer puts
// trustwatch.png there), else %LOCALAPPDATA%\trustwatch\trustwatch.png,
// written when missing or different.
func toastIconFile(appID string, png []byte) string {
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), appID+".png")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	lad := os.Getenv("LOCALAPPDATA")
	if lad == "" || len(png) == 0 {
		return ""
	}
	p := filepath.Join(lad, appID, appID+".png")
	if cur, err := os.ReadFile(p); err == nil && bytes.Equal(cur, png) {
		return p
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return ""
	}
	if err := os.WriteFile(p, png, 0o644); err != nil {
		return ""
	}
	return p
}

// Send pushes the toast, giving up waiting when ctx ends (a hung WinRT
// call finishes on its own; later messages are refused until it does).
func (b *ToastBackend) Send(ctx context.Context, m Message) error {
	if !b.busy.CompareAndSwap(false, true) {
		return errBusy
	}
	n := toastFor(m, b.appID, b.icon)
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

// Close does nothing: the registration stays for toasts still in the
// Action Center.
func (b *ToastBackend) Close() error { return nil }

// Button labels.
const (
	ButtonHowToFix = "How to fix"
	ButtonFixTrust = "Fix trust"
)

// toastFor is the pure part: which toast a message becomes.
func toastFor(m Message, appID, icon string) toast.Notification {
	n := toast.Notification{
		AppID: appID,
		Title: cdata(m.Title),
		Body:  cdata(m.Body),
		Icon:  icon,
	}
	if m.Anchor != "" {
		// A click on the toast itself opens the guide, like "How to fix".
		n.ActivationType = toast.Protocol
		n.ActivationArguments = actionurl.GuideURL(m.Anchor)
		if len(m.Keys) == 1 && fixTrustAnchor(m.Anchor) {
			n.Actions = append(n.Actions, toast.Action{Type: toast.Protocol, Content: ButtonFixTrust, Arguments: actionurl.FixURL(m.Keys[0])})
		}
		n.Actions = append(n.Actions, toast.Action{Type: toast.Protocol, Content: ButtonHowToFix, Arguments: actionurl.GuideURL(m.Anchor)})
	}
	return n
}

// fixTrustAnchor: the guide steps of the states in which the tray offers
// "Fix trust" (untrusted and pending → step-3, denied → step-2, revoked →
// step-6). The tray decides what Fix trust does from the state it sees
// when the button is pressed, not from this toast.
func fixTrustAnchor(anchor string) bool {
	switch anchor {
	case "step-2", "step-3", "step-6":
		return true
	}
	return false
}

// cdata keeps a phone's name from closing go-toast's CDATA section.
func cdata(s string) string { return strings.ReplaceAll(s, "]]>", "]] >") }
