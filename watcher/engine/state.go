// Package engine is trustwatch's diagnosis core: a pure state machine that
// turns usbmuxd, USB and probe events into per-device states, and tells the
// shells (lockdown executor, notifier, tray, CLI) what to do next. It does no
// I/O and reads no clock: every input carries the time it happened.
package engine

// State is a device state, spelled exactly as in the contract.
type State string

// The contract's device states.
const (
	StateReady              State = "ready"
	StateLocked             State = "locked"
	StateLockedSinceRestart State = "locked-since-restart"
	StateUntrusted          State = "untrusted"
	StateUntrustedLocked    State = "untrusted-locked"
	StateTrustPending       State = "trust-pending"
	StateTrustDenied        State = "trust-denied"
	StateTrustRevoked       State = "trust-revoked"
	StateNoData             State = "no-data"
	StateUnstable           State = "unstable-connection"
	StateRecovery           State = "recovery-mode"
	StateServiceUnavailable State = "service-unavailable"
	StateProbing            State = "probing"
	StateError              State = "error"
)

// AllStates lists every contract state, in the contract's order.
var AllStates = []State{
	StateReady, StateLocked, StateLockedSinceRestart, StateUntrusted,
	StateUntrustedLocked, StateTrustPending, StateTrustDenied, StateTrustRevoked,
	StateNoData, StateUnstable, StateRecovery, StateServiceUnavailable,
	StateProbing, StateError,
}

// Severity is how much a state asks of the user, lowest first; the tray's
// icon shows the highest of all phones.
type Severity int

const (
	SeverityNone      Severity = iota // no answer yet (probing)
	SeverityOK                        // ready
	SeverityWaiting                   // the phone itself waits for the user's hand (unlock, tap Trust)
	SeverityAttention                 // trust is missing and the phone will not ask by itself
	SeverityProblem                   // cable, driver, recovery, service or a failed check
)

// TrustFix is what "Fix trust" does in a state.
type TrustFix int

const (
	FixOpenGuide   TrustFix = iota // nothing to send: open the state's guide section
	FixPair                        // send one Pair: the phone asks "Trust This Computer?"
	FixPairAfresh                  // forget the stale record first, then Pair (trust was reset)
	FixUnlockFirst                 // the phone must be unlocked first; the question then comes by itself
	FixReplug                      // "Don't Trust" was tapped: only unplugging brings the question back
)

// stateInfo is everything trustwatch knows about a state, in one row: the
// shells (tray, notifications, CLI) ask these facts and only render.
type stateInfo struct {
	anchor       string   // guide anchor (contract table)
	summary      string   // one sentence: what is wrong and what to do
	words        string   // the state in plain words, for menus and lists
	severity     Severity // the tray icon's level
	trustProblem bool     // the phone does not (yet) trust this computer
	holdsPairing bool     // this computer holds a pairing the phone accepts (something to forget)
	fix          TrustFix // what Fix trust does here
}

const (
	trust, noTrust   = true, false
	paired, unpaired = true, false
)

var states = map[State]stateInfo{
	StateReady:              {"verify", "Connected and trusted; ready to sync, back up and copy photos.", "ready", SeverityOK, noTrust, paired, FixOpenGuide},
	StateLocked:             {"issue-locked", "Trusted, but the screen is locked. Unlock your iPhone to use it with this computer.", "locked", SeverityWaiting, noTrust, paired, FixOpenGuide},
	StateLockedSinceRestart: {"issue-locked", "The iPhone restarted and has not been unlocked since. Unlock it once with your passcode.", "locked since restart", SeverityWaiting, noTrust, paired, FixOpenGuide},
	StateUntrusted:          {"step-3", "This computer is not trusted by the iPhone. Unlock it and tap Trust when asked.", "not trusted", SeverityAttention, trust, unpaired, FixPair},
	StateUntrustedLocked:    {"step-1", "Unlock your iPhone so it can ask whether to trust this computer.", "locked, not trusted yet", SeverityWaiting, trust, unpaired, FixUnlockFirst},
	StateTrustPending:       {"step-3", "Tap Trust on your iPhone, then enter its passcode.", "waiting for Trust", SeverityWaiting, trust, unpaired, FixOpenGuide},
	StateTrustDenied:        {"step-2", "\"Don't Trust\" was tapped. Unplug the iPhone and plug it in again to get the question back.", "Don't Trust was tapped", SeverityAttention, trust, unpaired, FixReplug},
	StateTrustRevoked:       {"step-6", "The iPhone no longer trusts this computer (trust was reset). Use Fix trust, then tap Trust on the iPhone.", "trust was reset", SeverityAttention, trust, unpaired, FixPairAfresh},
	StateNoData:             {"issue-cable", "The iPhone is connected for power, but no data link came up. Try a data cable (not charge-only), a port on the computer itself rather than a hub, and unlock the phone.", "charging only, no data", SeverityProblem, noTrust, unpaired, FixOpenGuide},
	StateUnstable:           {"issue-cable", "The connection keeps dropping. Try another cable or another USB port on the computer itself.", "connection keeps dropping", SeverityProblem, noTrust, unpaired, FixOpenGuide},
	StateRecovery:           {"recovery", "The iPhone is in Recovery or DFU mode. Restart it normally, or restore it with Finder, iTunes or Apple Devices.", "in recovery mode", SeverityProblem, noTrust, unpaired, FixOpenGuide},
	StateServiceUnavailable: {"issue-drivers", "The iPhone is on USB, but the Apple device service (usbmuxd) is not running. Install or start it.", "device service missing", SeverityProblem, noTrust, unpaired, FixOpenGuide},
	StateProbing:            {"", "Checking the iPhone…", "checking…", SeverityNone, noTrust, unpaired, FixOpenGuide},
	StateError:              {"issue-not-showing", "trustwatch could not diagnose this iPhone.", "could not be checked", SeverityProblem, noTrust, unpaired, FixOpenGuide},
}

// Anchor is the guide anchor that explains the state ("" for probing).
func (s State) Anchor() string { return states[s].anchor }

// Summary is the state's default one-line advice.
func (s State) Summary() string { return states[s].summary }

// Words is the state in plain words ("waiting for Trust").
func (s State) Words() string {
	if w := states[s].words; w != "" {
		return w
	}
	return string(s)
}

// Known reports whether s is a contract state.
func (s State) Known() bool { _, ok := states[s]; return ok }

// Final reports whether s is an answer rather than work in progress.
func (s State) Final() bool { return s != StateProbing && s != "" }

// NeedsUser reports whether the user has to do something about s.
func (s State) NeedsUser() bool { return s.Final() && s != StateReady }

// Severity is how much s asks of the user (unknown states are problems).
func (s State) Severity() Severity {
	if i, ok := states[s]; ok {
		return i.severity
	}
	if s == "" {
		return SeverityNone
	}
	return SeverityProblem
}

// TrustProblem reports whether s is about the phone not trusting this
// computer (yet): untrusted, untrusted-locked, trust-pending, trust-denied,
// trust-revoked. Fix trust is offered in exactly these.
func (s State) TrustProblem() bool { return states[s].trustProblem }

// HoldsPairing reports whether, in s, this computer holds a pairing the
// phone accepts (ready, locked, locked-since-restart): there is something
// to forget.
func (s State) HoldsPairing() bool { return states[s].holdsPairing }

// TrustFix is what "Fix trust" does in s.
func (s State) TrustFix() TrustFix { return states[s].fix }
