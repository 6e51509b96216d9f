//go:build !linux && !darwin && !windows

package notify

import "log/slog"

// defaultBackend elsewhere (the BSDs) is beeep's D-Bus / notify-send path.
func defaultBackend(o Options, _ callbacks, _ *slog.Logger) Backend {
	return NewBeeepBackend(o.AppName, iconFor(o))
}
