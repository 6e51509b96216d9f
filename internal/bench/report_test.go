package bench

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestVerdicts(t *testing.T) {
	for _, tc := range []struct {
		f    Figure
		want string
	}{
		{Figure{Summary: Summarize([]float64{50, 90, 120}), GoalMax: goal(100)}, "missed"}, // p95 is 120
		{Figure{Summary: Summarize([]float64{50, 90, 99}), GoalMax: goal(100)}, "met"},
		{Figure{Summary: Summarize([]float64{0.01, 9}), Mean: 0.04, GoalMax: goal(0.05), Judge: JudgeMean}, "met"},
		{Figure{Summary: Summarize([]float64{0.01}), Mean: 0.06, GoalMax: goal(0.05), Judge: JudgeMean}, "missed"},
		{Figure{Summary: Summarize([]float64{1})}, "—"},
		{Figure{GoalMax: goal(1)}, "no data"},
	} {
		if got := tc.f.Verdict(); got != tc.want {
			t.Errorf("%+v: verdict %q, want %q", tc.f, got, tc.want)
		}
	}
}

func TestMarkdownRoundTrip(t *testing.T) {
	r := &Results{
		Date: "2026-11-27 10:00 UTC", Machine: Machine{NProc: 2, CPU: "Test CPU", RAM: "1.0 GiB", Kernel: "6.1", GoVersion: "go1.26"},
		LoadBefore: "2.50 1.00 0.50", LoadAfter: "0.10 0.10 0.10", LoadDuring: []string{"0.5 9 9", "3.00 0.1 0.1"},
		Figures: []Figure{
			{Section: sectionAttach, Name: "ready: `watch --json`", Unit: "ms", Goal: "≤ 100 ms", GoalMax: goal(100), Summary: Summarize([]float64{4, 5, 250})},
			{Section: sectionAttach, Name: "ready: trustwatch usbmuxd requests", Unit: "req", Summary: Summarize([]float64{2})},
			{Section: sectionAttach, Name: "pipe | in name", Unit: "req", Summary: Summarize([]float64{2}), Note: "two\nlines"},
			{Section: "3. Idle", Name: "CPU", Unit: "%", Goal: "≤ 0.05 %", GoalMax: goal(0.05), Judge: JudgeMean, Summary: Summarize([]float64{0, 0.2}), Mean: 0.01},
		},
		Errors: []string{"scale: boom"},
		Fuzz: []FuzzRun{
			{Package: "watcher/usbmux", Target: "FuzzReadFrame", FuzzTime: "30s", OK: true},
			{Package: "notify", Target: "FuzzCore", FuzzTime: "30s", Crashers: []string{"/tmp/c/notify/FuzzCore/abc"}},
		},
	}
	path := filepath.Join(t.TempDir(), "r.json")
	if err := r.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := LoadResults(path)
	if err != nil {
		t.Fatal(err)
	}
	if back.Figures[0].Summary.Max != 250 || *back.Figures[0].GoalMax != 100 {
		t.Fatalf("round trip lost numbers: %+v", back.Figures[0])
	}
	var b strings.Builder
	if err := WriteMarkdown(&b, back); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{
		"| CPU | Test CPU |",
		"1 goals met, 1 missed, 1 scenario errors",
		"- 1. Attach → final state — ready: `watch --json`: 250 ms, goal ≤ 100 ms",
		"| ready | 5 / 250 | — | — | 2 + — | — + — |",
		"| ready: `watch --json` | ms | ≤ 100 ms | 5 | 250 | 3 | **missed** |",
		"pipe \\| in name",
		"two lines",
		"window mean 0.01",
		"**new crashers:** /tmp/c/notify/FuzzCore/abc",
		"load average up to 3.00",
		"| highest 1-minute load average seen during the run | 3.00 |",
		"- scale: boom",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "| ") && strings.Count(line, " | ")-strings.Count(line, `\|`) > 8 {
			t.Errorf("table row with too many cells: %s", line)
		}
	}
}
