// Package bench measures trustwatch against the simulator: attach → state
// latency beside libimobiledevice's idevicepair, the Trust tap, idle cost,
// a 64-device burst and attach/detach flapping. cmd/twbench drives it and
// scripts/bench.sh turns the results into docs/BENCH.md.
package bench

import (
	"math"
	"slices"
	"time"
)

// Summary is the distribution of one figure over repeated runs.
type Summary struct {
	N      int     `json:"n"`
	Median float64 `json:"median"`
	P95    float64 `json:"p95"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
}

// Summarize returns median and p95 (nearest rank, so p95 is always a value
// that was measured, never an interpolation past the largest sample).
func Summarize(xs []float64) Summary {
	if len(xs) == 0 {
		return Summary{} // N 0 marks "no data" (JSON has no NaN)
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return Summary{
		N:      len(s),
		Median: median(s),
		P95:    rank(s, 0.95),
		Min:    s[0],
		Max:    s[len(s)-1],
	}
}

func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

// rank is the nearest-rank percentile: the smallest sample with at least
// p of the samples at or below it.
func rank(sorted []float64, p float64) float64 {
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// ms converts a duration to float milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
