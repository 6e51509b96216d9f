package engine

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

const udid = "00008030-001A2B3C4D5E6F70"

var key = NormalizeUDID(udid)

var phone = MuxDevice{DeviceID: 7, UDID: udid, LocationID: 1<<16 | 5, ProductID: 0x12a8}

// harness drives an engine with a fake clock and records what came out.
type harness struct {
	t   *testing.T
	e   *Engine
	now time.Time
	out Output
}

func newHarness(t *testing.T, cfg Config) *harness {
	return &harness{t: t, e: New(cfg), now: t0}
}

func (h *harness) do(ev Event) Output {
	h.out = h.e.Handle(ev, h.now)
	return h.out
}

func (h *harness) after(d time.Duration) Output {
	h.now = h.now.Add(d)
	return h.do(Tick{})
}

func (h *harness) state(k string) State {
	d, ok := h.e.Snapshot(h.now).Device(k)
	if !ok {
		return "(absent)"
	}
	return d.State
}

// lastTarget returns the epoch of the device, for forging results.
func (h *harness) epoch(k string) uint64 { return h.e.devs[k].epoch }

func (h *harness) result(k string, r ProbeResult) Output {
	return h.do(ProbeDone{Key: k, Epoch: h.epoch(k), Result: r})
}

// cmds names the commands of an output, e.g. "Probe(once)", "AwaitTrust".
func cmds(o Output) string {
	var s []string
	for _, c := range o.Commands {
		switch c := c.(type) {
		case Probe:
			p := map[PairPolicy]string{PairNever: "Probe(never)", PairOnce: "Probe(once)"}[c.Pair]
			if c.LockOnly {
				p = "Probe(lock)"
			}
			s = append(s, p)
		case SendPair:
			s = append(s, fmt.Sprintf("SendPair(clear=%v)", c.ClearStale))
			if c.AfterUnlock > 0 {
				s[len(s)-1] = fmt.Sprintf("SendPair(clear=%v, unlock=%d)", c.ClearStale, c.AfterUnlock)
			}
		case FollowLock:
			s = append(s, map[bool]string{true: "FollowLock(locked)", false: "FollowLock(unlocked)"}[c.Locked])
		case AwaitUnlock:
			s = append(s, fmt.Sprintf("AwaitUnlock(%v)", c.Every))
		default:
			s = append(s, strings.TrimPrefix(reflect.TypeOf(c).String(), "engine."))
		}
	}
	return strings.Join(s, ",")
}

func changes(o Output) string {
	var s []string
	for _, c := range o.Changes {
		if c.Removed {
			s = append(s, "removed")
		} else {
			s = append(s, fmt.Sprintf("%s>%s", c.Previous, c.Device.State))
		}
	}
	return strings.Join(s, ",")
}

var watchCfg = Config{Mode: ModeFollow, AllowPair: true}

func TestProbeResultsMapToStatesAndFollowUps(t *testing.T) {
	cases := []struct {
		result   State
		followUp string // commands right after the result (Follow mode)
		later    string // commands after LockedRecheck / ErrorRetry
	}{
		{StateReady, "FollowLock(unlocked)", ""},
		{StateLocked, "FollowLock(locked)", "Probe(lock)"},
		{StateLockedSinceRestart, "", "Probe(lock)"},
		{StateUntrusted, "AwaitTrust", ""},
		{StateUntrustedLocked, "AwaitUnlock(900ms)", ""},
		{StateTrustPending, "AwaitTrust", ""},
		{StateTrustDenied, "", ""},
		{StateTrustRevoked, "", ""},
		{StateError, "", "Probe(once)"},
	}
	for _, c := range cases {
		t.Run(string(c.result), func(t *testing.T) {
			h := newHarness(t, watchCfg)
			h.do(MuxUp{Address: "unix:///x"})
			if got := cmds(h.do(MuxAttached{phone})); got != "Probe(once)" {
				t.Fatalf("attach: commands %q", got)
			}
			if got := h.state(key); got != StateProbing {
				t.Fatalf("attach: state %s", got)
			}
			out := h.result(key, ProbeResult{State: c.result, Name: "Anna's iPhone"})
			if got := changes(out); got != "probing>"+string(c.result) {
				t.Errorf("changes %q", got)
			}
			if got := cmds(out); got != c.followUp {
				t.Errorf("follow-up %q, want %q", got, c.followUp)
			}
			d, _ := h.e.Snapshot(h.now).Device(key)
			if d.Guide != c.result.Anchor() || d.Advice != StateAdvice(c.result) || d.Name != "Anna's iPhone" || d.UDID != udid {
				t.Errorf("snapshot %+v", d)
			}
			out = h.after(6 * time.Second)
			if got := cmds(out); got != c.later {
				t.Errorf("later %q, want %q", got, c.later)
			}
			if got := changes(out); got != "" {
				t.Errorf("a re-check must not show probing: %q", got)
			}
		})
	}
}

// recheckTimes drives a phone that stays in state for span, answering every
// re-check at once, and returns when (seconds after the first answer) each
// re-check was asked for.
func recheckTimes(h *harness, state State, span time.Duration) []int {
	var at []int
	for s := 1; s <= int(span/time.Second); s++ {
		if strings.Contains(cmds(h.after(time.Second)), "Probe") {
			at = append(at, s)
			h.result(key, ProbeResult{State: state})
		}
	}
	return at
}

func TestLockedBackstopSchedule(t *testing.T) {
	every := func(from, to, step int) []int {
		var s []int
		for v := from; v <= to; v += step {
			s = append(s, v)
		}
		return s
	}
	cases := []struct {
		name    string
		relayed bool // the phone relayed a lockstate change before
		want    []int
	}{
		// An iOS that may not relay (or a phone that restarted and has no
		// session to observe with): every 2 s for 2 minutes, while a person
		// is probably at it, then every 55 s (≤ 60 s from unlock to ready,
		// about one probe a minute).
		{"no relay seen", false, append(every(2, 120, 2), 175, 230, 285, 340, 395, 450, 505, 560)},
		// A phone that relays: the poll is only a backstop from the start.
		{"relays", true, every(55, 600, 55)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, watchCfg)
			h.do(MuxUp{})
			h.do(MuxAttached{phone})
			if c.relayed {
				h.result(key, ProbeResult{State: StateReady})
				if got := cmds(h.do(LockChanged{Key: key, DeviceID: phone.DeviceID, Relayed: true})); got != "Probe(lock)" {
					t.Fatalf("relay: %q", got)
				}
			}
			h.result(key, ProbeResult{State: StateLocked})
			got := recheckTimes(h, StateLocked, 10*time.Minute)
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("re-checks at %v s\nwant        %v s", got, c.want)
			}
		})
	}
}

// Locked and ready follow each other on relayed events, for a phone that
// was ready at plug-in too; the observer is told each new belief.
func TestLockFollowedByEvents(t *testing.T) {
	h := newHarness(t, watchCfg)
	h.do(MuxUp{})
	h.do(MuxAttached{phone})
	relay := LockChanged{Key: key, DeviceID: phone.DeviceID, Relayed: true}
	steps := []struct {
		ev       Event
		result   State // "" : no probe answer
		commands string
		changes  string
	}{
		{nil, StateReady, "FollowLock(unlocked)", "probing>ready"},
		{relay, "", "Probe(lock)", ""}, // re-read, silently
		{nil, StateLocked, "FollowLock(locked)", "ready>locked"},
		{relay, "", "Probe(lock)", ""},
		{nil, StateReady, "FollowLock(unlocked)", "locked>ready"},
		// Read again, nothing changed: the observer is not told again.
		{LockChanged{Key: key, DeviceID: phone.DeviceID}, "", "Probe(lock)", ""},
		{nil, StateReady, "", ""},
		// An observer of an earlier attach (another DeviceID) is ignored.
		{LockChanged{Key: key, DeviceID: phone.DeviceID + 1, Relayed: true}, "", "", ""},
	}
	for i, s := range steps {
		var out Output
		if s.ev != nil {
			out = h.do(s.ev)
		} else {
			out = h.result(key, ProbeResult{State: s.result})
		}
		if cmds(out) != s.commands || changes(out) != s.changes {
			t.Fatalf("step %d: commands %q changes %q; want %q %q", i, cmds(out), changes(out), s.commands, s.changes)
		}
	}
	if _, ok := h.e.NextDeadline(); ok {
		t.Error("a ready phone is followed by events only: no timer")
	}
}

func TestLockChangeWhileProbingIsCheckedAgain(t *testing.T) {
	h := newHarness(t, watchCfg)
	h.do(MuxUp{})
	h.do(MuxAttached{phone})
	h.result(key, ProbeResult{State: StateReady})
	h.do(LockChanged{Key: key, DeviceID: phone.DeviceID, Relayed: true})
	// A second change lands while that re-read runs: it may have read the
	// state before the change, so one more read follows its answer.
	if got := cmds(h.do(LockChanged{Key: key, DeviceID: phone.DeviceID, Relayed: true})); got != "" {
		t.Fatalf("probe while busy: %q", got)
	}
	out := h.result(key, ProbeResult{State: StateLocked})
	if cmds(out) != "FollowLock(locked),Probe(lock)" || changes(out) != "ready>locked" {
		t.Fatalf("commands %q changes %q", cmds(out), changes(out))
	}
	if out := h.result(key, ProbeResult{State: StateReady}); cmds(out) != "FollowLock(unlocked)" || changes(out) != "locked>ready" {
		t.Fatalf("commands %q changes %q", cmds(out), changes(out))
	}
}

func TestLockFollowingStartsAndStops(t *testing.T) {
	t.Run("not for states a session cannot reach", func(t *testing.T) {
		for _, st := range []State{StateLockedSinceRestart, StateUntrusted, StateTrustRevoked, StateError} {
			h := newHarness(t, watchCfg)
			h.do(MuxUp{})
			h.do(MuxAttached{phone})
			if got := cmds(h.result(key, ProbeResult{State: st})); strings.Contains(got, "FollowLock") {
				t.Errorf("%s: %q", st, got)
			}
			if got := cmds(h.do(LockChanged{Key: key, DeviceID: phone.DeviceID, Relayed: true})); got != "" {
				t.Errorf("%s: a stray LockChanged caused %q", st, got)
			}
		}
	})
	t.Run("after the first unlock since a restart", func(t *testing.T) {
		h := newHarness(t, watchCfg)
		h.do(MuxUp{})
		h.do(MuxAttached{phone})
		h.result(key, ProbeResult{State: StateLockedSinceRestart})
		h.after(5 * time.Second)
		if got := cmds(h.result(key, ProbeResult{State: StateReady})); got != "FollowLock(unlocked)" {
			t.Fatalf("%q", got)
		}
	})
	t.Run("trust lost", func(t *testing.T) {
		h := newHarness(t, watchCfg)
		h.do(MuxUp{})
		h.do(MuxAttached{phone})
		h.result(key, ProbeResult{State: StateReady})
		h.do(Forget{Key: key})
		if got := cmds(h.result(key, ProbeResult{State: StateUntrusted})); got != "UnfollowLock,AwaitTrust" {
			t.Fatalf("%q", got)
		}
	})
	t.Run("usbmuxd restart", func(t *testing.T) {
		h := newHarness(t, watchCfg)
		h.do(MuxUp{})
		h.do(MuxAttached{phone})
		h.result(key, ProbeResult{State: StateLocked})
		h.do(MuxDown{}) // Cancel stops the observer with everything else
		back := phone
		back.DeviceID = 9
		h.do(MuxUp{Devices: []MuxDevice{back}})
		if got := cmds(h.result(key, ProbeResult{State: StateLocked})); got != "FollowLock(locked)" {
			t.Fatalf("the observer is re-opened for the new DeviceID: %q", got)
		}
	})
	t.Run("status mode", func(t *testing.T) {
		h := newHarness(t, Config{AllowPair: true})
		h.do(MuxUp{})
		h.do(MuxAttached{phone})
		if got := cmds(h.result(key, ProbeResult{State: StateReady})); got != "" {
			t.Fatalf("%q", got)
		}
	})
}

// A locked, untrusted phone is polled every 0.9 s for the first 2 minutes
// after the plug, then every 4.5 s.
func TestUnlockPollSlowsDown(t *testing.T) {
	h := newHarness(t, watchCfg)
	h.do(MuxUp{})
	h.do(MuxAttached{phone})
	h.after(300 * time.Millisecond)
	if got := cmds(h.result(key, ProbeResult{State: StateUntrustedLocked})); got != "AwaitUnlock(900ms)" {
		t.Fatalf("at plug-in: %q", got)
	}
	if d, ok := h.e.NextDeadline(); !ok || !d.Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("slow-down at %v (%v), want 2 min after the plug", d, ok)
	}
	if got := cmds(h.after(2*time.Minute - 301*time.Millisecond)); got != "" {
		t.Fatalf("early: %q", got)
	}
	if got := cmds(h.after(time.Millisecond)); got != "AwaitUnlock(4.5s)" {
		t.Fatalf("after 2 minutes: %q", got)
	}
	if _, ok := h.e.NextDeadline(); ok {
		t.Fatal("nothing left to time")
	}
	// Unlocked, then locked again before the prompt: the pace stays slow.
	h.do(Unlocked{Key: key, Epoch: h.epoch(key)})
	if got := cmds(h.result(key, ProbeResult{State: StateUntrustedLocked})); got != "AwaitUnlock(4.5s)" {
		t.Fatalf("later: %q", got)
	}
}

func TestStatusModeNeverFollows(t *testing.T) {
	for _, s := range []State{StateLocked, StateUntrustedLocked, StateTrustPending, StateError} {
		h := newHarness(t, Config{AllowPair: true})
		h.do(MuxUp{})
		h.do(MuxAttached{phone})
		if got := cmds(h.result(key, ProbeResult{State: s})); got != "" {
			t.Errorf("%s: status mode issued %q", s, got)
		}
		if _, ok := h.e.NextDeadline(); ok {
			t.Errorf("%s: status mode set a timer", s)
		}
	}
}

func TestNoPairProbesWithoutPair(t *testing.T) {
	h := newHarness(t, Config{AllowPair: false})
	h.do(MuxUp{})
	if got := cmds(h.do(MuxAttached{phone})); got != "Probe(never)" {
		t.Fatalf("got %q", got)
	}
}

// The story of issue 2: locked and untrusted → unlocked → Trust prompt →
// Trust tapped → ready, with exactly one Pair reaching the dialog.
func TestUnlockThenTrustStory(t *testing.T) {
	h := newHarness(t, watchCfg)
	h.do(MuxUp{})
	h.do(MuxAttached{phone})
	h.result(key, ProbeResult{State: StateUntrustedLocked}) // Pair refused before any dialog
	steps := []struct {
		ev       Event
		commands string
		changes  string
	}{
		{Unlocked{Key: key}, "SendPair(clear=false, unlock=1)", "untrusted-locked>probing"},
		{ProbeDone{Key: key, Result: ProbeResult{State: StateTrustPending, PairReached: true, OurPair: true}}, "AwaitTrust", "probing>trust-pending"},
		{TrustSeen{Key: key, Via: ViaRequestPair}, "CompletePair", "trust-pending>probing"},
		{ProbeDone{Key: key, Result: ProbeResult{State: StateReady}}, "FollowLock(unlocked)", "probing>ready"},
	}
	for i, s := range steps {
		// Results carry the epoch of the command they answer.
		switch ev := s.ev.(type) {
		case Unlocked:
			ev.Epoch = h.epoch(key)
			s.ev = ev
		case ProbeDone:
			ev.Epoch = h.epoch(key)
			s.ev = ev
		case TrustSeen:
			ev.Epoch = h.epoch(key)
			s.ev = ev
		}
		out := h.do(s.ev)
		if cmds(out) != s.commands || changes(out) != s.changes {
			t.Fatalf("step %d: commands %q changes %q; want %q %q", i, cmds(out), changes(out), s.commands, s.changes)
		}
	}
}

func TestUnlockPairsAreCapped(t *testing.T) {
	h := newHarness(t, watchCfg)
	h.do(MuxUp{})
	h.do(MuxAttached{phone})
	h.result(key, ProbeResult{State: StateUntrustedLocked})
	pairs := 0
	for i := 0; i < 6; i++ {
		if strings.Contains(cmds(h.do(Unlocked{Key: key, Epoch: h.epoch(key)})), "SendPair") {
			pairs++
		}
		h.result(key, ProbeResult{State: StateUntrustedLocked}) // locked again before the prompt
	}
	if pairs != maxUnlockPairs {
		t.Fatalf("%d Pairs on unlock, want at most %d", pairs, maxUnlockPairs)
	}
}

func TestTrustFromElsewhereProbesWithoutCompleting(t *testing.T) {
	for _, tc := range []struct {
		name string
		ev   func(h *harness) Event
	}{
		{"record appeared", func(h *harness) Event { return TrustSeen{Key: key, Epoch: h.epoch(key), Via: ViaRecord} }},
		{"usbmuxd Paired", func(h *harness) Event { return MuxPaired{DeviceID: phone.DeviceID} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, watchCfg)
			h.do(MuxUp{})
			h.do(MuxAttached{phone})
			h.result(key, ProbeResult{State: StateTrustPending, PairReached: true, OurPair: true})
			if got := cmds(h.do(tc.ev(h))); got != "Probe(never)" {
				t.Fatalf("got %q; a second Pair would flash the dialog", got)
			}
		})
	}
}

func TestNotOurPairIsNotCompleted(t *testing.T) {
	h := newHarness(t, watchCfg)
	h.do(MuxUp{})
	h.do(MuxAttached{phone})
	h.result(key, ProbeResult{State: StateTrustPending, PairReached: true, OurPair: false})
	if got := cmds(h.do(TrustSeen{Key: key, Epoch: h.epoch(key), Via: ViaRequestPair})); got != "Probe(never)" {
		t.Fatalf("got %q", got)
	}
}

func TestStaleResultsAreIgnored(t *testing.T) {
	h := newHarness(t, watchCfg)
	h.do(MuxUp{})
	h.do(MuxAttached{phone})
	old := h.epoch(key)
	h.do(MuxDetached{DeviceID: 7})
	h.do(MuxAttached{phone})
	out := h.do(ProbeDone{Key: key, Epoch: old, Result: ProbeResult{State: StateReady}})
	if len(out.Changes)+len(out.Commands) != 0 || h.state(key) != StateProbing {
		t.Fatalf("a result from the previous plug changed things: %+v", out)
	}
}

func TestOnePairPerAttach(t *testing.T) {
	h := newHarness(t, watchCfg)
	h.do(MuxUp{})
	h.do(MuxAttached{phone})
	h.result(key, ProbeResult{State: StateTrustDenied, PairReached: true})
	if got := cmds(h.do(MuxPaired{DeviceID: 7})); got != "Probe(never)" {
		t.Fatalf("after a Pair reached the phone: %q", got)
	}
	h.do(MuxDetached{DeviceID: 7})
	if got := cmds(h.do(MuxAttached{phone})); got != "Probe(once)" {
		t.Fatalf("a replug allows one Pair again: %q", got)
	}
}

func TestFixTrustAndForget(t *testing.T) {
	cases := []struct {
		state State
		fix   string
	}{
		{StateUntrusted, "SendPair(clear=false)"},
		{StateTrustRevoked, "SendPair(clear=true)"},
		{StateTrustPending, ""}, // the dialog is up: another Pair would flash it
		{StateTrustDenied, ""},
		{StateReady, ""},
	}
	for _, c := range cases {
		h := newHarness(t, watchCfg)
		h.do(MuxUp{})
		h.do(MuxAttached{phone})
		h.result(key, ProbeResult{State: c.state})
		if got := cmds(h.do(FixTrust{Key: key})); got != c.fix {
			t.Errorf("%s: FixTrust → %q, want %q", c.state, got, c.fix)
		}
		if c.fix != "" {
			if got := cmds(h.do(FixTrust{Key: key})); got != "" {
				t.Errorf("%s: a second click while busy sent %q", c.state, got)
			}
		}
	}
	h := newHarness(t, watchCfg)
	h.do(MuxUp{})
	h.do(MuxAttached{phone})
	h.result(key, ProbeResult{State: StateReady})
	if got := cmds(h.do(Forget{Key: key})); got != "Unpair" {
		t.Errorf("Forget → %q", got)
	}
}

func TestDetachRemoves(t *testing.T) {
	h := newHarness(t, watchCfg)
	h.do(MuxUp{})
	h.do(MuxAttached{phone})
	h.result(key, ProbeResult{State: StateReady})
	out := h.do(MuxDetached{DeviceID: 7})
	if changes(out) != "removed" || cmds(out) != "Cancel" || h.state(key) != "(absent)" {
		t.Fatalf("changes %q commands %q", changes(out), cmds(out))
	}
	if out := h.do(MuxDetached{DeviceID: 7}); len(out.Changes) != 0 {
		t.Fatal("a second detach changed something")
	}
}

func TestDuplicateAttachIsIgnored(t *testing.T) {
	h := newHarness(t, watchCfg)
	h.do(MuxUp{Devices: []MuxDevice{phone}})
	if out := h.do(MuxAttached{phone}); len(out.Commands)+len(out.Changes) != 0 {
		t.Fatalf("Listen's replay of a listed device was treated as new: %+v", out)
	}
}

func TestNetworkFreeUDIDlessAttachStillWorks(t *testing.T) {
	h := newHarness(t, watchCfg)
	h.do(MuxUp{})
	h.do(MuxAttached{MuxDevice{DeviceID: 3}})
	if h.state("mux:3") != StateProbing {
		t.Fatal("a device without serial must still be diagnosed")
	}
}

func TestUsbmuxdRestartIsSilent(t *testing.T) {
	h := newHarness(t, watchCfg)
	h.do(MuxUp{Address: "a"})
	h.do(MuxAttached{phone})
	h.result(key, ProbeResult{State: StateReady})
	out := h.do(MuxDown{Address: "a", Err: "connection refused"})
	if !out.MuxChanged || h.e.Snapshot(h.now).Usbmux.Reachable || cmds(out) != "Cancel" || changes(out) != "" {
		t.Fatalf("down: %+v", out)
	}
	h.after(time.Second)
	back := phone
	back.DeviceID = 9 // usbmuxd numbers devices afresh
	out = h.do(MuxUp{Address: "a", Devices: []MuxDevice{back}})
	if !out.MuxChanged || changes(out) != "" || cmds(out) != "Probe(lock)" {
		t.Fatalf("up: changes %q commands %q", changes(out), cmds(out))
	}
	if out := h.result(key, ProbeResult{State: StateReady}); changes(out) != "" {
		t.Fatalf("same state after restart must not be a change: %q", changes(out))
	}
	if out := h.do(MuxDetached{DeviceID: 9}); changes(out) != "removed" {
		t.Fatal("new DeviceID not tracked")
	}
}

func TestUsbmuxdGoneForGood(t *testing.T) {
	h := newHarness(t, watchCfg)
	h.do(MuxUp{})
	h.do(MuxAttached{phone})
	h.result(key, ProbeResult{State: StateReady})
	h.do(MuxDown{Err: "gone"})
	if out := h.after(h.e.Config().MuxGrace - time.Millisecond); changes(out) != "" {
		t.Fatalf("within the grace: %q", changes(out))
	}
	if out := h.after(time.Millisecond); changes(out) != "removed" {
		t.Fatalf("after the grace: %q", changes(out))
	}
	// And a device that usbmuxd no longer lists after a restart.
	h = newHarness(t, watchCfg)
	h.do(MuxUp{})
	h.do(MuxAttached{phone})
	h.do(MuxDown{})
	if out := h.do(MuxUp{}); changes(out) != "removed" {
		t.Fatalf("not re-listed: %q", changes(out))
	}
}

var usbPhone = USBDevice{Bus: 1, Address: 5, ProductID: 0x12a8, SpeedMbps: 480, Kind: USBMobile}

func TestUSBStates(t *testing.T) {
	t.Run("no-data", func(t *testing.T) {
		h := newHarness(t, watchCfg)
		h.do(MuxUp{})
		h.do(USBAdded{usbPhone})
		k := "usb:1-5"
		if h.state(k) != StateProbing {
			t.Fatal(h.state(k))
		}
		if out := h.after(4 * time.Second); changes(out) != "" {
			t.Fatal("no-data before the window")
		}
		if out := h.after(time.Second); changes(out) != "probing>no-data" {
			t.Fatalf("%q", changes(out))
		}
		// The data link comes up late: the same entry moves on.
		out := h.do(MuxAttached{phone})
		if changes(out) != "no-data>probing" || cmds(out) != "Probe(once)" {
			t.Fatalf("late attach: %q %q", changes(out), cmds(out))
		}
		d, _ := h.e.Snapshot(h.now).Device(k)
		if d.USB == nil || d.USB.Bus != 1 || d.UDID != udid || len(h.e.Snapshot(h.now).Devices) != 1 {
			t.Fatalf("not correlated: %+v", h.e.Snapshot(h.now).Devices)
		}
		if out := h.do(USBRemoved{usbPhone}); changes(out) != "" {
			t.Fatal("USB leaving before usbmuxd's detach removed the device")
		}
		if out := h.do(MuxDetached{DeviceID: 7}); changes(out) != "removed" {
			t.Fatal("not removed")
		}
	})
	t.Run("service-unavailable", func(t *testing.T) {
		h := newHarness(t, watchCfg)
		h.do(MuxDown{Err: "dial unix /var/run/usbmuxd: no such file"})
		if out := h.do(USBAdded{usbPhone}); changes(out) != ">service-unavailable" {
			t.Fatalf("%q", changes(out))
		}
	})
	t.Run("service-unavailable when usbmuxd never answers", func(t *testing.T) {
		h := newHarness(t, watchCfg)
		h.do(USBAdded{usbPhone})
		if out := h.after(5 * time.Second); changes(out) != "probing>service-unavailable" {
			t.Fatalf("%q", changes(out))
		}
	})
	t.Run("usb after usbmuxd", func(t *testing.T) {
		h := newHarness(t, watchCfg)
		h.do(MuxUp{})
		h.do(MuxAttached{phone})
		slow := usbPhone
		slow.SpeedMbps = 12
		h.do(USBAdded{slow})
		d, _ := h.e.Snapshot(h.now).Device(key)
		if d.USB == nil || d.USB.SpeedMbps != 12 || d.LinkSpeed != (Advice{ID: "usb.link_slow", Args: Args{Mbps: 12}}) || len(h.e.Snapshot(h.now).Devices) != 1 {
			t.Fatalf("%+v", h.e.Snapshot(h.now).Devices)
		}
	})
	t.Run("recovery and DFU", func(t *testing.T) {
		for _, u := range []USBDevice{{Bus: 1, Address: 9, ProductID: 0x1281, Kind: USBRecovery}, {Bus: 1, Address: 9, ProductID: 0x1227, Kind: USBDFU}} {
			h := newHarness(t, watchCfg)
			h.do(MuxUp{})
			if out := h.do(USBAdded{u}); changes(out) != ">recovery-mode" {
				t.Fatalf("%q", changes(out))
			}
			if out := h.do(USBRemoved{u}); changes(out) != "removed" {
				t.Fatalf("%q", changes(out))
			}
		}
	})
}

// Off Linux nothing identifies a USB device with its usbmuxd entry: the
// engine pairs them up when there is only one way to, and never calls a
// phone usbmuxd talks to "no data".
func TestLooseUSBMatch(t *testing.T) {
	macPhone := phone
	macPhone.LocationID = 0x14100000 // IOKit's locationID, not bus<<16|address
	for _, order := range []string{"usb first", "usbmuxd first"} {
		h := newHarness(t, Config{Mode: ModeFollow, AllowPair: true, LooseUSBMatch: true})
		h.do(MuxUp{})
		if order == "usb first" {
			h.do(USBAdded{usbPhone})
			h.do(MuxAttached{macPhone})
		} else {
			h.do(MuxAttached{macPhone})
			h.do(USBAdded{usbPhone})
		}
		h.after(6 * time.Second)
		s := h.e.Snapshot(h.now)
		if len(s.Devices) != 1 || s.Devices[0].USB == nil || s.Devices[0].State == StateNoData {
			t.Errorf("%s: %+v", order, s.Devices)
		}
	}
	// Two phones at once: neither is reported as no-data.
	h := newHarness(t, Config{Mode: ModeFollow, AllowPair: true, LooseUSBMatch: true})
	h.do(MuxUp{})
	other := usbPhone
	other.Address = 6
	h.do(USBAdded{usbPhone})
	h.do(USBAdded{other})
	second := macPhone
	second.DeviceID, second.UDID = 8, "00008030-001A2B3C4D5E6F71"
	h.do(MuxAttached{macPhone})
	h.do(MuxAttached{second})
	h.after(6 * time.Second)
	s := h.e.Snapshot(h.now)
	if len(s.Devices) != 2 {
		t.Fatalf("%+v", s.Devices)
	}
	for _, d := range s.Devices {
		if d.State == StateNoData || d.USB == nil {
			t.Errorf("%+v", d)
		}
	}
	// Without the option (Linux), a USB device usbmuxd does not list stays no-data.
	h = newHarness(t, watchCfg)
	h.do(MuxUp{})
	h.do(USBAdded{usbPhone})
	h.do(MuxAttached{macPhone})
	h.after(6 * time.Second)
	if h.state("usb:1-5") != StateNoData {
		t.Errorf("strict matching: %s", h.state("usb:1-5"))
	}
}

func TestFlappingIsUnstable(t *testing.T) {
	h := newHarness(t, watchCfg)
	h.do(MuxUp{})
	for i := 0; i < 2; i++ {
		h.do(MuxAttached{phone})
		h.result(key, ProbeResult{State: StateReady, Name: "Anna's iPhone"})
		h.after(2 * time.Second)
		h.do(MuxDetached{DeviceID: 7})
	}
	out := h.do(MuxAttached{phone})
	if changes(out) != ">unstable-connection" || cmds(out) != "Cancel" {
		t.Fatalf("third attach in 20 s: %q %q", changes(out), cmds(out))
	}
	if out.Changes[0].Device.Name != "Anna's iPhone" {
		t.Errorf("a flapping phone lost its name: %+v", out.Changes[0].Device)
	}
	if out := h.after(10 * time.Second); changes(out) != "unstable-connection>probing" || cmds(out) != "Probe(once)" {
		t.Fatalf("after staying up: %q %q", changes(out), cmds(out))
	}
	// Slow replugs are not flapping.
	h = newHarness(t, watchCfg)
	h.do(MuxUp{})
	for i := 0; i < 4; i++ {
		h.do(MuxAttached{phone})
		h.after(11 * time.Second)
		h.do(MuxDetached{DeviceID: 7})
	}
	if out := h.do(MuxAttached{phone}); changes(out) != ">probing" {
		t.Fatalf("slow replugs: %q", changes(out))
	}
}

func TestErrorRetriesAreBounded(t *testing.T) {
	h := newHarness(t, watchCfg)
	h.do(MuxUp{})
	h.do(MuxAttached{phone})
	probes := 0
	for i := 0; i < 6; i++ {
		h.result(key, ProbeResult{State: StateError, Detail: "timeout"})
		if strings.Contains(cmds(h.after(5*time.Second)), "Probe") {
			probes++
		}
	}
	if probes != 2 {
		t.Fatalf("retried %d times, want 2", probes)
	}
}

func TestNextDeadline(t *testing.T) {
	h := newHarness(t, watchCfg)
	if _, ok := h.e.NextDeadline(); ok {
		t.Fatal("idle engine wants a timer")
	}
	h.do(MuxUp{})
	h.do(USBAdded{usbPhone})
	if d, ok := h.e.NextDeadline(); !ok || !d.Equal(t0.Add(5*time.Second)) {
		t.Fatalf("deadline %v %v", d, ok)
	}
}

func TestStateTable(t *testing.T) {
	for _, s := range AllStates {
		if !s.Known() || StateAdvice(s).IsZero() || (s != StateProbing && s.Anchor() == "") {
			t.Errorf("%s lacks summary or anchor", s)
		}
		if s.NeedsUser() == (s == StateReady || s == StateProbing) {
			t.Errorf("%s NeedsUser wrong", s)
		}
	}
	if NormalizeUDID(udid) != "00008030001A2B3C4D5E6F70" || HyphenateUDID("00008030001a2b3c4d5e6f70") != udid {
		t.Fatal("UDID forms")
	}
}

// Windows: the USB serial (from the device instance ID) is the UDID, a
// devnode problem says why the Apple service cannot have the phone, and
// there are no bus numbers to match LocationIDs with.
func TestWindowsUSB(t *testing.T) {
	noDriver := Advice{ID: "usb.problem", Args: Args{Code: 28, Clause: "usb.problem.28", Next: "usb.next.install"}}
	winPhone := USBDevice{Address: 0x4A2, ProductID: 0x12a8, Serial: NormalizeUDID(udid), Kind: USBMobile, DriverProblem: noDriver}
	t.Run("no driver is said at once, and clears when the driver comes", func(t *testing.T) {
		h := newHarness(t, watchCfg)
		h.do(MuxUp{})
		if out := h.do(USBAdded{winPhone}); changes(out) != ">service-unavailable" {
			t.Fatalf("%q", changes(out))
		}
		d, _ := h.e.Snapshot(h.now).Device(key)
		if d.Advice != noDriver || d.Guide != "issue-drivers" {
			t.Fatalf("%+v", d)
		}
		if out := h.after(time.Minute); changes(out) != "" {
			t.Fatalf("became %q while the driver is missing", changes(out))
		}
		// The Apple service going and coming back changes nothing: the
		// driver is still missing.
		h.do(MuxDown{Err: "refused", State: MuxNotRunning})
		h.do(MuxUp{})
		if out := h.after(time.Minute); changes(out) != "" {
			t.Fatalf("after a service restart: %q", changes(out))
		}
		if d, _ := h.e.Snapshot(h.now).Device(key); d.State != StateServiceUnavailable || d.Advice != noDriver {
			t.Fatalf("after a service restart: %+v", d)
		}
		fixed := winPhone
		fixed.DriverProblem = Advice{}
		if out := h.do(USBAdded{fixed}); changes(out) != "service-unavailable>probing" {
			t.Fatalf("driver installed: %q", changes(out))
		}
		if out := h.do(MuxAttached{phone}); changes(out) != "" || cmds(out) != "Probe(once)" {
			t.Fatalf("attach: %q %q", changes(out), cmds(out))
		}
		s := h.e.Snapshot(h.now)
		if len(s.Devices) != 1 || s.Devices[0].USB == nil || s.Devices[0].USB.Address != 0x4A2 {
			t.Fatalf("not matched by serial: %+v", s.Devices)
		}
		if out := h.do(USBAdded{fixed}); changes(out) != "" || cmds(out) != "" {
			t.Fatalf("the same facts again changed something: %q %q", changes(out), cmds(out))
		}
	})
	t.Run("a problem that appears while usbmuxd talks to it changes nothing", func(t *testing.T) {
		h := newHarness(t, watchCfg)
		h.do(MuxUp{})
		h.do(MuxAttached{phone})
		fine := winPhone
		fine.DriverProblem = Advice{}
		h.do(USBAdded{fine})
		if out := h.do(USBAdded{winPhone}); changes(out) != "" {
			t.Fatalf("%q", changes(out))
		}
	})
	t.Run("bus 0 never matches a LocationID", func(t *testing.T) {
		h := newHarness(t, Config{Mode: ModeFollow, AllowPair: true})
		h.do(MuxUp{})
		other := phone
		other.UDID = "00008101-000A1B2C3D4E5F60"
		other.LocationID = 0x4A2
		h.do(MuxAttached{other})
		fine := winPhone
		fine.DriverProblem = Advice{}
		h.do(USBAdded{fine})
		if n := len(h.e.Snapshot(h.now).Devices); n != 2 {
			t.Fatalf("%d devices: a USB device was joined to another phone by LocationID", n)
		}
	})
}

// usbmuxd restarted three times within 20 s, each outage 4 s: a re-listing
// is not a replug, so nothing flaps and, the outages being short, nobody is
// told anything about the phone.
func TestUsbmuxdRestartsAreNotTheCable(t *testing.T) {
	h := newHarness(t, watchCfg)
	h.do(MuxUp{})
	h.do(MuxAttached{phone})
	h.result(key, ProbeResult{State: StateReady, Name: "Anna's iPhone"})
	for i := 0; i < 3; i++ {
		h.after(2 * time.Second)
		if out := h.do(MuxDown{Err: "gone"}); changes(out) != "" {
			t.Fatalf("restart %d, down: %q", i, changes(out))
		}
		h.after(4 * time.Second)
		back := phone
		back.DeviceID = 10 + i
		out := h.do(MuxUp{Devices: []MuxDevice{back}})
		if changes(out) != "" || cmds(out) != "Probe(lock)" {
			t.Fatalf("restart %d, up: changes %q commands %q", i, changes(out), cmds(out))
		}
		if out := h.result(key, ProbeResult{State: StateReady}); changes(out) != "" {
			t.Fatalf("restart %d: %q", i, changes(out))
		}
		// The Listen connection then reports the same device as present.
		if out := h.do(MuxAttached{back}); changes(out) != "" || cmds(out) != "" {
			t.Fatalf("restart %d, Listen's own report: %q %q", i, changes(out), cmds(out))
		}
	}
	if h.state(key) != StateReady {
		t.Fatalf("state %s", h.state(key))
	}
	// A long outage drops the phone; it is announced again when listed,
	// still without counting as flapping.
	for i := 0; i < 3; i++ {
		h.do(MuxDown{Err: "gone"})
		if out := h.after(h.e.Config().MuxGrace); changes(out) != "removed" {
			t.Fatalf("long outage %d: %q", i, changes(out))
		}
		out := h.do(MuxUp{Devices: []MuxDevice{phone}})
		if changes(out) != ">probing" {
			t.Fatalf("after a long outage %d: %q", i, changes(out))
		}
		h.result(key, ProbeResult{State: StateReady})
	}
	// While connected, three replugs within the window are flapping.
	for i := 0; i < 3; i++ {
		h.do(MuxDetached{DeviceID: phone.DeviceID})
		h.after(time.Second)
		h.do(MuxAttached{phone})
	}
	if h.state(key) != StateUnstable {
		t.Fatalf("live flapping: %s", h.state(key))
	}
}

// A listing handed over in parts settles stale devices only after the
// last part, and the first part's phones are probed at once.
func TestListingInParts(t *testing.T) {
	h := newHarness(t, watchCfg)
	other := MuxDevice{DeviceID: 8, UDID: "00008030-00000000000000AA"}
	h.do(MuxUp{Devices: []MuxDevice{phone, other}})
	h.result(key, ProbeResult{State: StateReady})
	h.result(NormalizeUDID(other.UDID), ProbeResult{State: StateReady})
	h.do(MuxDown{Err: "restart"})
	out := h.do(MuxUp{Devices: []MuxDevice{phone}, More: true})
	if changes(out) != "" || cmds(out) != "Probe(lock)" {
		t.Fatalf("first part: %q %q", changes(out), cmds(out))
	}
	out = h.do(MuxUp{More: true})
	if changes(out) != "" {
		t.Fatalf("middle part: %q", changes(out))
	}
	if out := h.do(MuxUp{}); changes(out) != "removed" {
		t.Fatalf("last part must settle the unlisted device: %q", changes(out))
	}
}

func TestClip(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"Anna's iPhone", 64, "Anna's iPhone"},
		{"abcdef", 4, "abc…"},
		{"a\x1b[2Jb\nc", 64, "a [2Jb c"},
		{"ééééé", 3, "éé…"},
	} {
		if got := Clip(c.in, c.n); got != c.want {
			t.Errorf("Clip(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
	h := newHarness(t, watchCfg)
	h.do(MuxUp{})
	h.do(MuxAttached{phone})
	h.result(key, ProbeResult{State: StateError, Name: strings.Repeat("N", 3<<20), Detail: strings.Repeat("x", 3<<20)})
	d, _ := h.e.Snapshot(h.now).Device(key)
	if len(d.Name) > 3*maxNameLen || len(d.Detail) > 3*maxDetailLen {
		t.Fatalf("name %d bytes, detail %d bytes", len(d.Name), len(d.Detail))
	}
}

// BenchmarkListing: usbmuxd lists n phones (in parts of 64, as the source
// hands them over), then Listen reports each again. ns/op divided by n
// stays flat as n grows: the listing costs O(n log n) at most.
func BenchmarkListing(b *testing.B) {
	for _, n := range []int{64, 256, 512, 2048} {
		devs := make([]MuxDevice, n)
		for i := range devs {
			devs[i] = MuxDevice{DeviceID: i + 1, UDID: fmt.Sprintf("00008030-%016X", i+1), LocationID: uint32(1<<16 | i)}
		}
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				e := New(watchCfg)
				for at := 0; at < n; at += 64 {
					end := min(at+64, n)
					e.Handle(MuxUp{Devices: devs[at:end], More: end < n}, t0)
				}
				for _, d := range devs {
					e.Handle(MuxAttached{d}, t0)
				}
				e.Snapshot(t0)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/device")
		})
	}
}

// Output.InfoChanged says when what a device shows changed besides its
// state, so the tray re-renders; nothing else sets it.
func TestInfoChanged(t *testing.T) {
	ready := func(r ProbeResult) func(h *harness) {
		return func(h *harness) {
			h.do(MuxUp{})
			h.do(MuxAttached{phone})
			r.State = StateReady
			h.result(key, r)
		}
	}
	named := ProbeResult{Name: "Anna's iPhone", ProductType: "iPhone15,2", IOSVersion: "18.1"}
	slow := usbPhone
	slow.SpeedMbps = 12
	cases := []struct {
		name    string
		setup   func(h *harness)
		event   func(h *harness) Output
		want    bool
		changes string
	}{
		{"the same answer again", ready(named),
			func(h *harness) Output { return h.result(key, ProbeResult{State: StateReady, Name: named.Name}) }, false, ""},
		{"a name learned", ready(ProbeResult{}),
			func(h *harness) Output { return h.result(key, ProbeResult{State: StateReady, Name: "Anna's iPhone"}) }, true, ""},
		{"an iOS update", ready(named),
			func(h *harness) Output { return h.result(key, ProbeResult{State: StateReady, IOSVersion: "18.2"}) }, true, ""},
		{"a new detail", ready(named),
			func(h *harness) Output {
				return h.result(key, ProbeResult{State: StateReady, Detail: "lock state unknown: timeout"})
			}, true, ""},
		{"a state change", ready(named),
			func(h *harness) Output { return h.result(key, ProbeResult{State: StateLocked}) }, true, "ready>locked"},
		{"a result of an older command", ready(ProbeResult{}),
			func(h *harness) Output {
				return h.do(ProbeDone{Key: key, Epoch: h.epoch(key) - 1, Result: ProbeResult{State: StateReady, Name: "Anna's iPhone"}})
			}, false, ""},
		{"USB facts found", ready(named),
			func(h *harness) Output { return h.do(USBAdded{usbPhone}) }, true, ""},
		{"a slow link found", ready(named),
			func(h *harness) Output { return h.do(USBAdded{slow}) }, true, ""},
		{"the same USB facts again", func(h *harness) { ready(named)(h); h.do(USBAdded{usbPhone}) },
			func(h *harness) Output { return h.do(USBAdded{usbPhone}) }, false, ""},
		{"USB facts lost, usbmuxd still attached", func(h *harness) { ready(named)(h); h.do(USBAdded{usbPhone}) },
			func(h *harness) Output { return h.do(USBRemoved{usbPhone}) }, true, ""},
		{"a tick with nothing due", ready(named),
			func(h *harness) Output { return h.do(Tick{}) }, false, ""},
		{"usbmuxd listing the phone again", ready(named),
			func(h *harness) Output { return h.do(MuxAttached{phone}) }, false, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, watchCfg)
			c.setup(h)
			out := c.event(h)
			if out.InfoChanged != c.want || changes(out) != c.changes {
				t.Errorf("InfoChanged %v, changes %q; want %v, %q", out.InfoChanged, changes(out), c.want, c.changes)
			}
		})
	}
}

// A phone whose USB link is seen again at another speed (a re-enumeration
// at full speed on a worn cable) gets the hint with it, and loses it when
// the link is fast again.
func TestLinkSpeedFollowsARefresh(t *testing.T) {
	h := newHarness(t, watchCfg)
	h.do(MuxUp{})
	h.do(MuxAttached{phone})
	h.result(key, ProbeResult{State: StateReady})
	h.do(USBAdded{usbPhone})
	slow := usbPhone
	slow.SpeedMbps = 12
	hint := func() string {
		d, _ := h.e.Snapshot(h.now).Device(key)
		return d.LinkSpeed.ID
	}
	if hint() != "" {
		t.Fatalf("a high-speed link has a hint: %q", hint())
	}
	if out := h.do(USBAdded{slow}); !out.InfoChanged || hint() == "" {
		t.Errorf("slowed link: InfoChanged %v, hint %q", out.InfoChanged, hint())
	}
	if out := h.do(USBAdded{usbPhone}); !out.InfoChanged || hint() != "" {
		t.Errorf("fast again: InfoChanged %v, hint %q", out.InfoChanged, hint())
	}
}
