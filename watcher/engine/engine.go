package engine

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Mode is what a watcher is for.
type Mode int

const (
	// ModeOneShot diagnoses each phone once and stops at its answer
	// (status, and the lookups of fix and forget): no waiting for unlock or
	// Trust, no re-checks, and no pair record is ever saved.
	ModeOneShot Mode = iota
	// ModeFollow keeps watching after the first answer (watch, tray, fix):
	// it waits for unlock and Trust, re-checks locked phones, follows the
	// lock live, and finishes a pairing trustwatch started and the user
	// approved, saving the record through usbmuxd.
	ModeFollow
)

// Config tunes the engine. The zero value is filled with defaults by New.
type Config struct {
	Mode Mode
	// AllowPair lets a probe send one Pair when no record exists, in
	// either mode (false: --no-pair, or fix and forget, which pair only
	// when asked to).
	AllowPair bool
	// NoDataWindow is how long an iPhone may sit on USB without a usbmuxd
	// attach before it is reported as no-data.
	NoDataWindow time.Duration
	// UnstableCycles attaches within UnstableWindow mark a flapping link.
	UnstableCycles int
	UnstableWindow time.Duration
	// StableAfter is how long a flapping device must stay attached before
	// it is diagnosed again.
	StableAfter time.Duration
	// LockedRecheck is how often a trusted, locked phone is re-checked as
	// a backstop to the lockstate relay (an iOS may not relay it); after
	// LockedPatience in that state, or once the phone has relayed a
	// change, every LockedRecheckSlow (a phone left locked on the charger
	// should not cost a probe every few seconds).
	LockedRecheck, LockedRecheckSlow, LockedPatience time.Duration
	// UnlockPoll is how often a locked, untrusted phone is asked whether it
	// can show the Trust prompt yet (nothing reports that unlock) during
	// the first UnlockPatience after the plug, when a person is probably
	// at it; UnlockPollSlow after that.
	UnlockPoll, UnlockPollSlow, UnlockPatience time.Duration
	// ErrorRetry is the pause before re-probing after an error; ErrorRetries caps it.
	ErrorRetry   time.Duration
	ErrorRetries int
	// MuxGrace is how long devices outlive a usbmuxd outage (a restart)
	// before they are dropped or reported as service-unavailable: an
	// outage up to this long is "short", and phones listed again after it
	// keep their state without being announced again.
	MuxGrace time.Duration
	// LooseUSBMatch joins a USB device with a usbmuxd device when nothing
	// identifies them (no serial, LocationIDs in different schemes) and
	// there is only one way to pair them up. Off Linux, USB serials cannot
	// be read without opening the device and usbmuxd's LocationID is not
	// libusb's bus/address, so without it every phone would end as no-data.
	LooseUSBMatch bool
	// Mux is what the words for usbmuxd's state depend on (OS, install
	// command, whether USB is visible): see DescribeMux.
	Mux MuxEnv
}

func (c *Config) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.NoDataWindow, 5*time.Second)
	def(&c.UnstableWindow, 20*time.Second)
	def(&c.StableAfter, 10*time.Second)
	// Each pace is a little under the latency it promises (unlock → ready
	// ≤ 60 s without relays; untrusted unlock → prompt ≤ 1 s, later ≤ 5 s)
	// so that an unlock right after a check, plus the check and the Pair
	// that follow it, still lands inside.
	def(&c.LockedRecheck, 2*time.Second)
	def(&c.LockedRecheckSlow, 55*time.Second)
	def(&c.LockedPatience, 2*time.Minute)
	def(&c.UnlockPoll, 900*time.Millisecond)
	def(&c.UnlockPollSlow, 4500*time.Millisecond)
	def(&c.UnlockPatience, 2*time.Minute)
	def(&c.ErrorRetry, 5*time.Second)
	// systemd restarts a crashed usbmuxd within a second and an upgrade
	// takes a few; 10 s covers both without hiding a daemon that is gone.
	def(&c.MuxGrace, 10*time.Second)
	if c.UnstableCycles <= 0 {
		c.UnstableCycles = 3
	}
	if c.ErrorRetries <= 0 {
		c.ErrorRetries = 2
	}
}

// maxUnlockPairs caps the Pairs sent on unlock per attach: a phone locked
// and unlocked again and again before it shows the prompt is not asked
// forever.
const maxUnlockPairs = 3

// Change is one device's state change (or its removal).
type Change struct {
	Device   Device
	Previous State
	Removed  bool
}

// Output is what one event produced.
type Output struct {
	Commands   []Command
	Changes    []Change
	MuxChanged bool // the usbmuxd reachability or error changed
	// InfoChanged: what a device shows besides its state changed (a name
	// learned, a new summary or detail, USB facts found or lost), so the
	// shells that show it (the tray) re-render even without a Change.
	InfoChanged bool
}

// Engine holds every device's diagnosis. It is not safe for concurrent
// use: one goroutine owns it and feeds it events in order.
type Engine struct {
	cfg      Config
	mux      Usbmux
	muxKnown bool // a MuxUp or MuxDown has been seen
	devs     map[string]*dev
	flaps    map[string][]time.Time // attach times per identity, kept across detaches
	// names remembers what a device called itself for as long as its
	// flapping history is kept, so a replug that is not probed (flapping)
	// is still shown by name.
	names map[string]selfName
	epoch uint64
	out   Output
	// listing collects the devices of a usbmuxd listing that arrives in
	// parts (MuxUp.More), so stale devices are settled once it is whole.
	listing map[string]bool
	// due is the earliest deadline, kept so that events with nothing due
	// do not walk every device.
	due    time.Time
	hasDue bool
	// noUSBOnly: while a listing is handled, no device is known from USB
	// alone, so attaches need not look for one.
	noUSBOnly bool
}

// selfName is what a phone told about itself.
type selfName struct{ name, productType, iosVersion string }

type dev struct {
	Device
	epoch      uint64
	onMux      bool
	stale      bool // usbmuxd went away; waiting for it to list the device again
	staleUntil time.Time
	usb        *USBDevice
	loc        uint32 // usbmuxd LocationID
	ourPair    bool   // the Pair now waiting on the phone was ours
	pairSent   bool   // a Pair reached the dialog logic during this attach
	busy       bool   // a probe/pair/unpair command is outstanding
	unlockPair int    // Pairs sent because the phone was unlocked, this attach
	// fixAsked: the user asked for a Pair (Fix trust) during this attach,
	// so the Pair that follows an unlock is theirs too, even where probes
	// may not pair (trustwatch fix diagnoses without Pair first).
	fixAsked  bool
	errors    int // consecutive error results
	noDataAt  time.Time
	recheckAt time.Time
	stableAt  time.Time
	// Following the lock by event (trusted phones, ModeFollow).
	pluggedAt    time.Time // the usbmuxd attach (untrusted unlock polling slows after a while)
	slowAt       time.Time // when the unlock poll slows down
	following    bool      // a FollowLock is in force
	followLocked bool      // the lock state it was told
	relays       bool      // the phone relayed a lockstate change this attach
	lockDirty    bool      // a change was relayed while a probe ran: check again
}

// New returns an engine with no devices.
func New(cfg Config) *Engine {
	cfg.defaults()
	return &Engine{cfg: cfg, devs: map[string]*dev{}, flaps: map[string][]time.Time{}, names: map[string]selfName{}}
}

// Config returns the engine's effective configuration.
func (e *Engine) Config() Config { return e.cfg }

// Handle applies one event at time now and returns what it caused.
func (e *Engine) Handle(ev Event, now time.Time) Output {
	e.out = Output{}
	switch ev := ev.(type) {
	case MuxUp:
		e.muxUp(ev, now)
	case MuxDown:
		e.muxDown(ev, now)
	case MuxAttached:
		e.attach(ev.Device, now, false)
	case MuxDetached:
		e.detach(ev.DeviceID, now)
	case MuxPaired:
		if d := e.byDeviceID(ev.DeviceID); d != nil {
			e.paired(d, now)
		}
	case USBAdded:
		e.usbAdded(ev.Device, now)
	case USBRemoved:
		e.usbRemoved(ev.Device, now)
	case ProbeDone:
		e.probeDone(ev, now)
	case TrustSeen:
		e.trustSeen(ev, now)
	case Unlocked:
		e.unlocked(ev, now)
	case LockChanged:
		e.lockChanged(ev, now)
	case FixTrust:
		e.fixTrust(ev.Key, now)
	case Forget:
		e.forget(ev.Key, now)
	case Tick:
	}
	ranTimers := e.hasDue && !now.Before(e.due)
	if ranTimers {
		e.timers(now)
	}
	if ranTimers || !quiet(ev, e.out) {
		e.due, e.hasDue = e.nextDeadline()
	}
	out := e.out
	e.out = Output{}
	return out
}

// quiet reports an event that changed nothing: a device usbmuxd reports
// again (Listen's report of every present device after a listing), a
// detach or Paired about nobody, a Tick with nothing due. Only these skip
// the walk over every device for the next deadline, so a burst of them
// costs O(1) each.
func quiet(ev Event, out Output) bool {
	if len(out.Commands) > 0 || len(out.Changes) > 0 || out.MuxChanged {
		return false
	}
	switch ev.(type) {
	case MuxAttached, MuxDetached, MuxPaired, Tick:
		return true
	}
	return false
}

// NextDeadline is when the engine next needs a Tick (ok false: never).
func (e *Engine) NextDeadline() (t time.Time, ok bool) { return e.due, e.hasDue }

func (e *Engine) nextDeadline() (t time.Time, ok bool) {
	consider := func(c time.Time) {
		if !c.IsZero() && (!ok || c.Before(t)) {
			t, ok = c, true
		}
	}
	for _, d := range e.devs {
		consider(d.noDataAt)
		consider(d.recheckAt)
		consider(d.stableAt)
		consider(d.slowAt)
		if d.stale {
			consider(d.staleUntil)
		}
	}
	return t, ok
}

// Snapshot copies the current picture.
func (e *Engine) Snapshot(now time.Time) Snapshot {
	s := Snapshot{Time: now, Usbmux: e.mux, Devices: make([]Device, 0, len(e.devs))}
	for _, d := range e.devs {
		s.Devices = append(s.Devices, d.snapshot())
	}
	if e.muxKnown {
		s.Usbmux.Text = e.muxText()
	}
	sort.Slice(s.Devices, func(i, j int) bool { return s.Devices[i].Key < s.Devices[j].Key })
	return s
}

func (d *dev) snapshot() Device {
	c := d.Device
	if d.usb != nil {
		u := usbInfo(*d.usb)
		c.USB = &u
	}
	return c
}

// --- usbmuxd ---------------------------------------------------------------

func (e *Engine) setMux(m Usbmux) {
	if m != e.mux {
		e.mux = m
		e.out.MuxChanged = true
	}
}

func (e *Engine) muxUp(ev MuxUp, now time.Time) {
	e.muxKnown = true
	e.setMux(Usbmux{Address: ev.Address, Reachable: true, State: MuxRunning})
	if e.listing == nil {
		e.listing = map[string]bool{}
	}
	listed := e.listing
	// Most listings have no USB-only device to join: look once, not once
	// per listed device (attaching never creates one).
	e.noUSBOnly = true
	for _, d := range e.devs {
		if d.usb != nil && !d.onMux {
			e.noUSBOnly = false
			break
		}
	}
	defer func() { e.noUSBOnly = false }()
	for _, md := range ev.Devices {
		listed[NormalizeUDID(md.UDID)] = true
		// A listing after a (re)connect is not a replug: it never counts
		// towards flapping.
		e.attach(md, now, true)
	}
	if ev.More {
		return
	}
	e.listing = nil
	// Devices from before the outage that usbmuxd no longer lists are gone.
	for _, d := range e.sorted() {
		if d.stale && !listed[d.Key] {
			e.muxGone(d, now)
		}
		// A phone that waited for the service gets the usual window for
		// its data link, as if it had just been plugged in.
		if !d.onMux && !d.stale && d.usb != nil && d.usb.Kind == USBMobile && d.usb.DriverProblem.IsZero() && d.State == StateServiceUnavailable {
			e.setState(d, StateProbing, "", now)
			d.noDataAt = now.Add(e.cfg.NoDataWindow)
		}
	}
}

func (e *Engine) muxDown(ev MuxDown, now time.Time) {
	e.muxKnown = true
	e.setMux(Usbmux{Address: ev.Address, Reachable: false, Error: ev.Err, State: ev.State})
	for _, d := range e.sorted() {
		if d.State == StateServiceUnavailable {
			was := d.info()
			d.Advice = e.adviceFor(d, StateServiceUnavailable) // why it is unavailable may have changed
			e.noteInfo(d, was)
		}
		if d.onMux {
			// Keep the device through a usbmuxd restart; if it comes back
			// listed, it is re-checked silently and nobody is told twice.
			d.onMux, d.stale, d.staleUntil = false, true, now.Add(e.cfg.MuxGrace)
			d.busy = false
			e.cmd(Cancel{Key: d.Key})
		} else if d.usb != nil && d.usb.Kind == USBMobile && !d.State.Final() {
			e.setState(d, StateServiceUnavailable, "", now)
			d.noDataAt = time.Time{}
		}
	}
}

// muxGone settles a device that usbmuxd lost for good.
func (e *Engine) muxGone(d *dev, now time.Time) {
	d.stale = false
	d.DeviceID = 0
	if d.usb == nil {
		e.remove(d)
		return
	}
	if e.mux.Reachable {
		d.noDataAt = now.Add(e.cfg.NoDataWindow)
	} else {
		e.setState(d, StateServiceUnavailable, "", now)
	}
}

// attach handles a usbmuxd device; relisted marks one from a listing after
// a (re)connect rather than a Listen event.
func (e *Engine) attach(md MuxDevice, now time.Time, relisted bool) {
	key := NormalizeUDID(md.UDID)
	if key == "" {
		key = fmt.Sprintf("mux:%d", md.DeviceID)
	}
	d := e.devs[key]
	if d == nil {
		d = e.usbOnlyFor(md)
	}
	if d != nil && d.onMux && d.DeviceID == md.DeviceID {
		return // the same attach, reported twice (ListDevices, then Listen)
	}
	silent := d != nil && d.stale && d.State.Final()
	if d == nil {
		d = &dev{Device: Device{Key: key, Connection: "usb"}}
		e.devs[key] = d
	}
	d.onMux, d.stale, d.DeviceID, d.UDID, d.loc = true, false, md.DeviceID, md.UDID, md.LocationID
	d.noDataAt = time.Time{}
	d.following, d.lockDirty = false, false // any observer died with the old connection
	if d.usb == nil {
		if u := e.takeUSBOnly(md, d); u != nil {
			e.setUSB(d, u)
		}
	}
	if silent {
		e.probe(d, now, true)
		return
	}
	d.pairSent, d.ourPair, d.errors, d.unlockPair, d.fixAsked = false, false, 0, 0, false
	d.pluggedAt, d.relays = now, false
	if !relisted && e.flapping(key, now) {
		e.unstable(d, now)
		return
	}
	e.probe(d, now, false)
}

func (e *Engine) detach(id int, now time.Time) {
	d := e.byDeviceID(id)
	if d == nil {
		return
	}
	d.onMux, d.busy = false, false
	d.recheckAt, d.stableAt, d.slowAt = time.Time{}, time.Time{}, time.Time{}
	e.cmd(Cancel{Key: d.Key})
	if d.usb != nil && d.usb.Kind == USBMobile {
		// Still on the bus: usbmuxd lost the data link. If the USB side
		// goes too, the device is removed then.
		d.noDataAt = now.Add(e.cfg.NoDataWindow)
		d.DeviceID = 0
		return
	}
	e.remove(d)
}

func (e *Engine) paired(d *dev, now time.Time) {
	// usbmuxd saw a pairing: worth a look where trust was missing (or the
	// last check failed)
	if d.State.TrustProblem() || d.State == StateError {
		e.probe(d, now, false)
	}
}

// --- USB -------------------------------------------------------------------

func (e *Engine) usbAdded(u USBDevice, now time.Time) {
	if d := e.byUSB(u); d != nil {
		e.usbRefreshed(d, u, now)
		return
	}
	if u.Kind != USBMobile {
		d := &dev{Device: Device{Key: usbKey(u), Connection: "usb"}, usb: &u}
		if u.Serial != "" {
			d.UDID = HyphenateUDID(u.Serial)
		}
		e.devs[d.Key] = d
		e.setState(d, StateRecovery, recoveryDetail(u), now)
		return
	}
	// An iPhone usbmuxd already knows: add the USB facts.
	for _, d := range e.sorted() {
		if d.onMux && d.usb == nil && matchesUSB(d, u) {
			e.setUSB(d, &u)
			return
		}
	}
	if d := e.soleMuxWithoutUSB(); d != nil && u.Serial == "" {
		e.setUSB(d, &u)
		return
	}
	key := usbKey(u)
	d := &dev{Device: Device{Key: key, Connection: "usb"}}
	if u.Serial != "" {
		d.UDID = HyphenateUDID(u.Serial)
	}
	e.setUSB(d, &u)
	e.devs[key] = d
	if e.flapping(key, now) {
		e.unstable(d, now)
		return
	}
	if !u.DriverProblem.IsZero() {
		// usbmuxd can never see it: say so now, not as no-data in 5 s.
		e.setState(d, StateServiceUnavailable, "", now)
		return
	}
	if e.muxKnown && !e.mux.Reachable {
		e.setState(d, StateServiceUnavailable, "", now)
		return
	}
	e.setState(d, StateProbing, "", now)
	d.noDataAt = now.Add(e.cfg.NoDataWindow)
}

// usbRefreshed takes new USB facts about a device already known: on Windows
// its driver problem can appear or go away while it stays plugged in.
func (e *Engine) usbRefreshed(d *dev, u USBDevice, now time.Time) {
	old := d.usb.DriverProblem
	e.setUSB(d, &u) // the speed may have changed too: its hint with it
	if old == u.DriverProblem || d.onMux || d.stale || u.Kind != USBMobile {
		return
	}
	switch {
	case !u.DriverProblem.IsZero():
		d.noDataAt = time.Time{}
		e.setState(d, StateServiceUnavailable, "", now)
	case e.muxKnown && !e.mux.Reachable:
		e.setState(d, StateServiceUnavailable, "", now)
	default:
		// The driver is there now: give usbmuxd the usual time to attach.
		e.setState(d, StateProbing, "", now)
		d.noDataAt = now.Add(e.cfg.NoDataWindow)
	}
}

func (e *Engine) usbRemoved(u USBDevice, now time.Time) {
	d := e.byUSB(u)
	if d == nil {
		return
	}
	e.setUSB(d, nil)
	if !d.onMux {
		e.cmd(Cancel{Key: d.Key})
		e.remove(d)
	}
}

// usbOnlyFor finds the USB-only entry that a usbmuxd attach belongs to, so
// the device keeps one identity from plug to diagnosis.
func (e *Engine) usbOnlyFor(md MuxDevice) *dev {
	if e.noUSBOnly {
		return nil
	}
	// One pass over the map, no sort: this runs for every attach, and a
	// listing of N devices must not cost N sorts. Ties go to the lowest key.
	var match, loose *dev
	looseN := 0
	for _, d := range e.devs {
		if !d.onMux && !d.stale && d.usb != nil && d.usb.Kind == USBMobile {
			if muxMatchesUSB(md, *d.usb) && (match == nil || d.Key < match.Key) {
				match = d
			}
			if d.usb.Serial == "" {
				loose = d
				looseN++
			}
		}
	}
	if match != nil {
		return match
	}
	if e.cfg.LooseUSBMatch && looseN == 1 {
		return loose
	}
	return nil
}

// firstMuxWithoutUSB is, with LooseUSBMatch, the first usbmuxd device (in
// key order) whose USB side is not known yet, however many there are.
func (e *Engine) firstMuxWithoutUSB() *dev {
	if !e.cfg.LooseUSBMatch {
		return nil
	}
	for _, d := range e.sorted() {
		if d.onMux && d.usb == nil {
			return d
		}
	}
	return nil
}

// soleMuxWithoutUSB is, with LooseUSBMatch, the usbmuxd device whose USB
// side is not known yet when it is the only one (nil when there are none or
// several).
func (e *Engine) soleMuxWithoutUSB() *dev {
	if !e.cfg.LooseUSBMatch {
		return nil
	}
	var found *dev
	for _, d := range e.devs {
		if d.onMux && d.usb == nil {
			if found != nil {
				return nil
			}
			found = d
		}
	}
	return found
}

// takeUSBOnly moves the USB facts of a separate USB-only entry into d.
func (e *Engine) takeUSBOnly(md MuxDevice, d *dev) *USBDevice {
	if e.noUSBOnly {
		return nil
	}
	var found *dev
	for _, o := range e.devs {
		if o != d && !o.onMux && o.usb != nil && o.usb.Kind == USBMobile && muxMatchesUSB(md, *o.usb) && (found == nil || o.Key < found.Key) {
			found = o
		}
	}
	if found == nil {
		return nil
	}
	u := found.usb
	e.remove(found)
	return u
}

func muxMatchesUSB(md MuxDevice, u USBDevice) bool {
	if u.Serial != "" && NormalizeUDID(u.Serial) == NormalizeUDID(md.UDID) {
		return true
	}
	return md.LocationID != 0 && u.Bus != 0 && md.LocationID == u.LocationID()
}

func matchesUSB(d *dev, u USBDevice) bool {
	return muxMatchesUSB(MuxDevice{UDID: d.UDID, LocationID: d.loc}, u)
}

func usbKey(u USBDevice) string {
	if u.Serial != "" && u.Kind == USBMobile {
		return NormalizeUDID(u.Serial)
	}
	return fmt.Sprintf("usb:%d-%d", u.Bus, u.Address)
}

// setUSB takes u as the device's USB side (nil: none known), with the link
// speed hint it implies.
func (e *Engine) setUSB(d *dev, u *USBDevice) {
	was := d.info()
	d.usb, d.LinkSpeed = u, Advice{}
	if u != nil {
		d.LinkSpeed = linkSpeedHint(*u)
	}
	e.noteInfo(d, was)
}

func linkSpeedHint(u USBDevice) Advice {
	if u.SpeedMbps > 0 && u.SpeedMbps < 480 {
		return Advice{ID: "usb.link_slow", Args: Args{Mbps: u.SpeedMbps}}
	}
	return Advice{}
}

func recoveryDetail(u USBDevice) string {
	if u.Kind == USBDFU {
		return fmt.Sprintf("DFU mode (USB product 0x%04x)", u.ProductID)
	}
	return fmt.Sprintf("Recovery mode (USB product 0x%04x)", u.ProductID)
}

// --- results ---------------------------------------------------------------

func (e *Engine) probeDone(ev ProbeDone, now time.Time) {
	d := e.devs[ev.Key]
	if d == nil || ev.Epoch != d.epoch {
		return // about a previous plug, or a device that left
	}
	r := ev.Result
	r.Name, r.ProductType, r.IOSVersion = Clip(r.Name, maxNameLen), Clip(r.ProductType, maxNameLen), Clip(r.IOSVersion, maxNameLen)
	r.Detail = Clip(r.Detail, maxDetailLen)
	d.busy = false
	was := d.info()
	defer e.noteInfo(d, was)
	for _, f := range []struct {
		dst *string
		v   string
	}{{&d.Name, r.Name}, {&d.ProductType, r.ProductType}, {&d.IOSVersion, r.IOSVersion}} {
		if f.v != "" {
			*f.dst = f.v
		}
	}
	if r.PairReached {
		d.pairSent, d.ourPair = true, r.OurPair
	}
	if r.State == StateError {
		d.errors++
	} else {
		d.errors = 0
	}
	e.setStateWhy(d, r.State, r.Detail, r.Lockdown, now)
	if e.cfg.Mode != ModeFollow {
		return
	}
	e.followLock(d)
	switch r.State {
	case StateLocked, StateLockedSinceRestart:
		every := e.cfg.LockedRecheck
		if d.relays || now.Sub(d.Since) >= e.cfg.LockedPatience {
			every = e.cfg.LockedRecheckSlow
		}
		d.recheckAt = now.Add(every)
	case StateUntrustedLocked:
		e.awaitUnlock(d, now)
	case StateTrustPending, StateUntrusted:
		e.cmd(AwaitTrust{Target: d.target()})
	case StateError:
		if d.errors <= e.cfg.ErrorRetries {
			d.recheckAt = now.Add(e.cfg.ErrorRetry)
		}
	}
	if d.lockDirty {
		d.lockDirty = false
		if d.following {
			e.probe(d, now, true) // this result may predate the change
		}
	}
}

// followLock keeps a lockstate observer on trusted phones that a session
// reaches (ready, locked), so locked ⇄ ready is followed live, and drops it
// in any other state.
func (e *Engine) followLock(d *dev) {
	switch d.State {
	case StateReady, StateLocked:
		locked := d.State == StateLocked
		if !d.following || d.followLocked != locked {
			d.following, d.followLocked = true, locked
			e.cmd(FollowLock{Target: d.target(), Locked: locked})
		}
	default:
		if d.following {
			d.following = false
			e.cmd(UnfollowLock{Key: d.Key})
		}
	}
}

// lockChanged: the observer saw the lock change (or could not tell): read
// the lock state again, silently.
func (e *Engine) lockChanged(ev LockChanged, now time.Time) {
	d := e.devs[ev.Key]
	if d == nil || !d.onMux || d.DeviceID != ev.DeviceID || !d.following {
		return
	}
	if ev.Relayed {
		d.relays = true
	}
	if d.busy {
		d.lockDirty = true
		return
	}
	e.probe(d, now, true)
}

// awaitUnlock starts (or re-paces) the poll of a locked, untrusted phone.
func (e *Engine) awaitUnlock(d *dev, now time.Time) {
	every := e.cfg.UnlockPoll
	d.slowAt = time.Time{}
	if slow := d.pluggedAt.Add(e.cfg.UnlockPatience); now.Before(slow) {
		d.slowAt = slow
	} else {
		every = e.cfg.UnlockPollSlow
	}
	e.cmd(AwaitUnlock{Target: d.target(), Every: every})
}

func (e *Engine) trustSeen(ev TrustSeen, now time.Time) {
	d := e.devs[ev.Key]
	if d == nil || ev.Epoch != d.epoch || !d.onMux {
		return
	}
	if ev.Via == ViaRequestPair && d.ourPair && e.cfg.Mode == ModeFollow {
		e.bump(d)
		d.busy = true
		e.setState(d, StateProbing, "", now)
		e.cmd(CompletePair{Target: d.target()})
		return
	}
	e.probe(d, now, false)
}

func (e *Engine) unlocked(ev Unlocked, now time.Time) {
	d := e.devs[ev.Key]
	if d == nil || ev.Epoch != d.epoch || !d.onMux || d.State != StateUntrustedLocked {
		return
	}
	if (!e.cfg.AllowPair && !d.fixAsked) || d.unlockPair >= maxUnlockPairs {
		e.probe(d, now, false)
		return
	}
	// The Pair refused while locked never showed a dialog, so this is the
	// one Pair that brings the Trust prompt up.
	d.unlockPair++
	e.sendPair(d, SendPair{AfterUnlock: d.unlockPair}, now)
}

func (e *Engine) fixTrust(key string, now time.Time) {
	d := e.devs[key]
	if d == nil || !d.onMux || d.busy {
		return
	}
	switch d.State.TrustFix() {
	case FixPair:
		d.fixAsked = true
		e.sendPair(d, SendPair{}, now)
	case FixPairAfresh:
		d.fixAsked = true
		e.sendPair(d, SendPair{ClearStale: true}, now)
	}
}

func (e *Engine) forget(key string, now time.Time) {
	d := e.devs[key]
	if d == nil || !d.onMux || d.busy {
		return
	}
	e.bump(d)
	d.busy = true
	d.pairSent, d.ourPair = false, false
	e.setState(d, StateProbing, "", now)
	e.cmd(Unpair{Target: d.target()})
}

// sendPair sends c (its options; the target is d's, after the bump).
func (e *Engine) sendPair(d *dev, c SendPair, now time.Time) {
	e.bump(d)
	d.busy = true
	e.setState(d, StateProbing, "", now)
	c.Target = d.target()
	e.cmd(c)
}

// --- timers ----------------------------------------------------------------

func (e *Engine) timers(now time.Time) {
	for _, d := range e.sorted() {
		if !d.noDataAt.IsZero() && !now.Before(d.noDataAt) {
			d.noDataAt = time.Time{}
			if o := e.firstMuxWithoutUSB(); o != nil && !d.onMux && d.usb != nil && d.usb.Serial == "" {
				// Several phones arrived together and could not be told
				// apart: a phone usbmuxd talks to is not "no data", so pair
				// this one with a usbmuxd device still lacking its USB side
				// (its bus facts may belong to the other phone).
				e.setUSB(o, d.usb)
				e.remove(d)
				continue
			}
			if !d.onMux && d.usb != nil {
				if e.mux.Reachable {
					e.setState(d, StateNoData, "", now)
				} else {
					e.setState(d, StateServiceUnavailable, "", now)
				}
			}
		}
		if d.stale && !now.Before(d.staleUntil) {
			e.muxGone(d, now)
			if e.devs[d.Key] == nil {
				continue
			}
		}
		if !d.stableAt.IsZero() && !now.Before(d.stableAt) {
			d.stableAt = time.Time{}
			if d.onMux {
				e.probe(d, now, false)
			}
		}
		if !d.slowAt.IsZero() && !now.Before(d.slowAt) {
			d.slowAt = time.Time{}
			if d.onMux && !d.busy && d.State == StateUntrustedLocked {
				e.awaitUnlock(d, now)
			}
		}
		if !d.recheckAt.IsZero() && !now.Before(d.recheckAt) {
			d.recheckAt = time.Time{}
			if d.onMux && !d.busy {
				e.probe(d, now, true)
			}
		}
	}
}

// --- helpers ---------------------------------------------------------------

// probe starts a diagnosis. A silent probe keeps the current state on show
// (a re-check of a locked phone, a device re-listed after a usbmuxd restart).
func (e *Engine) probe(d *dev, now time.Time, silent bool) {
	e.bump(d)
	d.busy = true
	d.recheckAt, d.stableAt, d.slowAt = time.Time{}, time.Time{}, time.Time{}
	if !silent {
		e.setState(d, StateProbing, "", now)
	}
	policy := PairNever
	// One Pair per attach, and only when it can tell something apart.
	if e.cfg.AllowPair && !d.pairSent {
		policy = PairOnce
	}
	lockOnly := silent && (d.State == StateReady || d.State == StateLocked || d.State == StateLockedSinceRestart)
	e.cmd(Probe{Target: d.target(), Pair: policy, LockOnly: lockOnly})
}

func (e *Engine) unstable(d *dev, now time.Time) {
	if n, ok := e.names[d.Key]; ok && d.Name == "" {
		was := d.info()
		d.Name, d.ProductType, d.IOSVersion = n.name, n.productType, n.iosVersion
		e.noteInfo(d, was)
	}
	d.busy = false
	d.stableAt = now.Add(e.cfg.StableAfter)
	if !d.onMux {
		d.stableAt = time.Time{}
		d.noDataAt = time.Time{}
	}
	e.cmd(Cancel{Key: d.Key})
	e.setState(d, StateUnstable, fmt.Sprintf("%d connects within %s", len(e.flaps[d.Key]), e.cfg.UnstableWindow), now)
}

// flapping records an attach of identity key and reports whether the link
// has come up UnstableCycles times within UnstableWindow.
func (e *Engine) flapping(key string, now time.Time) bool {
	kept := e.flaps[key][:0]
	for _, t := range e.flaps[key] {
		if now.Sub(t) < e.cfg.UnstableWindow {
			kept = append(kept, t)
		}
	}
	kept = append(kept, now)
	e.flaps[key] = kept
	// Forget identities that have been quiet for a whole window.
	for k, ts := range e.flaps {
		if len(ts) > 0 && now.Sub(ts[len(ts)-1]) >= e.cfg.UnstableWindow {
			delete(e.flaps, k)
			delete(e.names, k)
		}
	}
	return len(kept) >= e.cfg.UnstableCycles
}

func (e *Engine) bump(d *dev) {
	e.epoch++
	d.epoch = e.epoch
}

func (e *Engine) setState(d *dev, s State, detail string, now time.Time) {
	e.setStateWhy(d, s, detail, "", now)
}

// setStateWhy is setState with the lockdownd error name behind the state.
func (e *Engine) setStateWhy(d *dev, s State, detail, lockdown string, now time.Time) {
	was := d.info()
	d.Detail, d.Lockdown = detail, lockdown
	d.Advice = e.adviceFor(d, s)
	e.noteInfo(d, was)
	d.Guide = s.Anchor()
	if d.State == s {
		return
	}
	prev := d.State
	d.Previous, d.State, d.Since = prev, s, now
	e.out.Changes = append(e.out.Changes, Change{Device: d.snapshot(), Previous: prev})
}

func (e *Engine) remove(d *dev) {
	if d.Name != "" && e.flaps[d.Key] != nil {
		e.names[d.Key] = selfName{d.Name, d.ProductType, d.IOSVersion}
	}
	delete(e.devs, d.Key)
	e.out.Changes = append(e.out.Changes, Change{Device: d.snapshot(), Previous: d.State, Removed: true})
}

func (e *Engine) cmd(c Command) { e.out.Commands = append(e.out.Commands, c) }

// deviceInfo is what the shells show of a device besides its state.
type deviceInfo struct {
	name, productType, iosVersion, detail string
	linkSpeed, advice                     Advice
	usb                                   USBInfo
	onUSB                                 bool
}

func (d *dev) info() deviceInfo {
	i := deviceInfo{name: d.Name, productType: d.ProductType, iosVersion: d.IOSVersion, advice: d.Advice, detail: d.Detail, linkSpeed: d.LinkSpeed}
	if d.usb != nil {
		i.usb, i.onUSB = usbInfo(*d.usb), true
	}
	return i
}

func usbInfo(u USBDevice) USBInfo {
	return USBInfo{Bus: u.Bus, Address: u.Address, ProductID: u.ProductID, SpeedMbps: u.SpeedMbps}
}

// noteInfo sets Output.InfoChanged when d's info differs from was.
func (e *Engine) noteInfo(d *dev, was deviceInfo) {
	if d.info() != was {
		e.out.InfoChanged = true
	}
}

// advice is s's advice; for service-unavailable it says why the service
// cannot be reached and what to do about it.
func (e *Engine) advice(s State) Advice {
	if s == StateServiceUnavailable {
		if t := DescribeMux(e.mux, e.cfg.Mux, true); !t.Device.IsZero() {
			return t.Device
		}
	}
	return StateAdvice(s)
}

// adviceFor is advice for one device: a phone that Windows keeps from
// the Apple service (no driver, problem code 28…) says that instead.
func (e *Engine) adviceFor(d *dev, s State) Advice {
	if s == StateServiceUnavailable && d.usb != nil && !d.usb.DriverProblem.IsZero() {
		return d.usb.DriverProblem
	}
	return e.advice(s)
}

// muxText describes usbmuxd's state for the phones plugged in now: any
// device known while usbmuxd is away is on USB (or was until a moment ago).
func (e *Engine) muxText() MuxText {
	return DescribeMux(e.mux, e.cfg.Mux, len(e.devs) > 0)
}

func (d *dev) target() Target {
	return Target{Key: d.Key, Epoch: d.epoch, DeviceID: d.DeviceID, UDID: d.UDID}
}

func (e *Engine) byDeviceID(id int) *dev {
	for _, d := range e.devs {
		if d.onMux && d.DeviceID == id {
			return d
		}
	}
	return nil
}

func (e *Engine) byUSB(u USBDevice) *dev {
	for _, d := range e.devs {
		if d.usb != nil && d.usb.Bus == u.Bus && d.usb.Address == u.Address {
			return d
		}
	}
	return nil
}

// sorted gives devices in key order, so every run is deterministic.
func (e *Engine) sorted() []*dev {
	ds := make([]*dev, 0, len(e.devs))
	for _, d := range e.devs {
		ds = append(ds, d)
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i].Key < ds[j].Key })
	return ds
}

// NormalizeUDID makes usbmuxd serials (hyphenated) and USB serials
// (plain) comparable.
func NormalizeUDID(s string) string {
	return strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), "-", ""))
}

// HyphenateUDID writes a 24-character USB serial the way usbmuxd reports it.
func HyphenateUDID(s string) string {
	n := NormalizeUDID(s)
	if len(n) == 24 {
		return n[:8] + "-" + n[8:]
	}
	return s
}
