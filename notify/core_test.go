package notify

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trustwatch/trustwatch/icons"
	"github.com/trustwatch/trustwatch/internal/catalog"
	"github.com/trustwatch/trustwatch/internal/say"
	"github.com/trustwatch/trustwatch/watcher/engine"
)

var t0 = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

const ms = time.Millisecond

// snap builds a snapshot from "key=state" or "key=state/Name"; the name
// defaults to "<key>'s iPhone", and the UDID is the key.
func snap(devs ...string) engine.Snapshot {
	var s engine.Snapshot
	for _, d := range devs {
		k, rest, _ := strings.Cut(d, "=")
		st, name, ok := strings.Cut(rest, "/")
		if !ok {
			name = k + "'s iPhone"
		}
		s.Devices = append(s.Devices, engine.Device{Key: k, UDID: k, Name: name, State: engine.State(st)})
	}
	return s
}

// step is a complete snapshot at a time, or (when do is set) a user
// action on the core at that time.
type step struct {
	at   time.Duration
	devs []string
	do   func(c *Core, now time.Time)
}

func at(d time.Duration, devs ...string) step { return step{at: d, devs: devs} }
func act(d time.Duration, f func(c *Core, now time.Time)) step {
	return step{at: d, do: f}
}

type timedOp struct {
	at time.Time
	Op
}

func (o timedOp) String() string {
	if o.Withdraw {
		return fmt.Sprintf("%v %s withdrawn", o.at.Sub(t0), o.Slot)
	}
	return fmt.Sprintf("%v %s %s", o.at.Sub(t0), o.Slot, o.Message.Title)
}

// play drives a Core the way Run does: Due right after each input, and at
// every time Next asks for.
func play(t *testing.T, steps []step, until time.Duration) []timedOp {
	t.Helper()
	return playIn(t, say.English, steps, until)
}

// playIn is play with a Core speaking w.
func playIn(t *testing.T, w catalog.Words, steps []step, until time.Duration) []timedOp {
	t.Helper()
	c := NewCore()
	c.SetWords(w)
	var out []timedOp
	due := func(now time.Time) {
		for _, op := range c.Due(now) {
			out = append(out, timedOp{now, op})
		}
	}
	last := t0
	advance := func(to time.Time) {
		for i := 0; ; i++ {
			next, ok := c.Next(last)
			if !ok || next.After(to) {
				return
			}
			if i > 10000 {
				t.Fatal("Next does not advance")
			}
			last = later(last, next)
			due(last)
		}
	}
	for _, s := range steps {
		now := t0.Add(s.at)
		advance(now)
		last = now
		if s.do != nil {
			s.do(c, now)
		} else {
			c.Observe(snap(s.devs...), now)
		}
		due(now)
	}
	advance(t0.Add(until))
	return out
}

func lines(ops []timedOp) []string {
	var out []string
	for _, o := range ops {
		out = append(out, o.String())
	}
	return out
}

func TestCoreScenarios(t *testing.T) {
	cases := []struct {
		name  string
		steps []step
		until time.Duration
		want  []string
	}{
		{
			name: "the story at a person's pace: each step at once, one bubble",
			steps: []step{
				at(0, "anna=probing/Anna's iPhone"),
				at(10*ms, "anna=untrusted-locked/Anna's iPhone"),
				at(3500*ms, "anna=probing/Anna's iPhone"),
				at(3510*ms, "anna=trust-pending/Anna's iPhone"),
				at(5800*ms, "anna=ready/Anna's iPhone"),
			},
			until: 5 * time.Minute,
			want: []string{
				"260ms b1 Anna's iPhone is locked",
				"3.51s b1 Anna's iPhone is asking to trust this computer",
				"5.8s b1 Anna's iPhone now trusts this computer",
			},
		},
		{
			name: "the story in under a second: every step, updates spaced",
			steps: []step{
				at(0, "a=untrusted-locked"),
				at(300*ms, "a=trust-pending"),
				at(350*ms, "a=ready"),
			},
			until: time.Minute,
			want: []string{
				"250ms b1 a's iPhone is locked",
				// the prompt lasted 50 ms, inside the update gap
				"400ms b1 a's iPhone now trusts this computer",
			},
		},
		{
			name:  "ready at plug-in is not announced",
			steps: []step{at(0, "a=probing"), at(time.Second, "a=ready")},
			until: time.Minute,
		},
		{
			name:  "locked resolves to the plain ready text",
			steps: []step{at(0, "a=locked"), at(time.Minute, "a=ready")},
			until: 3 * time.Minute,
			want:  []string{"250ms b1 a's iPhone is locked", "1m0s b1 a's iPhone is ready"},
		},
		{
			name:  "unplugged while asking to trust: withdrawn at once",
			steps: []step{at(0, "a=trust-pending"), at(2 * time.Second)},
			until: time.Minute,
			want:  []string{"250ms b1 a's iPhone is asking to trust this computer", "2s b1 withdrawn"},
		},
		{
			name:  "unplugged after ready: the quiet notice expires by itself",
			steps: []step{at(0, "a=locked"), at(time.Second, "a=ready"), at(2 * time.Second)},
			until: time.Minute,
			want:  []string{"250ms b1 a's iPhone is locked", "1s b1 a's iPhone is ready"},
		},
		{
			name:  "unplugged before its first notice: nothing",
			steps: []step{at(0, "a=trust-denied"), at(100 * ms)},
			until: time.Minute,
		},
		{
			name: "the same state again within a plug (through probing): nothing",
			steps: []step{
				at(0, "a=locked"), at(40*time.Second, "a=probing"), at(41*time.Second, "a=locked"),
			},
			until: 3 * time.Minute,
			want:  []string{"250ms b1 a's iPhone is locked"},
		},
		{
			name: "A → B → A within a plug: B in place, the return held 30 s",
			steps: []step{
				at(0, "a=locked"), at(5*time.Second, "a=no-data"), at(6*time.Second, "a=locked"),
			},
			until: 3 * time.Minute,
			want: []string{
				"250ms b1 a's iPhone is locked",
				"5s b1 a's iPhone is only charging",
				"30.25s b1 a's iPhone is locked",
			},
		},
		{
			name: "A → B → A with B gone again in time: nothing more",
			steps: []step{
				at(0, "a=no-data"), at(5*time.Second, "a=locked"), at(6*time.Second, "a=no-data"),
				at(10*time.Second, "a=locked"),
			},
			until: 3 * time.Minute,
			want:  []string{"250ms b1 a's iPhone is only charging", "5s b1 a's iPhone is locked"},
		},
		{
			name: "a phone locked again after it was ready: the tray shows it, no notice",
			steps: []step{
				at(0, "a=locked"), at(5*time.Second, "a=ready"), at(time.Minute, "a=locked"),
				at(2*time.Minute, "a=ready"),
			},
			until: 3 * time.Minute,
			want:  []string{"250ms b1 a's iPhone is locked", "5s b1 a's iPhone is ready"},
		},
		{
			name: "replug cycles: one new bubble per 30 s, each withdrawn at unplug",
			steps: func() []step {
				var s []step
				for i := 0; i < 30; i++ { // a 2 s cycle for 60 s
					s = append(s, at(time.Duration(i)*2*time.Second, "a=trust-revoked"), at(time.Duration(i)*2*time.Second+time.Second))
				}
				return s
			}(),
			until: 2 * time.Minute,
			want: []string{
				"250ms b1 a's iPhone no longer trusts this computer", "1s b1 withdrawn",
				"30.25s b2 a's iPhone no longer trusts this computer", "31s b2 withdrawn",
			},
		},
		{
			// The prompt again within 30 s of the last one looks exactly like
			// a replug cycle, so it waits; the success is progress and is not.
			name: "\"Don't Trust\", unplug, replug, Trust: the success at once",
			steps: []step{
				at(0, "a=trust-pending"), at(3*time.Second, "a=trust-denied"), at(6 * time.Second),
				at(8*time.Second, "a=probing"), at(8100*ms, "a=trust-pending"),
				at(12*time.Second, "a=ready"),
			},
			until: time.Minute,
			want: []string{
				"250ms b1 a's iPhone is asking to trust this computer",
				"3s b1 \"Don't Trust\" was tapped on a's iPhone",
				"6s b1 withdrawn",
				"12.25s b2 a's iPhone now trusts this computer",
			},
		},
		{
			// Each connection lasts 150 ms, shorter than Settle: the notice
			// about the coming and going is told all the same, stays when
			// the phone drops off, and is not repeated within 30 s.
			name: "a loose cable: \"keeps disconnecting\" told though each connection is brief",
			steps: func() []step {
				var s []step
				for i := 0; i < 40; i++ { // 300 ms cycles for 12 s
					t := time.Duration(i) * 300 * ms
					st := "a=probing"
					if i >= 2 {
						st = "a=unstable-connection"
					}
					s = append(s, at(t, st), at(t+150*ms))
				}
				return s
			}(),
			until: time.Minute,
			want:  []string{"850ms b1 a's iPhone keeps disconnecting"},
		},
		{
			name: "several phones within one second: one bubble, updated in place",
			steps: []step{
				at(0, "a=locked"),
				at(300*ms, "a=locked", "b=trust-pending"),
				at(900*ms, "a=locked", "b=trust-pending", "c=no-data"),
			},
			until: time.Minute,
			want: []string{
				"250ms b1 a's iPhone is locked",
				"550ms b1 2 iPhones need attention",
				"1.15s b1 3 iPhones need attention",
			},
		},
		{
			name:  "a phone after the window: its own bubble",
			steps: []step{at(0, "a=locked"), at(1500*ms, "a=locked", "b=locked")},
			until: time.Minute,
			want:  []string{"250ms b1 a's iPhone is locked", "1.75s b2 b's iPhone is locked"},
		},
		{
			name: "a combined bubble follows its phones and is withdrawn with the last",
			steps: []step{
				at(0, "a=locked", "b=trust-pending"),
				at(time.Minute, "a=ready", "b=trust-pending"),
				at(2*time.Minute, "b=trust-pending"),
				at(3 * time.Minute),
			},
			until: 4 * time.Minute,
			want: []string{
				"250ms b1 2 iPhones need attention",
				"1m0s b1 b's iPhone is asking to trust this computer",
				"3m0s b1 withdrawn",
			},
		},
		{
			name:  "two resolved together: one quiet notice",
			steps: []step{at(0, "a=locked", "b=trust-pending"), at(time.Minute, "a=ready", "b=ready")},
			until: 2 * time.Minute,
			want:  []string{"250ms b1 2 iPhones need attention", "1m0s b1 2 iPhones are ready"},
		},
		{
			name:  "no key and no UDID, or an unknown state: ignored",
			steps: []step{at(0, "=locked", "x=bogus-state")},
			until: time.Minute,
		},
		{
			name: "Fix trust answered by the state change: one bubble, no extra notice",
			steps: []step{
				at(0, "a=trust-revoked"),
				act(10*time.Second, func(c *Core, now time.Time) { c.FixTrustClicked("a", now) }),
				at(10010*ms, "a=probing"),
				at(10040*ms, "a=trust-pending"),
				at(14*time.Second, "a=ready"),
			},
			until: time.Minute,
			want: []string{
				"250ms b1 a's iPhone no longer trusts this computer",
				"10.04s b1 a's iPhone is asking to trust this computer",
				"14s b1 a's iPhone now trusts this computer",
			},
		},
		{
			name: "Fix trust with no change: \"Check your iPhone\" after the grace",
			steps: []step{
				at(0, "a=trust-revoked"),
				act(10*time.Second, func(c *Core, now time.Time) { c.FixTrustClicked("a", now) }),
			},
			until: time.Minute,
			want: []string{
				"250ms b1 a's iPhone no longer trusts this computer",
				"10.3s b1 Check your iPhone — tap Trust",
			},
		},
		{
			name: "Fix trust answered by a repeat: told at once all the same",
			steps: []step{
				at(0, "a=trust-pending"), at(2*time.Second, "a=untrusted"),
				act(3*time.Second, func(c *Core, now time.Time) { c.FixTrustClicked("a", now) }),
				at(3100*ms, "a=trust-pending"),
			},
			until: time.Minute,
			want: []string{
				"250ms b1 a's iPhone is asking to trust this computer",
				"2s b1 a's iPhone does not trust this computer",
				"3.1s b1 a's iPhone is asking to trust this computer",
			},
		},
		{
			name: "forgetting the pairing: said once, and no nag that follows",
			steps: []step{
				at(0, "a=ready"),
				act(time.Minute, func(c *Core, now time.Time) { c.Forgot("a", now) }),
				at(time.Minute+10*ms, "a=probing"),
				at(time.Minute+50*ms, "a=untrusted"),
				at(2 * time.Minute),
				at(3*time.Minute, "a=untrusted"),
			},
			until: 4 * time.Minute,
			want: []string{
				"1m0s b1 Pairing forgotten",
				"2m0s b1 withdrawn",
				"3m0.25s b2 a's iPhone does not trust this computer",
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := lines(play(t, tc.steps, tc.until))
			if !slices.Equal(got, tc.want) {
				t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
		})
	}
}

func policy(mode Mode, muted ...string) func(c *Core, now time.Time) {
	return func(c *Core, _ time.Time) {
		p := Policy{Mode: mode, Muted: map[string]bool{}}
		for _, m := range muted {
			p.Muted[m] = true
		}
		c.SetPolicy(p)
	}
}

func TestCoreQuietModes(t *testing.T) {
	cases := []struct {
		name  string
		steps []step
		want  []string
	}{
		{
			name:  "problems only: a solved problem is withdrawn, not praised",
			steps: []step{act(0, policy(ModeProblems)), at(0, "a=locked"), at(time.Minute, "a=ready")},
			want:  []string{"250ms b1 a's iPhone is locked", "1m0s b1 withdrawn"},
		},
		{
			name: "off: nothing by itself, and what was shown is withdrawn",
			steps: []step{
				at(0, "a=locked"), act(time.Second, policy(ModeOff)),
				at(2*time.Second, "a=no-data"), at(time.Minute, "a=ready"),
			},
			want: []string{"250ms b1 a's iPhone is locked", "1s b1 withdrawn"},
		},
		{
			name: "off: a Fix trust click is still answered, and withdrawn when done",
			steps: []step{
				act(0, policy(ModeOff)), at(0, "a=trust-revoked"),
				act(time.Second, func(c *Core, now time.Time) { c.FixTrustClicked("a", now) }),
				at(1100*ms, "a=trust-pending"), at(5*time.Second, "a=ready"),
			},
			want: []string{"1.3s b1 Check your iPhone — tap Trust", "5s b1 withdrawn"},
		},
		{
			name: "a muted phone says nothing; the others still do",
			steps: []step{
				at(0, "a=locked"), act(time.Second, policy(ModeAll, "a")),
				at(5*time.Second, "a=no-data", "b=locked"),
			},
			want: []string{"250ms b1 a's iPhone is locked", "1s b1 withdrawn", "5.25s b2 b's iPhone is locked"},
		},
		{
			name: "unmuted: its problem is told",
			steps: []step{
				act(0, policy(ModeAll, "a")), at(0, "a=locked"),
				act(time.Minute, policy(ModeAll)), at(2*time.Minute, "a=no-data"),
			},
			want: []string{"1m0s b1 a's iPhone is locked", "2m0s b1 a's iPhone is only charging"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := lines(play(t, tc.steps, 3*time.Minute))
			if !slices.Equal(got, tc.want) {
				t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
		})
	}
}

// A bubble the server closed (expired, or dismissed by the user) is not
// reopened for the same news; progress opens a new one at once, anything
// else waits out the storm limit.
func TestCoreServerClosed(t *testing.T) {
	got := lines(play(t, []step{
		at(0, "a=untrusted-locked"),
		act(10*time.Second, func(c *Core, _ time.Time) { c.Closed("b1") }),
		at(12*time.Second, "a=trust-pending"),
		act(15*time.Second, func(c *Core, _ time.Time) { c.Closed("b2") }),
		at(16*time.Second, "a=no-data"),
	}, time.Minute))
	want := []string{
		"250ms b1 a's iPhone is locked",
		"12.25s b2 a's iPhone is asking to trust this computer",
		"42.25s b3 a's iPhone is only charging",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func TestCoreTenDevicesAtOnce(t *testing.T) {
	var devs, ready []string
	for i := range 10 {
		devs = append(devs, fmt.Sprintf("dev%02d=trust-pending", i))
		ready = append(ready, fmt.Sprintf("dev%02d=ready", i))
	}
	ops := play(t, []step{at(0, devs...), at(3*time.Second, ready...)}, time.Minute)
	if len(ops) != 2 || ops[0].Slot != ops[1].Slot {
		t.Fatalf("want one bubble updated once, got %v", lines(ops))
	}
	m := ops[0].Message
	if m.Title != "10 iPhones need attention" || m.Anchor != "step-3" || len(m.Keys) != 10 || m.Level != icons.Waiting {
		t.Fatalf("message %+v", m)
	}
	want := "dev00's iPhone: waiting for Trust\n" +
		"dev01's iPhone: waiting for Trust\n" +
		"dev02's iPhone: waiting for Trust\n" +
		"dev03's iPhone: waiting for Trust\n" +
		"dev04's iPhone: waiting for Trust\n" +
		"…and 5 more.\n" +
		"Open the trustwatch menu to see what to do for each."
	if m.Body != want {
		t.Fatalf("body %q\nwant %q", m.Body, want)
	}
	if r := ops[1].Message; r.Title != "10 iPhones are ready" || !r.Transient || r.Urgency != UrgencyLow || r.Anchor != "" {
		t.Fatalf("resolved %+v", r)
	}
}

func TestCoreMixedAnchorsOpenTheGuideStart(t *testing.T) {
	ops := play(t, []step{at(0, "a=locked", "b=no-data")}, time.Minute)
	if len(ops) != 1 || ops[0].Message.Anchor != "step-1" || ops[0].Message.Level != icons.Problem {
		t.Fatalf("%+v", ops)
	}
}

// Buttons, icon and urgency match the message: "How to fix" on problems
// only, "Fix trust" where Fix trust helps, a quiet transient success.
func TestCoreMessageFields(t *testing.T) {
	ops := play(t, []step{
		at(0, "k1=untrusted-locked/Anna's iPhone"),
		at(time.Minute, "k1=trust-revoked/Anna's iPhone"),
		at(2*time.Minute, "k1=ready/Anna's iPhone"),
		at(3*time.Minute, "k1=ready/Anna's iPhone", "k2=no-data/Ben's iPhone"),
	}, 4*time.Minute)
	want := []Message{
		{Slot: "b1", Title: "Anna's iPhone is locked", Body: "Unlock it to see the \"Trust This Computer?\" prompt.",
			Anchor: "step-1", Urgency: UrgencyNormal, Level: icons.Waiting, Keys: []string{"k1"}},
		{Slot: "b1", Title: "Anna's iPhone no longer trusts this computer", Body: "Choose Fix trust in the trustwatch menu, then tap Trust on the iPhone.",
			Anchor: "step-6", FixTrust: "k1", Urgency: UrgencyNormal, Level: icons.Attention, Keys: []string{"k1"}},
		{Slot: "b1", Title: "Anna's iPhone now trusts this computer", Body: "Syncing, backups and photo import work now.",
			Urgency: UrgencyLow, Transient: true, Level: icons.OK, Keys: []string{"k1"}},
		{Slot: "b2", Title: "Ben's iPhone is only charging", Body: "No data connection came up. Use a data cable (not charge-only), a USB port on the computer itself rather than a hub, and unlock the iPhone.",
			Anchor: "issue-cable", Urgency: UrgencyNormal, Level: icons.Problem, Keys: []string{"k2"}},
	}
	if len(ops) != len(want) {
		t.Fatalf("got %v", lines(ops))
	}
	for i := range want {
		g, w := ops[i].Message, want[i]
		if g.Slot != w.Slot || g.Title != w.Title || g.Body != w.Body || g.Anchor != w.Anchor || g.FixTrust != w.FixTrust ||
			g.Urgency != w.Urgency || g.Transient != w.Transient || g.Level != w.Level || !slices.Equal(g.Keys, w.Keys) {
			t.Errorf("message %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
}

// newBubbles counts, per device, the times a bubble first showed it
// (a new slot, or a slot it was not in before).
func newBubbles(ops []timedOp) map[string][]time.Time {
	in := map[string]string{} // device → slot it is shown in
	out := map[string][]time.Time{}
	for _, o := range ops {
		if o.Withdraw {
			for k, s := range in {
				if s == o.Slot {
					delete(in, k)
				}
			}
			continue
		}
		for _, k := range o.Message.Keys {
			if in[k] != o.Slot {
				out[k] = append(out[k], o.at)
				in[k] = o.Slot
			}
		}
	}
	return out
}

// Two phones flapping for ten minutes (replugs, unstable links, states
// oscillating): each appears in a new bubble at most once per 30 s, and a
// bubble never says the same thing twice in a row.
func TestCoreFlappingRateLimit(t *testing.T) {
	var steps []step
	for i := 0; i < 1200; i++ { // every 0.5 s for 600 s
		var devs []string
		switch i % 6 {
		case 0, 1:
			devs = append(devs, "a=locked")
		case 2:
			devs = append(devs, "a=ready")
		case 3:
			devs = append(devs, "a=unstable-connection")
		case 4: // unplugged
		case 5:
			devs = append(devs, "a=trust-revoked")
		}
		if i%4 != 3 {
			devs = append(devs, []string{"b=no-data", "b=trust-pending", "b=untrusted"}[i%3])
		}
		steps = append(steps, at(time.Duration(i)*500*ms, devs...))
	}
	ops := play(t, steps, 11*time.Minute)
	for k, times := range newBubbles(ops) {
		for i := 1; i < len(times); i++ {
			if d := times[i].Sub(times[i-1]); d < MinInterval {
				t.Fatalf("%s in a new bubble at %v and again at %v", k, times[i-1].Sub(t0), times[i].Sub(t0))
			}
		}
		if len(times) < 3 || len(times) > 21 {
			t.Errorf("%s: %d new bubbles in 600 s", k, len(times))
		}
	}
	lastBody := map[string]string{}
	for _, o := range ops {
		if o.Withdraw {
			delete(lastBody, o.Slot)
			continue
		}
		if lastBody[o.Slot] == o.Message.Title+o.Message.Body {
			t.Fatalf("%v: %s said %q twice in a row", o.at.Sub(t0), o.Slot, o.Message.Title)
		}
		lastBody[o.Slot] = o.Message.Title + o.Message.Body
	}
	t.Logf("%d operations for 2 phones flapping 1200 times in 600 s", len(ops))
}

// Every snapshot of a long unchanging phone costs nothing: no wake-ups.
func TestCoreIdleHasNoDeadline(t *testing.T) {
	c := NewCore()
	for i := range 100 {
		now := t0.Add(time.Duration(i) * time.Second)
		c.Observe(snap("a=ready"), now)
		if ops := c.Due(now); len(ops) != 0 {
			t.Fatalf("operations %v", ops)
		}
		if at, ok := c.Next(now); ok {
			t.Fatalf("wake-up at %v while idle", at)
		}
	}
}
