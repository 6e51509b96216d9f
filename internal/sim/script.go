package sim

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DeviceStates are the contract state names a device spec may start in.
var DeviceStates = []string{"ready", "locked", "locked-since-restart", "untrusted", "untrusted-locked",
	"trust-pending", "trust-denied", "trust-revoked", "bad-record", "no-data"}

// ParseDeviceSpec parses "key=value,key=value,flag" into a DeviceConfig.
//
// Keys: name, udid, product (ProductType), ios (ProductVersion), id
// (DeviceID), pid (ProductID, 0x… allowed), location (LocationID, 0x…
// allowed), fault (see ParseFault), state. Flags: network, detached,
// dialog, no-lock-relay (an iOS that does not relay lockstate). A segment that is neither key=value nor a flag continues the
// previous value, so "product=iPhone15,2" needs no quoting.
//
// States: ready (trusted, unlocked), locked, locked-since-restart (BFU),
// untrusted (unlocked, alert not up yet), untrusted-locked, trust-pending
// (unlocked, alert already on screen as after Linux usbmuxd's preflight),
// trust-denied, trust-revoked (InvalidHostID), bad-record (TLS fails),
// no-data (not attached to usbmuxd at all).
func ParseDeviceSpec(spec string) (DeviceConfig, error) {
	var cfg DeviceConfig
	var lastKey string
	kv := map[string]string{}
	var order []string
	for _, seg := range strings.Split(spec, ",") {
		seg = strings.TrimSpace(seg)
		if seg == "" {
			continue
		}
		k, v, hasEq := strings.Cut(seg, "=")
		k = strings.ToLower(strings.TrimSpace(k))
		switch {
		case hasEq:
			if _, dup := kv[k]; dup {
				return cfg, fmt.Errorf("device spec %q: %s given twice", spec, k)
			}
			kv[k] = strings.TrimSpace(v)
			order = append(order, k)
			lastKey = k
		case k == "network" || k == "detached" || k == "dialog" || k == "no-lock-relay":
			kv[k] = "true"
			order = append(order, k)
			lastKey = ""
		case lastKey != "":
			kv[lastKey] += "," + seg
		default:
			return cfg, fmt.Errorf("device spec %q: %q is not key=value", spec, seg)
		}
	}
	for _, k := range order {
		v := kv[k]
		var err error
		switch k {
		case "name":
			cfg.Name = v
		case "udid":
			cfg.UDID = v
		case "product", "product-type":
			cfg.ProductType = v
		case "ios", "version":
			cfg.ProductVersion = v
		case "id":
			cfg.DeviceID, err = strconv.Atoi(v)
		case "pid":
			var n uint64
			n, err = strconv.ParseUint(v, 0, 16)
			cfg.ProductID = int(n)
		case "location":
			var n uint64
			n, err = strconv.ParseUint(v, 0, 32)
			cfg.LocationID = uint32(n)
		case "fault":
			cfg.Fault, err = ParseFault(v)
		case "network", "detached", "dialog", "no-lock-relay":
			var b bool
			b, err = strconv.ParseBool(v)
			switch k {
			case "network":
				cfg.Network = b
			case "detached":
				cfg.Detached = b
			case "dialog":
				cfg.Dialog = b
			case "no-lock-relay":
				cfg.NoLockRelay = b
			}
		case "state":
			err = applyState(&cfg, v)
		default:
			err = fmt.Errorf("unknown key %q (want name, udid, product, ios, id, pid, location, state, fault, network, detached, dialog, no-lock-relay)", k)
		}
		if err != nil {
			return cfg, fmt.Errorf("device spec %q: %s: %w", spec, k, err)
		}
	}
	return cfg, nil
}

func applyState(cfg *DeviceConfig, state string) error {
	switch state {
	case "ready":
		cfg.Trusted = true
	case "locked":
		cfg.Trusted, cfg.Locked = true, true
	case "locked-since-restart":
		cfg.Trusted, cfg.BFU, cfg.Locked = true, true, true
	case "untrusted":
	case "untrusted-locked":
		cfg.Locked = true
	case "trust-pending":
		cfg.Dialog = true
	case "trust-denied":
		cfg.Denied = true
	case "trust-revoked":
		cfg.Revoked = true
	case "bad-record":
		cfg.BadRecord = true
	case "no-data":
		cfg.Detached = true
	default:
		return fmt.Errorf("unknown state %q (want one of %s)", state, strings.Join(DeviceStates, ", "))
	}
	return nil
}

// Step is one parsed script statement.
type Step struct {
	At     time.Duration // "at": offset from the script's start (-1 = not used)
	Wait   time.Duration // "after": delay after the previous step
	Action string        // e.g. "unlock", "tap-trust", "fault", "await-dialog"
	Arg    string        // fault name, device spec for "add"
	Target string        // device name, UDID or DeviceID; "" = every device
	Line   string        // the statement as written, for messages
}

var scriptActions = map[string]bool{
	"attach": true, "detach": true, "replug": true, "lock": true, "unlock": true, "restart": true,
	"tap-trust": true, "tap-dont-trust": true, "reset-trust": true, "fault": true,
	"mux-stop": true, "mux-restart": true, "mux-fault": true, "add": true, "await-dialog": true, "quit": true,
}

// ParseScript parses a tiny timeline language. Statements are separated by
// ";" or newlines, "#" starts a comment:
//
//	[after DUR | at DUR] ACTION[=ARG] [@TARGET]
//
// "after 2s" waits 2s after the previous statement; "at 5s" runs 5s after
// the script started. Actions: attach, detach, replug, lock, unlock,
// restart, tap-trust, tap-dont-trust, reset-trust, fault=NAME,
// mux-stop, mux-restart, mux-fault=NAME, add=DEVICE-SPEC (spec commas are
// fine), await-dialog (waits until a target's Trust alert is up), quit.
// @TARGET is a device name (may contain spaces), UDID or DeviceID; without
// it device actions apply to every device.
//
// Example: "after 2s unlock; await-dialog; after 1s tap-trust @Anna's iPhone".
func ParseScript(text string) ([]Step, error) {
	var steps []Step
	for _, line := range strings.Split(text, "\n") {
		if i := strings.Index(line, "#"); i >= 0 {
			line = line[:i]
		}
		for _, stmt := range strings.Split(line, ";") {
			stmt = strings.TrimSpace(stmt)
			if stmt == "" {
				continue
			}
			st, err := parseStep(stmt)
			if err != nil {
				return nil, err
			}
			steps = append(steps, st)
		}
	}
	return steps, nil
}

func parseStep(stmt string) (Step, error) {
	st := Step{At: -1, Line: stmt}
	rest := stmt
	if i := strings.Index(rest, "@"); i >= 0 {
		st.Target = strings.TrimSpace(rest[i+1:])
		rest = rest[:i]
		if st.Target == "" {
			return st, fmt.Errorf("script %q: empty @target", stmt)
		}
	}
	f := strings.Fields(rest)
	if len(f) > 0 && (f[0] == "after" || f[0] == "at") {
		if len(f) < 2 {
			return st, fmt.Errorf("script %q: %s needs a duration", stmt, f[0])
		}
		d, err := time.ParseDuration(f[1])
		if err != nil || d < 0 {
			return st, fmt.Errorf("script %q: bad duration %q", stmt, f[1])
		}
		if f[0] == "after" {
			st.Wait = d
		} else {
			st.At = d
		}
		f = f[2:]
	}
	if len(f) == 0 {
		return st, fmt.Errorf("script %q: no action", stmt)
	}
	act := strings.Join(f, " ")
	name, arg, _ := strings.Cut(act, "=")
	name = strings.TrimSpace(name)
	if strings.ContainsAny(name, " \t") {
		return st, fmt.Errorf("script %q: unexpected words in %q", stmt, name)
	}
	if !scriptActions[name] {
		return st, fmt.Errorf("script %q: unknown action %q", stmt, name)
	}
	st.Action, st.Arg = name, strings.TrimSpace(arg)
	switch name {
	case "fault":
		if _, err := ParseFault(st.Arg); err != nil {
			return st, fmt.Errorf("script %q: %w", stmt, err)
		}
	case "mux-fault":
		if _, err := ParseMuxFault(st.Arg); err != nil {
			return st, fmt.Errorf("script %q: %w", stmt, err)
		}
	case "add":
		if _, err := ParseDeviceSpec(st.Arg); err != nil {
			return st, fmt.Errorf("script %q: %w", stmt, err)
		}
	default:
		if st.Arg != "" {
			return st, fmt.Errorf("script %q: %s takes no argument", stmt, name)
		}
	}
	return st, nil
}

// Play runs steps in order until they are done, ctx ends or a quit step
// (returns ErrQuit). logf (optional) gets one line per step.
func (s *Server) Play(ctx context.Context, steps []Step, logf func(string, ...any)) error {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	start := time.Now()
	for _, st := range steps {
		wait := st.Wait
		if st.At >= 0 {
			wait = time.Until(start.Add(st.At))
		}
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
		}
		if err := s.runStep(ctx, st, logf); err != nil {
			return err
		}
	}
	return nil
}

// ErrQuit is returned by Play after a "quit" step.
var ErrQuit = fmt.Errorf("script: quit")

func (s *Server) runStep(ctx context.Context, st Step, logf func(string, ...any)) error {
	switch st.Action {
	case "quit":
		logf("script: quit")
		return ErrQuit
	case "mux-stop":
		s.Stop()
		logf("script: usbmuxd stopped")
		return nil
	case "mux-restart":
		logf("script: usbmuxd restarting")
		return s.Restart()
	case "mux-fault":
		f, _ := ParseMuxFault(st.Arg)
		s.SetMuxFault(f)
		logf("script: mux fault %s", f)
		return nil
	case "add":
		cfg, err := ParseDeviceSpec(st.Arg)
		if err != nil {
			return err
		}
		d := s.AddDevice(cfg)
		logf("script: added %s (%s, DeviceID %d)", d.Name(), d.UDID(), d.DeviceID())
		return nil
	}
	var targets []*Device
	if st.Target == "" {
		targets = s.Devices()
	} else if d := s.Device(st.Target); d != nil {
		targets = []*Device{d}
	} else {
		return fmt.Errorf("script %q: no device %q", st.Line, st.Target)
	}
	if st.Action == "await-dialog" {
		logf("script: waiting for the Trust alert")
		for {
			for _, d := range targets {
				if d.DialogShowing() {
					logf("script: Trust alert up on %s", d.Name())
					return nil
				}
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	for _, d := range targets {
		switch st.Action {
		case "attach":
			d.Attach()
		case "detach":
			d.Detach()
		case "replug":
			d.Detach()
			d.Attach()
		case "lock":
			d.Lock()
		case "unlock":
			d.Unlock()
		case "restart":
			d.Restart()
		case "tap-trust":
			d.TapTrust()
		case "tap-dont-trust":
			d.TapDontTrust()
		case "reset-trust":
			d.ResetTrust()
		case "fault":
			f, _ := ParseFault(st.Arg)
			d.SetFault(f)
		}
		logf("script: %s %s", st.Action+argSuffix(st.Arg), d.Name())
	}
	return nil
}

func argSuffix(a string) string {
	if a == "" {
		return ""
	}
	return "=" + a
}
