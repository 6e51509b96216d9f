package tray

import (
	"fyne.io/systray"

	"github.com/trustwatch/trustwatch/icons"
)

// Windows' systray loads the ICO as it is (LoadImage picks the frame for
// the DPI).
func setIcon(l icons.Level) { systray.SetIcon(icons.For(l)) }
