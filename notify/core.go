package notify

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/trustwatch/trustwatch/icons"
	"github.com/trustwatch/trustwatch/internal/catalog"
	"github.com/trustwatch/trustwatch/internal/say"
	"github.com/trustwatch/trustwatch/watcher/engine"
)

// The Core's timings. They are constants on purpose: the product runs
// them, and the tests drive them with real or injected clocks, never
// shortened.
const (
	// Settle: a phone's first notice waits this long after its change, so
	// phones plugged in together share one bubble.
	Settle = 250 * time.Millisecond
	// JoinWindow: a phone whose first notice comes within this of another
	// bubble's appearance joins that bubble (updated in place) instead of
	// opening its own: several phones within a second stay one notification.
	JoinWindow = time.Second
	// MinInterval limits storms, never progress: at most one new bubble per
	// phone per MinInterval, and a state told again within it (A → B → A,
	// replug cycles) is held until it ends. A forward step of the trust
	// story, or an answer to the user's own click, is never held.
	MinInterval = 30 * time.Second
	// UpdateGap spaces in-place updates of one bubble, so a burst of
	// changes is one update.
	UpdateGap = 150 * time.Millisecond
	// FeedbackGrace: after a Fix trust click, the state change it causes is
	// the feedback; if none is told within this, "Check your iPhone — tap
	// Trust" is.
	FeedbackGrace = 300 * time.Millisecond
	// ClickWindow: changes within this after a click answer it and are
	// never held.
	ClickWindow = 10 * time.Second
	// QuietExpire: the quiet "ready" notice goes away by itself after this.
	QuietExpire = 8 * time.Second
	// UnstableGrace: "keeps disconnecting" is about the coming and going
	// itself, so it is still told this long after the phone dropped off
	// (a loose cable may connect for a fraction of a second only).
	UnstableGrace = time.Second
	// ForgetAfter: a phone unplugged this long is forgotten entirely.
	ForgetAfter = 10 * time.Minute
	// maxListed bounds the per-device lines of a combined notification.
	maxListed = 5
)

// Urgency maps onto the freedesktop urgency levels.
type Urgency byte

// Urgencies.
const (
	UrgencyLow    Urgency = 0
	UrgencyNormal Urgency = 1
)

// Message is what one bubble says.
type Message struct {
	// Slot names the bubble: a later message with the same Slot replaces
	// it in place, and Withdraw removes it. "" is a one-off notice.
	Slot        string
	Title, Body string
	// Anchor is the guide anchor "How to fix" opens; "" means no button.
	Anchor string
	// FixTrust is the device key a "Fix trust" button acts on; "" none.
	FixTrust string
	Urgency  Urgency
	// Transient: a quiet notice that expires by itself (QuietExpire) and
	// is not kept in the server's history.
	Transient bool
	// Level is the badge the icon carries, the same as the tray's.
	Level icons.Level
	// Keys are the devices the message is about (sorted; none for Tell).
	Keys []string
	// Buttons are the labels of "How to fix" and "Fix trust" in the
	// user's language (empty: English).
	Buttons ButtonLabels
}

// Op is one thing for the sender to do: show (or replace) Message in its
// slot, or withdraw the bubble in Slot.
type Op struct {
	Withdraw bool
	Slot     string
	Message  Message
}

// Mode is the user's "Notifications" switch.
type Mode string

// The modes.
const (
	ModeAll      Mode = "all"      // problems, progress and the quiet "ready"
	ModeProblems Mode = "problems" // problems only: a solved one is withdrawn, not praised
	ModeOff      Mode = "off"      // nothing by itself; answers to the user's own clicks still show
)

// Valid reports whether m is one of the modes.
func (m Mode) Valid() bool { return m == ModeAll || m == ModeProblems || m == ModeOff }

// Policy is what the user chose: the mode and the muted phones (by MuteID).
type Policy struct {
	Mode  Mode
	Muted map[string]bool
}

// MuteID is how a phone is muted: its UDID, which survives replugs and
// restarts; "" when the phone has none yet (it cannot be muted then).
func MuteID(d engine.Device) string { return d.UDID }

// Feedback is an answer to a user's click, shown in the phone's bubble.
// Title and Body are message ids, filled with the phone's name ({{.Name}})
// in the Core's language.
type Feedback struct {
	Title, Body string // message ids
	Anchor      string
	Level       icons.Level
}

// FixTrustFeedback is shown when a Fix trust click is not answered by a
// state change within FeedbackGrace.
var FixTrustFeedback = Feedback{
	Title:  "notify.fix_trust_sent.title",
	Body:   "notify.fix_trust_sent.body",
	Anchor: engine.StateTrustPending.Anchor(),
	Level:  icons.Waiting,
}

// ForgottenFeedback is shown after "Forget this computer's pairing".
var ForgottenFeedback = Feedback{
	Title:  "notify.forgotten.title",
	Body:   "notify.forgotten.body",
	Anchor: engine.StateUntrusted.Anchor(),
	Level:  icons.Idle,
}

// device is what the core remembers per Device.Key.
type device struct {
	key, muteID, name string
	cur               engine.State
	present           bool
	goneAt            time.Time
	changedAt         time.Time // when cur was entered

	// This plug only.
	said          engine.State // the state last told ("" none)
	resolvedFrom  engine.State // the problem a ready line resolves
	heldProblem   bool         // a problem was due but held (storm limit)
	readyThisPlug bool
	forgotten     bool // the user forgot the pairing: its trust nag is theirs

	// Across plugs, for storms and progress.
	told     engine.State
	toldAt   map[engine.State]time.Time
	poppedAt time.Time // when its last new bubble appeared

	b          *bubble
	clickAt    time.Time
	feedbackAt time.Time // "Check your iPhone" due then, unless answered first
}

// bubble is one notification on screen.
type bubble struct {
	slot     string
	members  []*device // sorted by key
	openedAt time.Time
	sentAt   time.Time // zero: not sent yet
	expires  time.Time // a transient notice is gone by itself then
	dirty    bool      // to be rendered at the next Due
	feedback *Message  // an answer to a click, shown instead of the lines
	// fbState is the phone's state when the answer was shown: a silenced
	// phone's answer is withdrawn once the phone is ready.
	fbState engine.State
}

// Core turns snapshots and the user's clicks into bubble operations: one
// bubble per phone per plug, updated in place as its story moves,
// withdrawn when outdated, with storms limited and progress never held.
// It is pure: time comes in as arguments, and its words come from the
// catalog it was given (SetWords), rendered as it composes each message.
// Not safe for concurrent use.
type Core struct {
	words   catalog.Words
	policy  Policy
	devs    map[string]*device
	bubbles []*bubble
	seq     int
}

// NewCore makes a Core in ModeAll with nothing muted, speaking English.
func NewCore() *Core {
	return &Core{words: say.English, policy: Policy{Mode: ModeAll}, devs: map[string]*device{}}
}

// SetWords sets the language of the messages composed from now on.
func (c *Core) SetWords(w catalog.Words) { c.words = w }

func deviceKey(d engine.Device) string {
	switch {
	case d.Key != "":
		return d.Key
	case d.UDID != "":
		return "udid:" + d.UDID
	}
	return ""
}

// stage orders the states of the trust story: moving to a higher stage is
// a person's progress, told at once.
func stage(s engine.State) int {
	switch s {
	case engine.StateUntrustedLocked:
		return 1
	case engine.StateUntrusted, engine.StateTrustRevoked, engine.StateTrustDenied:
		return 2
	case engine.StateTrustPending:
		return 3
	case engine.StateLocked, engine.StateLockedSinceRestart:
		return 4
	case engine.StateReady:
		return 5
	}
	return 0 // link and computer problems: not a step forward
}

func (c *Core) device(k string) *device {
	d := c.devs[k]
	if d == nil {
		d = &device{key: k, toldAt: map[engine.State]time.Time{}}
		c.devs[k] = d
	}
	return d
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
		d := c.device(k)
		d.name, d.muteID = sd.DisplayName(), MuteID(sd)
		if !d.present {
			// A new plug: its story starts afresh (storm memory stays).
			d.present, d.said, d.resolvedFrom, d.readyThisPlug, d.forgotten = true, "", "", false, false
			d.heldProblem = false
			d.cur, d.changedAt = "", now
		}
		if d.cur != sd.State {
			d.cur, d.changedAt = sd.State, now
			if d.cur.NeedsUser() && d.cur.Known() {
				d.resolvedFrom = d.cur
			}
		}
		switch d.cur {
		case engine.StateReady:
			d.readyThisPlug = true
			d.forgotten = false
		case engine.StateTrustPending:
			d.forgotten = false
		}
	}
	for k, d := range c.devs {
		if seen[k] {
			continue
		}
		if d.present {
			d.present, d.goneAt, d.feedbackAt = false, now, time.Time{}
		} else if d.b == nil && now.Sub(d.goneAt) >= ForgetAfter {
			delete(c.devs, k)
		}
	}
}

// SetPolicy changes the mode and the muted phones; what they silence is
// withdrawn at the next Due.
func (c *Core) SetPolicy(p Policy) {
	if !p.Mode.Valid() {
		p.Mode = ModeAll
	}
	c.policy = p
}

// Policy is the policy in force.
func (c *Core) Policy() Policy { return c.policy }

// FixTrustClicked notes a Fix trust click on key: the state change it
// causes is told at once, and if none is told within FeedbackGrace,
// FixTrustFeedback is.
func (c *Core) FixTrustClicked(key string, now time.Time) {
	if d := c.devs[key]; d != nil && d.present {
		d.clickAt, d.feedbackAt = now, now.Add(FeedbackGrace)
	}
}

// Forgot notes that the user forgot key's pairing: ForgottenFeedback goes
// into its bubble, and the "does not trust this computer" that follows is
// not told (it is the user's own doing).
func (c *Core) Forgot(key string, now time.Time) {
	if d := c.devs[key]; d != nil && d.present {
		d.forgotten = true
		c.Answer(key, ForgottenFeedback, now)
	}
}

// Answer shows f in key's bubble at the next Due: an answer to the user's
// click, shown whatever the mode and mute say. Changes in the next
// ClickWindow are told at once.
func (c *Core) Answer(key string, f Feedback, now time.Time) {
	d := c.devs[key]
	if d == nil || !d.present {
		return
	}
	d.clickAt, d.feedbackAt = now, time.Time{}
	title, body := Text{Title: f.Title, Body: f.Body}.Render(c.words, d.name)
	m := &Message{Title: title, Body: body, Anchor: f.Anchor, Urgency: UrgencyNormal, Level: f.Level, Keys: []string{d.key}}
	b := c.isOpen(d.b, now)
	if b == nil || len(b.members) > 1 {
		// Its own bubble: the others' combined one stays theirs.
		c.leave(d, true)
		b = c.newBubble(now)
		c.join(d, b)
	}
	b.feedback, b.fbState, b.dirty = m, d.cur, true
}

// Closed tells the core that the server closed slot's bubble (expired or
// dismissed): later notices about its phones open a new one.
func (c *Core) Closed(slot string) {
	for _, b := range c.bubbles {
		if b.slot == slot {
			c.drop(b)
			return
		}
	}
}

func (c *Core) suppressed(d *device) bool {
	return c.policy.Mode == ModeOff || (d.muteID != "" && c.policy.Muted[d.muteID])
}

// wants reports whether d's current state should be told at now.
func (c *Core) wants(d *device, now time.Time) bool {
	if !d.present {
		return d.cur == engine.StateUnstable && d.said != engine.StateUnstable && !c.suppressed(d) &&
			now.Before(d.goneAt.Add(UnstableGrace))
	}
	if !d.cur.Final() || d.cur == d.said || c.suppressed(d) {
		return false
	}
	if d.cur == engine.StateReady {
		// Only as the end of a problem of this plug (told, or held by the
		// storm limit), never at plug-in.
		return (d.said.NeedsUser() || (d.said == "" && d.heldProblem)) && c.policy.Mode == ModeAll
	}
	if _, ok := TextFor(d.cur); !ok || !d.cur.NeedsUser() {
		return false
	}
	switch {
	case d.readyThisPlug && (d.cur == engine.StateLocked || d.cur == engine.StateLockedSinceRestart):
		return false // screens lock by themselves: the tray shows it
	case d.forgotten && d.cur.TrustProblem():
		return false // the user's own doing
	}
	return true
}

// leaves reports whether d must leave its bubble, and whether that needs
// the bubble re-rendered (a quiet "ready" line just goes).
func (c *Core) leaves(d *device) (leave, rerender bool) {
	switch {
	case !d.present:
		// A quiet "ready" line and "keeps disconnecting" stay true after
		// the unplug: they just go (the bubble expires by itself).
		return true, d.b.feedback != nil || (d.said != engine.StateReady && d.said != engine.StateUnstable)
	case d.b.feedback != nil:
		// An answer to a click stays until a notice replaces it; for a
		// silenced phone, until the phone is ready.
		return c.suppressed(d) && d.cur == engine.StateReady && d.b.fbState != engine.StateReady, true
	case c.suppressed(d):
		return true, true
	case c.policy.Mode == ModeProblems && d.cur == engine.StateReady:
		return true, true
	}
	return false, false
}

// readyAt is when d's wanted notice may be told, ignoring Settle.
func (c *Core) readyAt(d *device, now time.Time) time.Time {
	at := now
	open := c.isOpen(d.b, now)
	answered := !d.clickAt.IsZero() && now.Before(d.clickAt.Add(ClickWindow))
	toldAt, told := d.toldAt[d.cur]
	repeat := told && now.Before(toldAt.Add(MinInterval))
	// A step forward in the trust story: from a story state (a return from
	// a cable problem is how a loose cable flaps), and in the phone's open
	// bubble unless it repeats a recent notice (a replug cycle).
	progress := stage(d.told) > 0 && stage(d.cur) > stage(d.told) && (open != nil || !repeat)
	if !answered && !progress {
		if repeat {
			at = later(at, toldAt.Add(MinInterval))
		}
		if open == nil && !d.poppedAt.IsZero() {
			at = later(at, d.poppedAt.Add(MinInterval))
		}
	}
	if open != nil && !open.sentAt.IsZero() {
		at = later(at, open.sentAt.Add(UpdateGap))
	}
	return at
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func (c *Core) isOpen(b *bubble, now time.Time) *bubble {
	if b == nil || (!b.expires.IsZero() && !now.Before(b.expires)) {
		return nil
	}
	return b
}

func (c *Core) sortedDevs() []*device {
	out := make([]*device, 0, len(c.devs))
	for _, d := range c.devs {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
	return out
}

// Next is when Due should be called next, asked right after Due(now);
// ok is false when nothing waits.
func (c *Core) Next(now time.Time) (t time.Time, ok bool) {
	consider := func(x time.Time) {
		if !x.IsZero() && (!ok || x.Before(t)) {
			t, ok = x, true
		}
	}
	for _, b := range c.bubbles {
		if b.dirty {
			consider(now)
		}
	}
	for _, d := range c.devs {
		consider(d.feedbackAt)
		if d.b != nil {
			if leave, _ := c.leaves(d); leave {
				consider(now)
				continue
			}
		}
		if !c.wants(d, now) {
			continue
		}
		at := c.readyAt(d, now)
		if c.isOpen(d.b, now) == nil {
			at = later(at, d.changedAt.Add(Settle))
		}
		consider(at)
	}
	return t, ok
}

// Due returns what to do at now: at most one operation per bubble, and
// often several at once (one phone's bubble withdrawn while another's
// opens, two bubbles expiring together), so it stays a list.
func (c *Core) Due(now time.Time) []Op {
	for _, b := range slices.Clone(c.bubbles) {
		if c.isOpen(b, now) == nil {
			c.drop(b) // a quiet notice that expired by itself
		}
	}
	devs := c.sortedDevs()
	for _, d := range devs {
		if d.b == nil {
			continue
		}
		if leave, rerender := c.leaves(d); leave {
			if d.present && !c.suppressed(d) {
				d.said = d.cur // problems only: solved means withdrawn
			}
			c.leave(d, rerender)
		}
	}
	for _, d := range devs {
		if !d.feedbackAt.IsZero() && !now.Before(d.feedbackAt) {
			d.feedbackAt = time.Time{}
			c.Answer(d.key, FixTrustFeedback, now)
		}
	}
	var pops []*device
	batch := false
	for _, d := range devs {
		if !c.wants(d, now) {
			continue
		}
		if c.readyAt(d, now).After(now) {
			d.heldProblem = d.heldProblem || d.cur != engine.StateReady
			continue
		}
		if b := c.isOpen(d.b, now); b != nil {
			c.tell(d, now)
			b.dirty = true
			continue
		}
		pops = append(pops, d)
		if !now.Before(d.changedAt.Add(Settle)) {
			batch = true
		}
	}
	if batch {
		target := c.joinable(now)
		if target == nil {
			target = c.newBubble(now)
		}
		for _, d := range pops {
			c.tell(d, now)
			d.poppedAt = now
			c.join(d, target)
		}
		target.dirty = true
	}
	var ops []Op
	for _, b := range slices.Clone(c.bubbles) {
		if b.dirty {
			if op, ok := c.render(b, now); ok {
				ops = append(ops, op)
			}
		}
	}
	return ops
}

// joinable is a bubble that appeared less than JoinWindow ago and holds
// state lines (not an answer to a click): phones plugged in together.
func (c *Core) joinable(now time.Time) *bubble {
	for i := len(c.bubbles) - 1; i >= 0; i-- {
		b := c.bubbles[i]
		if b.feedback == nil && len(b.members) > 0 && c.isOpen(b, now) != nil && now.Sub(b.openedAt) < JoinWindow {
			return b
		}
	}
	return nil
}

func (c *Core) tell(d *device, now time.Time) {
	d.said, d.told, d.toldAt[d.cur] = d.cur, d.cur, now
	d.feedbackAt = time.Time{} // the change answers a click
	if d.b != nil && d.b.feedback != nil {
		d.b.feedback = nil
	}
}

func (c *Core) newBubble(now time.Time) *bubble {
	c.seq++
	b := &bubble{slot: fmt.Sprintf("b%d", c.seq), openedAt: now}
	c.bubbles = append(c.bubbles, b)
	return b
}

func (c *Core) join(d *device, b *bubble) {
	if d.b == b {
		return
	}
	c.leave(d, true)
	d.b = b
	b.members = append(b.members, d)
	sort.Slice(b.members, func(i, j int) bool { return b.members[i].key < b.members[j].key })
}

// leave takes d out of its bubble; rerender marks the bubble for the
// next Due (an emptied one is withdrawn then). A bubble left without a
// re-render and without members is forgotten at once.
func (c *Core) leave(d *device, rerender bool) {
	b := d.b
	if b == nil {
		return
	}
	d.b = nil
	b.members = slices.DeleteFunc(b.members, func(m *device) bool { return m == d })
	if len(b.members) == 0 {
		b.feedback = nil
	}
	if rerender {
		b.dirty = true
	} else if len(b.members) == 0 {
		c.drop(b)
	}
}

// drop forgets a bubble the server no longer shows.
func (c *Core) drop(b *bubble) {
	for _, m := range b.members {
		m.b = nil
	}
	b.members, b.feedback = nil, nil
	c.bubbles = slices.DeleteFunc(c.bubbles, func(x *bubble) bool { return x == b })
}

// render is b's message now, or its withdrawal when it has nothing left
// to say. ok is false when there is nothing to do (never shown, now empty).
func (c *Core) render(b *bubble, now time.Time) (Op, bool) {
	b.dirty = false
	if len(b.members) == 0 {
		c.drop(b)
		if b.sentAt.IsZero() {
			return Op{}, false
		}
		return Op{Withdraw: true, Slot: b.slot}, true
	}
	var m Message
	if b.feedback != nil {
		m = *b.feedback
	} else {
		m = c.combine(b.members)
	}
	m.Slot, m.Buttons = b.slot, Buttons(c.words)
	b.sentAt, b.expires = now, time.Time{}
	if m.Transient {
		b.expires = now.Add(QuietExpire)
	}
	return Op{Slot: b.slot, Message: m}, true
}

// lineText is what a member's line says on its own.
func lineText(d *device) Text {
	if d.said == engine.StateReady {
		return ResolvedText(d.resolvedFrom)
	}
	t, _ := TextFor(d.said)
	return t
}

func worst(ms []*device) icons.Level {
	lv := icons.OK
	for _, d := range ms {
		if l := icons.StateLevel(d.said); l > lv {
			lv = l
		}
	}
	return lv
}

func (c *Core) combine(ms []*device) Message {
	w := c.words
	keys := make([]string, len(ms))
	for i, d := range ms {
		keys[i] = d.key
	}
	m := Message{Urgency: UrgencyNormal, Keys: keys, Level: worst(ms)}
	if len(ms) == 1 {
		d := ms[0]
		t := lineText(d)
		m.Title, m.Body = t.Render(w, d.name)
		if d.said == engine.StateReady {
			m.Urgency, m.Transient = UrgencyLow, true
		} else {
			m.Anchor = t.Anchor
		}
		if d.said == engine.StateTrustRevoked || d.said == engine.StateUntrusted {
			m.FixTrust = d.key
		}
		return m
	}
	var problems []*device
	anchors := map[string]bool{}
	for _, d := range ms {
		if d.said != engine.StateReady {
			problems = append(problems, d)
			anchors[lineText(d).Anchor] = true
		}
	}
	switch len(problems) {
	case 0:
		m.Title = w.N("notify.group.ready", len(ms), nil)
		m.Urgency, m.Transient = UrgencyLow, true
	case 1:
		t := lineText(problems[0])
		m.Title, _ = t.Render(w, problems[0].name)
		m.Anchor = t.Anchor
	default:
		m.Title = w.N("notify.group.need_attention", len(problems), nil)
		if len(anchors) == 1 {
			m.Anchor = lineText(problems[0]).Anchor
		} else {
			m.Anchor = "step-1" // mixed problems: the guide from its start
		}
	}
	var b strings.Builder
	for i, d := range ms {
		if i == maxListed {
			b.WriteString(w.N("notify.group.more", len(ms)-maxListed, nil) + "\n")
			break
		}
		b.WriteString(w.T("notify.group.line", map[string]any{"Name": d.name, "State": say.StateWords(w, d.said)}) + "\n")
	}
	if len(problems) > 0 {
		b.WriteString(w.T("notify.group.see_menu", nil))
	}
	m.Body = strings.TrimSuffix(b.String(), "\n")
	return m
}
