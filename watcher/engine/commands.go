package engine

import "time"

// Command is work the engine asks a shell to do. Results come back as
// events carrying the same Key and Epoch; a result with an older epoch is
// ignored, so a slow answer about a previous plug cannot win.
type Command interface{ command() }

// Target names the device a command is about.
type Target struct {
	Key      string
	Epoch    uint64
	DeviceID int    // usbmuxd DeviceID
	UDID     string // as usbmuxd reports it
}

// PairPolicy says whether a probe may send a Pair request.
type PairPolicy int

const (
	PairNever PairPolicy = iota // --no-pair, or a record is expected
	PairOnce                    // no record: one Pair to learn pending/locked/denied
)

// Probe: diagnose through lockdown. Answer with ProbeDone.
type Probe struct {
	Target
	Pair PairPolicy
	// LockOnly: a re-check of a trusted phone (its lock, after a relayed
	// change or as a backstop): the lock state is all that is asked for,
	// the rest of the last answer stands.
	LockOnly bool
}

// SendPair: send exactly one Pair (the user asked, or the phone was just
// unlocked). ClearStale deletes a stale host record first. Answer: ProbeDone.
type SendPair struct {
	Target
	ClearStale bool
	// AfterUnlock > 0: the automatic Pair sent because the phone was
	// unlocked, the plug's AfterUnlock-th. Like the plug's first Pair it is
	// claimed across trustwatch processes, so an unlock brings one Trust
	// prompt whatever runs. 0: the user asked (Fix trust).
	AfterUnlock int
}

// CompletePair: the user tapped Trust on a dialog trustwatch raised: send
// the same record again, save it through usbmuxd (with DeviceID), probe.
type CompletePair struct{ Target }

// Unpair: forget this computer's pairing on the phone and in usbmuxd, then
// probe without pairing. Answer: ProbeDone.
type Unpair struct{ Target }

// AwaitTrust: watch for the Trust tap (request_pair, or a record appearing,
// polled at most once a second) without sending Pair. Answer: TrustSeen.
type AwaitTrust struct{ Target }

// AwaitUnlock: poll every Every (without Pair) for a locked, untrusted
// phone to be unlocked. A newer AwaitUnlock replaces it (a new pace).
// Answer: Unlocked.
type AwaitUnlock struct {
	Target
	Every time.Duration
}

// FollowLock: hold a lockstate observer on a trusted phone (until
// UnfollowLock, Cancel, or a FollowLock for another DeviceID), re-opened
// with backoff when the phone refuses or drops it. Locked is the lock
// state the engine believes now; the observer reports LockChanged on every
// relayed change, and when what it reads on (re)opening differs.
// Repeating it only updates Locked.
type FollowLock struct {
	Target
	Locked bool
}

// UnfollowLock stops the device's lockstate observer.
type UnfollowLock struct{ Key string }

// Cancel stops all background work for a device (it went away, or its
// state no longer needs it).
type Cancel struct{ Key string }

func (Probe) command()        {}
func (SendPair) command()     {}
func (CompletePair) command() {}
func (Unpair) command()       {}
func (AwaitTrust) command()   {}
func (AwaitUnlock) command()  {}
func (FollowLock) command()   {}
func (UnfollowLock) command() {}
func (Cancel) command()       {}
