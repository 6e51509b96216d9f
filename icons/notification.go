package icons

import (
	"embed"
	"fmt"
)

// notificationPNGs are the 128 px PNGs of every level, for notification
// servers (which scale them down): the notification carries the same badge
// as the tray.
//
//go:embed png/*-128.png
var notificationPNGs embed.FS

// NotificationPNG is the 128 px PNG of level on every OS, for
// notifications. A level without its own file (none today) gets the app
// icon rather than nothing.
func NotificationPNG(level Level) []byte {
	b, err := notificationPNGs.ReadFile(fmt.Sprintf("png/%s-128.png", level))
	if err != nil {
		return appPNG
	}
	return b
}
