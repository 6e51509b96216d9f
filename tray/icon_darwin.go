//go:build cgo

package tray

import (
	"fyne.io/systray"

	"github.com/trustwatch/trustwatch/icons"
)

// setIcon uses the template image so the menu bar tints it for light and
// dark mode.
func setIcon(l icons.Level) { systray.SetTemplateIcon(icons.Template(l), icons.For(l)) }
