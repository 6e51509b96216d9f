package engine

import "testing"

// The facts of each state, written out by hand once more so a changed row
// in the table is a decision, not an accident.
func TestStateFacts(t *testing.T) {
	type facts struct {
		sev     Severity
		trust   bool // TrustProblem
		pairing bool // HoldsPairing
		fix     TrustFix
	}
	want := map[State]facts{
		StateReady:              {SeverityOK, false, true, FixOpenGuide},
		StateLocked:             {SeverityWaiting, false, true, FixOpenGuide},
		StateLockedSinceRestart: {SeverityWaiting, false, true, FixOpenGuide},
		StateUntrusted:          {SeverityAttention, true, false, FixPair},
		StateUntrustedLocked:    {SeverityWaiting, true, false, FixUnlockFirst},
		StateTrustPending:       {SeverityWaiting, true, false, FixOpenGuide},
		StateTrustDenied:        {SeverityAttention, true, false, FixReplug},
		StateTrustRevoked:       {SeverityAttention, true, false, FixPairAfresh},
		StateNoData:             {SeverityProblem, false, false, FixOpenGuide},
		StateUnstable:           {SeverityProblem, false, false, FixOpenGuide},
		StateRecovery:           {SeverityProblem, false, false, FixOpenGuide},
		StateServiceUnavailable: {SeverityProblem, false, false, FixOpenGuide},
		StateProbing:            {SeverityNone, false, false, FixOpenGuide},
		StateError:              {SeverityProblem, false, false, FixOpenGuide},
	}
	if len(want) != len(AllStates) {
		t.Fatalf("%d rows for %d states", len(want), len(AllStates))
	}
	for _, s := range AllStates {
		w := want[s]
		got := facts{s.Severity(), s.TrustProblem(), s.HoldsPairing(), s.TrustFix()}
		if got != w {
			t.Errorf("%s: got %+v, want %+v", s, got, w)
		}
		if s.TrustProblem() && s.HoldsPairing() {
			t.Errorf("%s: a trust problem cannot hold a pairing", s)
		}
	}
	if got := State("no-such-state").Severity(); got != SeverityProblem {
		t.Errorf("unknown state severity %v, want problem", got)
	}
	if got := State("").Severity(); got != SeverityNone {
		t.Errorf("empty state severity %v, want none", got)
	}
}
