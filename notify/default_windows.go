package notify

import (
	"log/slog"

	"golang.org/x/sys/windows/registry"

	"github.com/trustwatch/trustwatch/icons"
)

// defaultBackend on Windows 10 and 11 is a go-toast toast whose
// AppUserModelID is AppName (the Start menu shortcut's), with "How to fix"
// and "Fix trust" buttons that activate trustwatch: URLs (see
// ToastBackend). Older Windows, and Wine as it comes (it reports Windows 7
// and has no WinRT toasts), get beeep's balloon, without buttons. The rule
// is beeep's own.
func defaultBackend(o Options, _ callbacks, _ *slog.Logger) Backend {
	if windows10OrLater() {
		return NewToastBackend(o.AppName, iconFor(o), icons.AppPNG())
	}
	return NewBeeepBackend(o.AppName, iconFor(o))
}

// windows10OrLater: CurrentMajorVersionNumber exists from Windows 10 on
// (11 still says 10).
func windows10OrLater() bool {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, `SOFTWARE\Microsoft\Windows NT\CurrentVersion`, registry.QUERY_VALUE)
	if err != nil {
		return false
	}
	defer k.Close()
	maj, _, err := k.GetIntegerValue("CurrentMajorVersionNumber")
	return err == nil && maj >= 10
}
