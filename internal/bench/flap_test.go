package bench

import (
	"testing"
	"time"
)

func TestMaxPerWindow(t *testing.T) {
	t0 := time.Now()
	names := []string{"Flap Ready", "Flap Ready 2", "Flap Pending"}
	phones := [][]string{{"Flap Ready", "…000001"}, {"Flap Ready 2", "…000005"}, {"Flap Pending", "…000003"}}
	calls := []Notification{
		{At: t0, Summary: "Flap Ready 2 keeps disconnecting"},
		{At: t0.Add(10 * time.Second), Summary: "Flap Ready 2 is locked"},
		{At: t0.Add(50 * time.Second), Summary: "Flap Ready 2 is locked"},
		{At: t0.Add(20 * time.Second), Summary: "iPhone …000003 keeps disconnecting"},
		{At: t0.Add(21 * time.Second), Summary: "iPhone …000003 keeps disconnecting"},
		{At: t0.Add(22 * time.Second), Summary: "iPhone …000003 keeps disconnecting"},
		{At: t0.Add(5 * time.Second), Summary: "2 iPhones need you", Body: "Flap Pending is asking…\nFlap Ready is locked"},
		// updates in place are no new bubbles
		{At: t0.Add(23 * time.Second), Summary: "iPhone …000003 keeps disconnecting", Replaces: 7},
		{At: t0.Add(11 * time.Second), Summary: "Flap Ready 2 is locked", Replaces: 1},
	}
	n, who := maxPerWindow(calls, phones, 30*time.Second)
	// Flap Pending: once by name at 5 s, three times by UDID at 20-22 s.
	if n != 4 || who != "Flap Pending" {
		t.Errorf("maxPerWindow = %d, %q; want 4, Flap Pending", n, who)
	}
	if n, who := maxPerWindow(calls[:3], phones, 30*time.Second); n != 2 || who != "Flap Ready 2" {
		t.Errorf("maxPerWindow = %d, %q; want 2, Flap Ready 2", n, who)
	}
	// "Flap Ready" is named once (in the combined one), not in every
	// "Flap Ready 2" notification.
	if !mentions("x Flap Ready is locked", "Flap Ready", names) || mentions("Flap Ready 2 is locked", "Flap Ready", names) {
		t.Error("mentions confuses a name with a longer one")
	}
	if n, _ := maxPerWindow(nil, phones, 30*time.Second); n != 0 {
		t.Errorf("no calls: %d", n)
	}
}

func TestCountStates(t *testing.T) {
	got := countStates([]Line{{State: "ready"}, {Detached: true}, {State: "ready"}, {}})
	if got != "detached ×1, ready ×2" {
		t.Errorf("countStates = %q", got)
	}
	if countStates(nil) != "nothing" {
		t.Error("empty")
	}
}
