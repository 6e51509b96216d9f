package bench

import (
	"testing"
	"time"
)

// TestBurstInProcess runs one phone per state through the real watcher in
// this process: the same path Scale measures, small enough for CI.
func TestBurstInProcess(t *testing.T) {
	var u UDIDs
	udids := u.Take(len(StateConfigs))
	if err := WarmKeys(udids); err != nil {
		t.Fatal(err)
	}
	rig, err := StartRig()
	if err != nil {
		t.Fatal(err)
	}
	defer rig.Close()
	bu := newBurst(udids)
	bu.prepare(rig)
	p, err := startInproc(rig)
	if err != nil {
		t.Fatal(err)
	}
	defer p.stop()
	mux0 := rig.MuxRequests()
	t0 := bu.fire(rig)
	last, err := p.waitStates(bu.want, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if d := last.Sub(t0); d <= 0 || d > 10*time.Second {
		t.Errorf("burst took %v", d)
	}
	if rig.MuxRequests() <= mux0 {
		t.Error("the rig counted no usbmuxd requests")
	}
	for i, d := range bu.devs {
		if LockdownRequests(d) == 0 {
			t.Errorf("%s (%s): no lockdown requests counted", udids[i], bu.want[udids[i]])
		}
	}
	if n := bu.flashes(); n != 0 {
		t.Errorf("%d Trust prompt flashes", n)
	}
	if nonSimGoroutines() < 1 {
		t.Error("goroutine count is broken")
	}
}

func TestUDIDsAreDistinct(t *testing.T) {
	var u UDIDs
	seen := map[string]bool{}
	for _, id := range u.Take(100) {
		if seen[id] || len(id) != 25 {
			t.Fatalf("bad or repeated UDID %q", id)
		}
		seen[id] = true
	}
}

func TestCreatorGrowth(t *testing.T) {
	before := map[string]int{"github.com/trustwatch/trustwatch/watcher.(*Watcher).Run": 2, "main": 1}
	after := map[string]int{"github.com/trustwatch/trustwatch/watcher.(*Watcher).Run": 2, "main": 1,
		"github.com/trustwatch/trustwatch/watcher.(*executor).run": 22, "net/http.x": 3}
	if got := creatorGrowth(before, after); got != "watcher.(*executor).run ×22, net/http.x ×3" {
		t.Errorf("creatorGrowth = %q", got)
	}
	if got := creatorGrowth(after, before); got != "" {
		t.Errorf("shrinking: %q", got)
	}
	if goroutineCreators()["main"] < 1 && len(goroutineCreators()) == 0 {
		t.Error("no goroutines seen")
	}
}
