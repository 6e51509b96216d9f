//go:build !windows

package service

import (
	"errors"
	"os"
)

func refuseRoot() error {
	if os.Geteuid() != 0 {
		return nil
	}
	return errors.New("trustwatch will not run as root: the tray icon, the notifications and the session D-Bus belong to your desktop user, and a root process either cannot reach them or would act on the wrong account. Run it as yourself, without sudo (or pass --allow-root if you really mean it).")
}
