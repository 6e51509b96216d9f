package service

import (
	"errors"

	"golang.org/x/sys/windows"

	"github.com/trustwatch/trustwatch/internal/catalog"
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
		return errors.New(catalog.Current().T("cli.root.refuse_system", nil))
	}
	return nil
}
