package watcher

import (
	"errors"
	"syscall"

	"github.com/trustwatch/trustwatch/watcher/engine"
	"github.com/trustwatch/trustwatch/watcher/usbmux"
)

// classifyMuxFailure names why usbmuxd could not be used, so the shells can
// say it in plain words with the next step. established tells that the
// connection had worked (a Listen session that ended): a daemon that hangs
// up then has stopped or is restarting, while one that hangs up on a fresh
// connection does not answer. The per-OS daemonAbsent says whether "nothing
// listens" means not installed, stopped or disabled.
func classifyMuxFailure(err error, established bool) engine.MuxState {
	switch {
	case err == nil:
		return engine.MuxRunning
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return engine.MuxPermissionDenied
	case errors.Is(err, syscall.EAGAIN):
		return engine.MuxBusy
	case errors.Is(err, usbmux.ErrProtocol):
		return engine.MuxUnreadable
	case errors.Is(err, syscall.ENOENT), errors.Is(err, syscall.ECONNREFUSED), refusedOS(err):
		return daemonAbsent()
	case established && errors.Is(err, usbmux.ErrDaemonGone):
		return engine.MuxNotRunning
	case errors.Is(err, usbmux.ErrTimeout), errors.Is(err, usbmux.ErrDaemonGone):
		return engine.MuxNotResponding
	}
	return engine.MuxNotRunning
}
