//go:build darwin || windows

package service

// On macOS and Windows the login item only says "start at login"; start
// and stop act on the tray process itself, found through the instance lock.

func (e *env) start() (string, error) {
	in, err := e.probeLock()
	if err != nil {
		return "", err
	}
	if in.running {
		return words("cli.service.already_running", map[string]any{"PID": in.pid}), nil
	}
	return e.launchTray()
}

func (e *env) stop() (string, error) {
	msg, err := e.stopInstance()
	if err == nil && msg == "" {
		msg = words("cli.service.not_running", nil)
	}
	return msg, err
}
