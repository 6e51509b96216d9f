package notify

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/trustwatch/trustwatch/watcher/engine"
)

// Defaults for Config.
const (
	DefaultWindow      = time.Second
	DefaultMinInterval = 30 * time.Second
	DefaultForgetAfter = 10 * time.Minute
	// maxListed bounds the per-device lines of a combined notification.
	maxListed = 5
)

// Config tunes the Core. Zero fields take the defaults.
type Config struct {
	// Window: changes of several devices within it become one notification.
	// Every notification waits this long, so a burst is seen whole.
	Window time.Duration
	// MinInterval: one device is notified at most once per MinInterval; a
	// change inside it is held, and re-checked when the interval ends.
	MinInterval time.Duration
	// ForgetAfter: a device unplugged this long is forgotten, so the same
	// problem is told again on a later plug (but not while it flaps).
	ForgetAfter time.Duration
}

func (c Config) withDefaults() Config {
	if c.Window <= 0 {
		c.Window = DefaultWindow
	}
	if c.MinInterval <= 0 {
		c.MinInterval = DefaultMinInterval
	}
	if c.ForgetAfter <= 0 {
		c.ForgetAfter = DefaultForgetAfter
	}
	return c
}

// Urgency maps onto the freedesktop urgency levels.
type Urgency byte

// Urgencies.
const (
	UrgencyLow    Urgency = 0
	UrgencyNormal Urgency = 1
)

// Message is one notification to show.
type Message struct {
	Title, Body string
	// Anchor is the guide anchor "How to fix" opens; "" means no action.
	Anchor  string
	Urgency Urgency
	// Keys are the devices the message is about (sorted; none for Tell).
	Keys []string
}

// device is what the core remembers per Device.Key.
type device struct {
	name       string
	cur        engine.State // "" while unplugged
	present    bool
	goneAt     time.Time
	notified   engine.State // last state told ("" never)
	notifiedAt time.Time
	dirty      bool // a notice is wanted and not yet sent
	// wasReady: the phone was ready during this plug, so a later lock is
	// the owner locking a phone that works (followed live since the lock
	// state is observed), not a problem to be told about.
	wasReady bool
}

// Core turns a stream of snapshots into messages: per-device edges, the
// same state never twice in a row, a minimum interval per device, and
// coalescing of bursts. It is pure: time comes in as arguments.
// A Core is not safe for concurrent use.
type Core struct {
	cfg        Config
	devs       map[string]*device
	batchOpen  bool
	batchStart time.Time
}

// NewCore makes a Core.
func NewCore(cfg Config) *Core {
	return &Core{cfg: cfg.withDefaults(), devs: map[string]*device{}}
}

func deviceKey(d engine.Device) string {
	switch {
	case d.Key != "":
		return d.Key
	case d.UDID != "":
		return "udid:" + d.UDID
	}
	return ""
}

// wants reports whether d's current state deserves a notice.
func (d *device) wants() bool {
	if !d.present || !d.cur.Final() {
		return false
	}
	if d.cur == engine.StateReady {
		// Only as the end of a problem we told about, never at plug-in.
		return d.notified.NeedsUser()
	}
	if d.cur == engine.StateLocked && d.wasReady {
		return false
	}
	if !d.cur.NeedsUser() {
		return false
	}
	return d.cur != d.notified
}

func (c *Core) eligible(d *device, now time.Time) bool {
	return d.notified == "" || !now.Before(d.notifiedAt.Add(c.cfg.MinInterval))
}

// Observe takes a complete snapshot received at now.
func (c *Core) Observe(s engine.Snapshot, now time.Time) {
	seen := make(map[string]bool, len(s.Devices))
	for _, sd := range s.Devices {
		k := deviceKey(sd)
		if k == "" {
			continue // nothing to tell edges apart by
		}
		seen[k] = true
		d := c.devs[k]
		if d == nil {
			d = &device{}
			c.devs[k] = d
		}
		d.name = sd.DisplayName()
		if !d.present || d.cur != sd.State {
			d.present, d.cur = true, sd.State
			d.wasReady = d.wasReady || d.cur == engine.StateReady
			d.dirty = d.wants()
		}
	}
	for k, d := range c.devs {
		if seen[k] {
			continue
		}
		if d.present {
			d.present, d.cur, d.goneAt, d.dirty, d.wasReady = false, "", now, false, false
		} else if now.Sub(d.goneAt) >= c.cfg.ForgetAfter {
			delete(c.devs, k)
		}
	}
	c.maybeOpenBatch(now)
}

func (c *Core) maybeOpenBatch(now time.Time) {
	if c.batchOpen {
		return
	}
	for _, d := range c.devs {
		if d.dirty && c.eligible(d, now) {
			c.batchOpen, c.batchStart = true, now
			return
		}
	}
}

// Next is when Due should be called next; ok is false when nothing waits.
func (c *Core) Next() (t time.Time, ok bool) {
	if c.batchOpen {
		return c.batchStart.Add(c.cfg.Window), true
	}
	for _, d := range c.devs {
		if !d.dirty {
			continue
		}
		at := d.notifiedAt.Add(c.cfg.MinInterval)
		if !ok || at.Before(t) {
			t, ok = at, true
		}
	}
	return t, ok
}

type notice struct {
	key   string
	name  string
	state engine.State
	text  Text
}

// Due returns the message to show at now (at most one).
func (c *Core) Due(now time.Time) []Message {
	c.maybeOpenBatch(now)
	if !c.batchOpen || now.Before(c.batchStart.Add(c.cfg.Window)) {
		return nil
	}
	c.batchOpen = false
	var ns []notice
	for k, d := range c.devs {
		if !d.dirty || !c.eligible(d, now) {
			continue
		}
		d.dirty = false
		if !d.wants() { // re-check: it may have changed back meanwhile
			continue
		}
		var t Text
		if d.cur == engine.StateReady {
			t = ResolvedText(d.notified)
		} else if t, _ = TextFor(d.cur); t.Title == "" {
			continue
		}
		ns = append(ns, notice{key: k, name: d.name, state: d.cur, text: t})
		d.notified, d.notifiedAt = d.cur, now
	}
	// Devices held by their interval may be due later.
	c.maybeOpenBatch(now)
	if len(ns) == 0 {
		return nil
	}
	sort.Slice(ns, func(i, j int) bool { return ns[i].key < ns[j].key })
	return []Message{combine(ns)}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

func combine(ns []notice) Message {
	keys := make([]string, len(ns))
	for i, n := range ns {
		keys[i] = n.key
	}
	if len(ns) == 1 {
		n := ns[0]
		title, body := n.text.Render(n.name)
		m := Message{Title: title, Body: body, Anchor: n.text.Anchor, Urgency: UrgencyNormal, Keys: keys}
		if n.state == engine.StateReady {
			m.Urgency = UrgencyLow
		}
		return m
	}
	var problems []notice
	anchors := map[string]bool{}
	for _, n := range ns {
		if n.state != engine.StateReady {
			problems = append(problems, n)
			anchors[n.text.Anchor] = true
		}
	}
	m := Message{Urgency: UrgencyNormal, Keys: keys}
	switch len(problems) {
	case 0:
		m.Title = plural(len(ns), "iPhone is", "iPhones are") + " ready"
		m.Anchor = engine.StateReady.Anchor()
		m.Urgency = UrgencyLow
	case 1:
		m.Title, _ = problems[0].text.Render(problems[0].name)
		m.Anchor = problems[0].text.Anchor
	default:
		m.Title = fmt.Sprintf("%d iPhones need attention", len(problems))
		if len(anchors) == 1 {
			m.Anchor = problems[0].text.Anchor
		} else {
			m.Anchor = "step-1" // mixed problems: the guide from its start
		}
	}
	var b strings.Builder
	for i, n := range ns {
		if i == maxListed {
			fmt.Fprintf(&b, "…and %d more.\n", len(ns)-maxListed)
			break
		}
		fmt.Fprintf(&b, "%s: %s\n", n.name, n.state.Words())
	}
	if len(problems) > 0 {
		b.WriteString("Open the trustwatch menu to see what to do for each.")
	}
	m.Body = strings.TrimSuffix(b.String(), "\n")
	return m
}
