package service

import (
	"fmt"
	"time"
)

// startWait and stopWait bound how long start/stop wait for the tray to take
// or drop the single-instance lock.
const (
	startWait = 5 * time.Second
	stopWait  = 5 * time.Second
)

// launchTray starts the tray (the executable with no verb) detached from this
// process and waits until it holds the single-instance lock.
func (e *env) launchTray() (string, error) {
	exe, err := e.loginExe()
	if err != nil {
		return "", err
	}
	var args []string
	if e.allowRoot && e.euid() == 0 {
		args = append(args, "--allow-root")
	}
	pid, exited, err := spawnDetached(exe, args...)
	if err != nil {
		return "", fmt.Errorf("starting %s: %w", exe, err)
	}
	deadline := time.Now().Add(startWait)
	for time.Now().Before(deadline) {
		if in, err := e.probeLock(); err == nil && in.running {
			return words("cli.service.started", map[string]any{"PID": pid}), nil
		}
		select {
		case werr := <-exited:
			return "", fmt.Errorf("%s exited at once (%v); run it in a terminal to see why", exe, werr)
		case <-time.After(50 * time.Millisecond):
		}
	}
	return "", fmt.Errorf("%s (pid %d) started but did not take the single-instance lock within %s; see its log (%s)", exe, pid, startWait, LogLocation())
}

// stopInstance asks the tray that holds the lock to quit, waits for it, and
// forces it only if it does not go.
func (e *env) stopInstance() (string, error) {
	in, err := e.probeLock()
	if err != nil {
		return "", err
	}
	if !in.running {
		return "", nil
	}
	if in.pid <= 0 {
		return "", fmt.Errorf("a trustwatch tray is running, but its process id is unknown; quit it from its menu")
	}
	wait := e.stopWait
	if wait <= 0 {
		wait = stopWait
	}
	forced := false
	if err := askToQuit(in.pid); err != nil {
		if kerr := forceKill(in.pid); kerr != nil {
			return "", fmt.Errorf("stopping pid %d: %v; %v", in.pid, err, kerr)
		}
		forced = true
	}
	after, err := e.waitInstance(false, wait)
	if err == nil && after.running && !forced {
		if kerr := forceKill(in.pid); kerr != nil {
			return "", fmt.Errorf("trustwatch (pid %d) did not quit within %s and could not be ended: %v", in.pid, wait, kerr)
		}
		forced = true
		after, err = e.waitInstance(false, stopWait)
	}
	if err != nil {
		return "", err
	}
	if after.running {
		return "", fmt.Errorf("trustwatch (pid %d) is still running", in.pid)
	}
	if forced {
		return words("cli.service.stopped_forced", map[string]any{"PID": in.pid}), nil
	}
	return words("cli.service.stopped", map[string]any{"PID": in.pid}), nil
}
