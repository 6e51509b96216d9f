package service

import (
	"errors"

	"golang.org/x/sys/windows"
)

// refuseRoot refuses the SYSTEM account (LocalSystem, as services run): it
// lives in session 0, which has no desktop, so neither the tray icon nor a
// notification could ever be seen. An elevated administrator is still a
// desktop user and is allowed.
func refuseRoot() error {
	u, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		return nil // cannot tell; do not block the user
	}
	if u.User.Sid.IsWellKnown(windows.WinLocalSystemSid) {
		return errors.New("trustwatch will not run as the SYSTEM account: it lives in session 0, which has no desktop, so the tray icon and notifications would never be seen. Run it as yourself (it starts at login through `trustwatch service install`)")
	}
	return nil
}
