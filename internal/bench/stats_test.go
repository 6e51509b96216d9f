package bench

import "testing"

func TestSummarize(t *testing.T) {
	for _, tc := range []struct {
		in          []float64
		median, p95 float64
	}{
		{[]float64{5}, 5, 5},
		{[]float64{3, 1, 2}, 2, 3},
		{[]float64{4, 1, 3, 2}, 2.5, 4},
		// 20 samples: nearest rank 19 is the 19th smallest, not the maximum.
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 100}, 10.5, 19},
	} {
		s := Summarize(tc.in)
		if s.Median != tc.median || s.P95 != tc.p95 || s.N != len(tc.in) {
			t.Errorf("Summarize(%v) = %+v, want median %v p95 %v", tc.in, s, tc.median, tc.p95)
		}
	}
	if s := Summarize(nil); s.N != 0 {
		t.Errorf("Summarize(nil) = %+v, want N 0", s)
	}
}

func TestSummarizeDoesNotReorderInput(t *testing.T) {
	in := []float64{3, 1, 2}
	Summarize(in)
	if in[0] != 3 || in[1] != 1 || in[2] != 2 {
		t.Errorf("input reordered: %v", in)
	}
}

func TestGist(t *testing.T) {
	out := "ERROR: Device 00008110-00BE7C4000000001 said that the user denied the trust dialog.\nmore\n"
	if g := gist(out, "00008110-00BE7C4000000001"); g != "ERROR: Device … said that the user denied the trust dialog." {
		t.Errorf("gist = %q", g)
	}
}

func TestRatioUsesMediansAndP95s(t *testing.T) {
	f := ratio("ready", Summarize([]float64{10, 20, 30}), Summarize([]float64{100, 200, 300}))
	if f.Median != 0.1 || f.P95 != 0.1 || f.Verdict() != "met" {
		t.Errorf("ratio = %+v, verdict %s", f.Summary, f.Verdict())
	}
	if f := ratio("ready", Summarize(nil), Summarize([]float64{1})); f.Verdict() != "no data" {
		t.Errorf("no samples: verdict %s", f.Verdict())
	}
}
