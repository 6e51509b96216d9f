package bench

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
)

// Judge says which number a goal is checked against.
type Judge string

const (
	JudgeP95  Judge = "p95"  // the default: p95 over runs must meet the goal
	JudgeMean Judge = "mean" // rates over a window (idle): the window's mean
)

// Figure is one row of docs/BENCH.md.
type Figure struct {
	Section string `json:"section"`
	Name    string `json:"name"`
	Unit    string `json:"unit"`
	// Goal is the goal as people read it ("≤ 100 ms"); Max the number the
	// judged value must not exceed (nil: informational, no goal).
	Goal    string   `json:"goal,omitempty"`
	GoalMax *float64 `json:"goal_max,omitempty"`
	Judge   Judge    `json:"judge,omitempty"`
	Summary
	Mean float64 `json:"mean,omitempty"`
	Note string  `json:"note,omitempty"`
}

// Judged is the value compared with the goal.
func (f Figure) Judged() float64 {
	if f.Judge == JudgeMean {
		return f.Mean
	}
	return f.P95
}

// Verdict is "met", "missed", "—" (no goal) or "no data".
func (f Figure) Verdict() string {
	switch {
	case f.GoalMax == nil:
		return "—"
	case f.N == 0 || math.IsNaN(f.Judged()):
		return "no data"
	case f.Judged() <= *f.GoalMax:
		return "met"
	default:
		return "missed"
	}
}

func goal(v float64) *float64 { return &v }

// Results is everything one bench run measured.
type Results struct {
	Date       string  `json:"date"`
	Quick      bool    `json:"quick"`
	Machine    Machine `json:"machine"`
	LoadBefore string  `json:"load_before"`
	LoadAfter  string  `json:"load_after"`
	// LoadDuring is /proc/loadavg at every scenario's start and end.
	LoadDuring []string `json:"load_during,omitempty"`
	Settings   []string `json:"settings"`
	// Build describes the trustwatch that was measured: commit, and what
	// `trustwatch version` says about its optional parts.
	Build   []string  `json:"build,omitempty"`
	Figures []Figure  `json:"figures"`
	Errors  []string  `json:"errors,omitempty"`
	Notes   []string  `json:"notes,omitempty"`
	Fuzz    []FuzzRun `json:"fuzz,omitempty"`
}

// FuzzRun is one fuzz target's run by scripts/bench.sh.
type FuzzRun struct {
	Package  string   `json:"package"`
	Target   string   `json:"target"`
	FuzzTime string   `json:"fuzztime"`
	OK       bool     `json:"ok"`
	Crashers []string `json:"crashers,omitempty"` // new files under testdata/fuzz
	Detail   string   `json:"detail,omitempty"`
}

// Save writes r as indented JSON.
func (r *Results) Save(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// LoadResults reads what Save wrote.
func LoadResults(path string) (*Results, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Results
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &r, nil
}
