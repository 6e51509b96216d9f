//go:build !linux

package main

import (
	"context"
	"runtime"
)

func trayHost(context.Context) string { return trayAvailability() }

// notificationServer: Windows and macOS notify through beeep (text only).
func notificationServer(context.Context) []string {
	if runtime.GOOS == "windows" {
		return []string{"Windows toast notifications (beeep; text only)"}
	}
	return []string{"macOS notifications (beeep through osascript; text only)"}
}
