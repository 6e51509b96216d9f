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
// shells (tray, notifications, CLI) ask these facts and only render. The
// state's words and advice are in the catalog (internal/say), under
// state.<state>.words and state.<state>.summary.
type stateInfo struct {
	anchor       string   // guide anchor (contract table)
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
	StateReady:              {"verify", SeverityOK, noTrust, paired, FixOpenGuide},
	StateLocked:             {"issue-locked", SeverityWaiting, noTrust, paired, FixOpenGuide},
	StateLockedSinceRestart: {"issue-locked", SeverityWaiting, noTrust, paired, FixOpenGuide},
	StateUntrusted:          {"step-3", SeverityAttention, trust, unpaired, FixPair},
	StateUntrustedLocked:    {"step-1", SeverityWaiting, trust, unpaired, FixUnlockFirst},
	StateTrustPending:       {"step-3", SeverityWaiting, trust, unpaired, FixOpenGuide},
	StateTrustDenied:        {"step-2", SeverityAttention, trust, unpaired, FixReplug},
	StateTrustRevoked:       {"step-6", SeverityAttention, trust, unpaired, FixPairAfresh},
	StateNoData:             {"issue-cable", SeverityProblem, noTrust, unpaired, FixOpenGuide},
	StateUnstable:           {"issue-cable", SeverityProblem, noTrust, unpaired, FixOpenGuide},
	StateRecovery:           {"recovery", SeverityProblem, noTrust, unpaired, FixOpenGuide},
	StateServiceUnavailable: {"issue-drivers", SeverityProblem, noTrust, unpaired, FixOpenGuide},
	StateProbing:            {"", SeverityNone, noTrust, unpaired, FixOpenGuide},
	StateError:              {"issue-not-showing", SeverityProblem, noTrust, unpaired, FixOpenGuide},
}

// Anchor is the guide anchor that explains the state ("" for probing).
func (s State) Anchor() string { return states[s].anchor }

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
