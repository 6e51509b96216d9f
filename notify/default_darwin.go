package notify

import "log/slog"

// defaultBackend on macOS is beeep: terminal-notifier when installed, else
// osascript, whose notifications belong to Script Editor (a click opens it,
// gen2brain/beeep#35). No cgo-free click callback exists, so the texts stand
// alone and the tray menu is the action.
func defaultBackend(o Options, _ callbacks, _ *slog.Logger) Backend {
	return NewBeeepBackend(o.AppName, iconFor(o))
}
