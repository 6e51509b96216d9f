package watcher

import (
	"errors"
	"testing"

	"github.com/trustwatch/trustwatch/watcher/engine"
)

func TestClassifyService(t *testing.T) {
	for _, c := range []struct {
		name string
		f    serviceFacts
		want engine.MuxState
	}{
		{"nothing at all", serviceFacts{}, engine.MuxNotInstalled},
		{"service stopped", serviceFacts{installed: true, state: serviceStopped}, engine.MuxNotRunning},
		{"service stopping", serviceFacts{installed: true, state: serviceStopPending}, engine.MuxNotRunning},
		{"service disabled", serviceFacts{installed: true, state: serviceStopped, disabled: true}, engine.MuxDisabled},
		{"service starting", serviceFacts{installed: true, state: serviceStartPending}, engine.MuxStarting},
		{"service running, port not open yet", serviceFacts{installed: true, state: serviceRunning}, engine.MuxStarting},
		{"Store app's process up, port not open yet", serviceFacts{processUp: true}, engine.MuxStarting},
		{"Store app installed, process not running", serviceFacts{storeApp: true}, engine.MuxAppNotRunning},
		{"service stopped, the Store app too", serviceFacts{installed: true, state: serviceStopped, storeApp: true}, engine.MuxNotRunning},
		{"service manager unreachable", serviceFacts{queryError: errors.New("access denied")}, engine.MuxNotRunning},
		{"service manager unreachable, process up", serviceFacts{queryError: errors.New("access denied"), processUp: true}, engine.MuxStarting},
	} {
		if got := classifyService(c.f); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}
