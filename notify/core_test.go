package notify

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trustwatch/trustwatch/watcher/engine"
)

var t0 = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

// dev is "key=state" or "key=state/Name"; the name defaults to "<Key>'s iPhone".
func snap(devs ...string) engine.Snapshot {
	var s engine.Snapshot
	for _, d := range devs {
		k, rest, _ := strings.Cut(d, "=")
		st, name, ok := strings.Cut(rest, "/")
		if !ok {
			name = k + "'s iPhone"
		}
		s.Devices = append(s.Devices, engine.Device{Key: k, Name: name, State: engine.State(st)})
	}
	return s
}

type step struct {
	at   time.Duration
	devs []string // the complete snapshot at this time
}

// simulate plays steps against a Core the way Run does: Due at every time
// Next asks for, and right after each snapshot. It returns "at title" lines.
func simulate(t *testing.T, cfg Config, steps []step, until time.Duration) ([]string, []Message) {
	t.Helper()
	c := NewCore(cfg)
	var lines []string
	var msgs []Message
	emit := func(now time.Time) {
		for _, m := range c.Due(now) {
			lines = append(lines, fmt.Sprintf("%v %s", now.Sub(t0), m.Title))
			msgs = append(msgs, m)
		}
	}
	advance := func(to time.Time) {
		for i := 0; ; i++ {
			next, ok := c.Next()
			if !ok || next.After(to) {
				return
			}
			if i > 10000 {
				t.Fatal("Next does not advance")
			}
			emit(next)
		}
	}
	for _, s := range steps {
		now := t0.Add(s.at)
		advance(now)
		c.Observe(snap(s.devs...), now)
		emit(now)
	}
	advance(t0.Add(until))
	return lines, msgs
}

func TestCoreScenarios(t *testing.T) {
	cases := []struct {
		name  string
		cfg   Config
		steps []step
		until time.Duration
		want  []string
	}{
		{
			name: "trust flow, slow enough for every step",
			steps: []step{
				{0, []string{"anna=probing/Anna's iPhone"}},
				{100 * time.Millisecond, []string{"anna=untrusted-locked/Anna's iPhone"}},
				{40 * time.Second, []string{"anna=trust-pending/Anna's iPhone"}},
				{80 * time.Second, []string{"anna=ready/Anna's iPhone"}},
			},
			until: 5 * time.Minute,
			want: []string{
				"1.1s Anna's iPhone is locked",
				"41s Anna's iPhone is asking to trust this computer",
				"1m21s Anna's iPhone now trusts this computer",
			},
		},
		{
			name: "trust flow faster than the interval: held, then the final state",
			steps: []step{
				{0, []string{"anna=untrusted-locked/Anna's iPhone"}},
				{5 * time.Second, []string{"anna=trust-pending/Anna's iPhone"}},
				{10 * time.Second, []string{"anna=ready/Anna's iPhone"}},
			},
			until: 5 * time.Minute,
			want: []string{
				"1s Anna's iPhone is locked",
				"32s Anna's iPhone now trusts this computer",
			},
		},
		{
			name:  "ready at plug-in is not announced",
			steps: []step{{0, []string{"a=probing"}}, {time.Second, []string{"a=ready"}}},
			until: time.Minute,
			want:  nil,
		},
		{
			name: "locked resolves to the plain ready text",
			steps: []step{
				{0, []string{"a=locked"}},
				{time.Minute, []string{"a=ready"}},
			},
			until: 3 * time.Minute,
			want:  []string{"1s a's iPhone is locked", "1m1s a's iPhone is ready"},
		},
		{
			name: "a working phone locked and unlocked by its owner: nothing, as often as it happens",
			steps: []step{
				{0, []string{"a=probing"}},
				{time.Second, []string{"a=ready"}},
				{time.Minute, []string{"a=locked"}},
				{2 * time.Minute, []string{"a=ready"}},
				{3 * time.Minute, []string{"a=locked"}},
				{4 * time.Minute, []string{"a=ready"}},
			},
			until: 5 * time.Minute,
			want:  nil,
		},
		{
			name: "locked at plug-in is told, and once it worked, a later lock is not",
			steps: []step{
				{0, []string{"a=locked"}},
				{time.Minute, []string{"a=ready"}},
				{2 * time.Minute, []string{"a=locked"}},
				{3 * time.Minute, []string{}},
				{4 * time.Minute, []string{"a=probing"}},
				{4*time.Minute + time.Second, []string{"a=locked"}}, // a new plug
			},
			until: 6 * time.Minute,
			want:  []string{"1s a's iPhone is locked", "1m1s a's iPhone is ready", "4m2s a's iPhone is locked"},
		},
		{
			name: "same state never twice in a row, even through probing",
			steps: []step{
				{0, []string{"a=locked"}},
				{40 * time.Second, []string{"a=probing"}},
				{41 * time.Second, []string{"a=locked"}},
				{90 * time.Second, []string{}},
				{91 * time.Second, []string{"a=locked"}},
			},
			until: 3 * time.Minute,
			want:  []string{"1s a's iPhone is locked"},
		},
		{
			name: "flap back to the notified state inside the interval: nothing",
			steps: []step{
				{0, []string{"a=locked"}},
				{5 * time.Second, []string{"a=no-data"}},
				{6 * time.Second, []string{"a=locked"}},
			},
			until: 3 * time.Minute,
			want:  []string{"1s a's iPhone is locked"},
		},
		{
			name: "several devices within one second: one notification",
			steps: []step{
				{0, []string{"a=locked"}},
				{300 * time.Millisecond, []string{"a=locked", "b=trust-pending"}},
				{900 * time.Millisecond, []string{"a=locked", "b=trust-pending", "c=no-data"}},
			},
			until: time.Minute,
			want:  []string{"1s 3 iPhones need attention"},
		},
		{
			name: "a change after the window is a new notification",
			steps: []step{
				{0, []string{"a=locked"}},
				{1500 * time.Millisecond, []string{"a=locked", "b=locked"}},
			},
			until: time.Minute,
			want:  []string{"1s a's iPhone is locked", "2.5s b's iPhone is locked"},
		},
		{
			name: "unplug before the window ends: nothing",
			steps: []step{
				{0, []string{"a=trust-denied"}},
				{500 * time.Millisecond, []string{}},
			},
			until: time.Minute,
			want:  nil,
		},
		{
			name: "replug in the same state: quiet while remembered, told again once forgotten",
			cfg:  Config{ForgetAfter: 5 * time.Minute},
			steps: []step{
				{0, []string{"a=trust-denied"}},
				{time.Minute, []string{}},
				{2 * time.Minute, []string{"a=trust-denied"}},
				{3 * time.Minute, []string{}},
				{9 * time.Minute, []string{}}, // absent for 6 min: forgotten
				{10 * time.Minute, []string{"a=trust-denied"}},
			},
			until: 11 * time.Minute,
			want: []string{
				"1s \"Don't Trust\" was tapped on a's iPhone",
				"10m1s \"Don't Trust\" was tapped on a's iPhone",
			},
		},
		{
			name: "two resolved together",
			steps: []step{
				{0, []string{"a=locked", "b=trust-pending"}},
				{time.Minute, []string{"a=ready", "b=ready"}},
			},
			until: 2 * time.Minute,
			want:  []string{"1s 2 iPhones need attention", "1m1s 2 iPhones are ready"},
		},
		{
			name: "one problem and one resolved together take the problem's title",
			steps: []step{
				{0, []string{"a=locked"}},
				{time.Minute, []string{"a=ready", "b=no-data"}},
			},
			until: 2 * time.Minute,
			want:  []string{"1s a's iPhone is locked", "1m1s b's iPhone is only charging"},
		},
		{
			name: "no key and no UDID, or an unknown state: ignored",
			steps: []step{
				{0, []string{"=locked", "x=bogus-state"}},
			},
			until: time.Minute,
			want:  nil,
		},
		{
			name: "custom window and interval",
			cfg:  Config{Window: 100 * time.Millisecond, MinInterval: time.Second},
			steps: []step{
				{0, []string{"a=untrusted-locked"}},
				{300 * time.Millisecond, []string{"a=trust-pending"}},
				{2 * time.Second, []string{"a=ready"}},
			},
			until: time.Minute,
			want: []string{
				"100ms a's iPhone is locked",
				"1.2s a's iPhone is asking to trust this computer",
				// eligible at 2.2 s (1.2 + 1 s), then the 100 ms window
				"2.3s a's iPhone now trusts this computer",
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := simulate(t, tc.cfg, tc.steps, tc.until)
			if !slices.Equal(got, tc.want) {
				t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
		})
	}
}

func TestCoreTenDevicesAtOnce(t *testing.T) {
	var devs []string
	for i := range 10 {
		devs = append(devs, fmt.Sprintf("dev%02d=trust-pending", i))
	}
	lines, msgs := simulate(t, Config{}, []step{{0, devs}}, time.Minute)
	if len(msgs) != 1 {
		t.Fatalf("want one notification, got %v", lines)
	}
	m := msgs[0]
	if m.Title != "10 iPhones need attention" || m.Anchor != "step-3" || len(m.Keys) != 10 {
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
}

func TestCoreMixedAnchorsOpenTheGuideStart(t *testing.T) {
	_, msgs := simulate(t, Config{}, []step{{0, []string{"a=locked", "b=no-data"}}}, time.Minute)
	if len(msgs) != 1 || msgs[0].Anchor != "step-1" {
		t.Fatalf("%+v", msgs)
	}
}

func TestCoreSingleMessageFields(t *testing.T) {
	_, msgs := simulate(t, Config{}, []step{
		{0, []string{"k1=untrusted-locked/Anna's iPhone"}},
		{time.Minute, []string{"k1=ready/Anna's iPhone"}},
	}, 2*time.Minute)
	want := []Message{
		{Title: "Anna's iPhone is locked", Body: "Unlock it to see the \"Trust This Computer?\" prompt.",
			Anchor: "step-1", Urgency: UrgencyNormal, Keys: []string{"k1"}},
		{Title: "Anna's iPhone now trusts this computer", Body: "Syncing, backups and photo import work now.",
			Anchor: "verify", Urgency: UrgencyLow, Keys: []string{"k1"}},
	}
	if len(msgs) != len(want) {
		t.Fatalf("got %+v", msgs)
	}
	for i := range want {
		g, w := msgs[i], want[i]
		if g.Title != w.Title || g.Body != w.Body || g.Anchor != w.Anchor || g.Urgency != w.Urgency || !slices.Equal(g.Keys, w.Keys) {
			t.Errorf("message %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
}

// A device flapping between two states every second for ten minutes is
// notified at most once per 30 s, and every notice differs from the one
// before it.
func TestCoreFlappingRateLimit(t *testing.T) {
	var steps []step
	for i := 0; i < 600; i++ {
		st := "locked"
		if i%2 == 1 {
			st = "ready"
		}
		if i%7 == 3 {
			st = "unstable-connection"
		}
		steps = append(steps, step{time.Duration(i) * time.Second, []string{"a=" + st}})
	}
	// Also a second device flapping out of phase, to mix batches.
	for i := range steps {
		if i%3 == 0 {
			steps[i].devs = append(steps[i].devs, "b=no-data")
		} else {
			steps[i].devs = append(steps[i].devs, "b=ready")
		}
	}
	_, msgs := simulateTimes(t, steps, 11*time.Minute)
	last := map[string]time.Time{}
	lastTitle := map[string]string{}
	count := 0
	for _, tm := range msgs {
		for _, k := range tm.m.Keys {
			if prev, ok := last[k]; ok && tm.at.Sub(prev) < 30*time.Second {
				t.Fatalf("%s notified at %v and again at %v", k, prev.Sub(t0), tm.at.Sub(t0))
			}
			last[k] = tm.at
			if len(tm.m.Keys) == 1 {
				if lastTitle[k] == tm.m.Title {
					t.Fatalf("%s told %q twice in a row", k, tm.m.Title)
				}
				lastTitle[k] = tm.m.Title
			} else {
				lastTitle[k] = "(with others) " + tm.m.Title // told something in between
			}
		}
		count++
	}
	// 600 s / 30 s = 20 slots per device; at least a few must be used, and
	// never more than the limit allows.
	if count == 0 || count > 2*21 {
		t.Fatalf("%d notifications for 600 s of flapping", count)
	}
	t.Logf("%d notifications for 2 devices flapping 600 times in 600 s", count)
}

type timed struct {
	at time.Time
	m  Message
}

func simulateTimes(t *testing.T, steps []step, until time.Duration) (*Core, []timed) {
	t.Helper()
	c := NewCore(Config{})
	var out []timed
	emit := func(now time.Time) {
		for _, m := range c.Due(now) {
			out = append(out, timed{now, m})
		}
	}
	advance := func(to time.Time) {
		for {
			next, ok := c.Next()
			if !ok || next.After(to) {
				return
			}
			emit(next)
		}
	}
	for _, s := range steps {
		now := t0.Add(s.at)
		advance(now)
		c.Observe(snap(s.devs...), now)
		emit(now)
	}
	advance(t0.Add(until))
	return c, out
}

// Every snapshot of a long unchanging phone costs nothing: no wake-ups.
func TestCoreIdleHasNoDeadline(t *testing.T) {
	c := NewCore(Config{})
	for i := range 100 {
		now := t0.Add(time.Duration(i) * time.Second)
		c.Observe(snap("a=ready"), now)
		if m := c.Due(now); m != nil {
			t.Fatalf("message %v", m)
		}
		if at, ok := c.Next(); ok {
			t.Fatalf("wake-up at %v while idle", at)
		}
	}
}
