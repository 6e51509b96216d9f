package watcher

import "github.com/trustwatch/trustwatch/watcher/engine"

// The Windows service rule, pure and OS-independent so that its table test
// runs everywhere; muxstate_windows.go gathers the facts.

// Service states as QueryServiceStatus reports them (winsvc.h).
const (
	serviceStopped      = 1
	serviceStartPending = 2
	serviceStopPending  = 3
	serviceRunning      = 4
)

// serviceFacts is what Windows says about the Apple service and app.
type serviceFacts struct {
	installed  bool   // the service exists
	state      uint32 // SERVICE_STOPPED, SERVICE_START_PENDING, …
	disabled   bool   // start type SERVICE_DISABLED (false when unreadable)
	processUp  bool   // AppleMobileDeviceProcess.exe runs
	storeApp   bool   // a Store package that brings it is installed
	queryError error  // the SCM could not be asked at all
}

// classifyService is the pure rule: which MuxState the facts mean when
// nothing answers on 27015.
func classifyService(f serviceFacts) engine.MuxState {
	switch {
	case f.queryError != nil && !f.processUp && !f.storeApp:
		return engine.MuxNotRunning // cannot tell; say the least
	case f.installed && f.state == serviceStartPending:
		return engine.MuxStarting
	case f.installed && f.state == serviceRunning:
		// Running but not listening yet: it binds 27015 moments after
		// it reports running.
		return engine.MuxStarting
	case f.installed && f.disabled:
		return engine.MuxDisabled
	case f.installed:
		return engine.MuxNotRunning // stopped, stopping or paused
	case f.processUp:
		return engine.MuxStarting // the Store app's process, not listening yet
	case f.storeApp:
		return engine.MuxAppNotRunning
	}
	return engine.MuxNotInstalled
}
