package notify

import "log/slog"

// defaultBackend on Windows is beeep: a go-toast toast with AppID =
// AppName (a balloon before Windows 10). No activation callback yet; wiring
// go-toast's ActivationArguments to the guide is a possible later step.
func defaultBackend(o Options, _ callbacks, _ *slog.Logger) Backend {
	return NewBeeepBackend(o.AppName, iconFor(o))
}
