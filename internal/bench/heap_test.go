package bench

import (
	"context"
	"testing"
)

// TestFlapLiveHeap is the flapping scenario in small, measured where a leak
// shows: the live heap of this process, which runs the real watcher as
// `watch --json` configures it (Pair ledger, a JSON line per change). 500
// cycles let the history and the runtime's caches find their size; then
// 1000 more cycles (about 10 s at the bench's 5 ms pauses) may grow it by no
// more than heapBudget (94.5 KiB, 253 objects), where one object kept per
// cycle would be 1000. Both measurements wait until every unplug has been
// reported and every plug's goroutines have ended, then collect twice.
func TestFlapLiveHeap(t *testing.T) {
	if testing.Short() {
		t.Skip("flaps for about 18 s")
	}
	var u UDIDs
	udids := u.Take(len(flapConfigs))
	if err := WarmKeys(udids); err != nil {
		t.Fatal(err)
	}
	const warm, cycles = 500, 1000
	b := New(Defaults(), &Results{}) // the bench's pauses, settling and waits
	gor, g, err := b.flapInproc(context.Background(), udids, warm, cycles)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d cycles: live heap %+d B (%.1f B a cycle), %+d objects; goroutines %+d after the first %d",
		cycles, g.bytes, float64(g.bytes)/cycles, g.objects, gor, warm)
	if gor > 0 {
		t.Errorf("%d goroutines more after %d cycles", gor, warm)
	}
	hb, ho := heapBudget(cycles)
	if g.bytes > hb || g.objects > ho {
		t.Errorf("live heap grew by %d B and %d objects over %d cycles, budget %d B and %d objects: something is kept per cycle",
			g.bytes, g.objects, cycles, hb, ho)
	}
}
