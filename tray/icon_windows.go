//go:build !darwin

package tray

import (
	"fyne.io/systray"

	"github.com/trustwatch/trustwatch/icons"
)

func setIcon(l icons.Level) { systray.SetIcon(icons.For(l)) }
