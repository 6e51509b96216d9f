package notify

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/trustwatch/trustwatch/internal/say"
	"github.com/trustwatch/trustwatch/watcher/engine"
)

// FuzzCore drives the Core with arbitrary snapshot sequences and clicks
// (each byte pair: a time step, and which of 4 devices are present in which
// states, or a click) and checks its promises: at most one operation per
// bubble per Due, nothing done to a withdrawn bubble, no message about a
// state in progress, a device's new bubbles at least MinInterval apart
// unless each is a step forward in the trust story or answers a click,
// and Next never asking to be woken in the past.
func FuzzCore(f *testing.F) {
	f.Add([]byte{0, 0x11, 10, 0x22, 200, 0x00, 3, 0xff})
	f.Add([]byte{1, 0x31, 1, 0x13, 1, 0x31, 1, 0x13, 250, 0x00})
	f.Add([]byte("flap flap flap flap flap flap flap"))
	states := append([]engine.State{"", "bogus"}, engine.AllStates...)
	f.Fuzz(func(t *testing.T, data []byte) {
		c := NewCore()
		now := t0
		withdrawn := map[string]bool{}
		shown := map[string]bool{}
		in := map[string]string{}        // device → slot showing it
		news := map[string][]time.Time{} // device → its new bubbles
		clicked := map[string]time.Time{}
		cur := map[string]engine.State{}
		due := func(at time.Time) {
			ops := c.Due(at)
			seen := map[string]bool{}
			for _, op := range ops {
				if op.Slot == "" || seen[op.Slot] || withdrawn[op.Slot] {
					t.Fatalf("%v: bad op %+v (seen %v, withdrawn %v)", at.Sub(t0), op, seen[op.Slot], withdrawn[op.Slot])
				}
				seen[op.Slot] = true
				if op.Withdraw {
					if !shown[op.Slot] {
						t.Fatalf("withdrew %s, never shown", op.Slot)
					}
					withdrawn[op.Slot] = true
					continue
				}
				shown[op.Slot] = true
				m := op.Message
				if m.Title == "" || len(m.Keys) == 0 || m.Slot != op.Slot {
					t.Fatalf("empty message %+v", m)
				}
				if strings.Contains(m.Title+m.Body, say.StateWords(say.English, engine.StateProbing)) {
					t.Fatalf("a state in progress told: %+v", m)
				}
				for _, k := range m.Keys {
					if in[k] == op.Slot {
						continue
					}
					in[k] = op.Slot
					if !clicked[k].IsZero() && at.Sub(clicked[k]) < ClickWindow {
						continue // an answer to a click is no storm
					}
					recent := []time.Time{at}
					for _, p := range news[k] {
						if at.Sub(p) < MinInterval {
							recent = append(recent, p)
						}
					}
					// One, plus at most one per forward stage of the story.
					if len(recent) > 6 {
						t.Fatalf("%s in %d new bubbles within %v: %v", k, len(recent), MinInterval, recent)
					}
					news[k] = recent
				}
			}
			if next, ok := c.Next(at); ok && next.Before(at) {
				t.Fatalf("Next %v before now %v", next.Sub(t0), at.Sub(t0))
			}
		}
		last := now // the time of the last Due, which Next is asked after
		for i := 0; i+1 < len(data); i += 2 {
			now = now.Add(time.Duration(data[i]) * 250 * time.Millisecond)
			for n := 0; ; n++ {
				next, ok := c.Next(last)
				if !ok || next.After(now) {
					break
				}
				if n > 1000 {
					t.Fatal("Next does not advance")
				}
				last = later(last, next)
				due(last)
			}
			last = now
			if data[i+1]&0xf0 == 0xf0 { // a click on device (low bits)
				k := fmt.Sprintf("d%d", data[i+1]&3)
				switch data[i+1] & 0x0c {
				case 0:
					c.FixTrustClicked(k, now)
				case 4:
					c.Forgot(k, now)
				case 8:
					c.SetPolicy(Policy{Mode: ModeProblems, Muted: map[string]bool{k: true}})
				default:
					c.Answer(k, FixTrustFeedback, now)
				}
				clicked[k] = now
				due(now)
				continue
			}
			var s engine.Snapshot
			clear(cur)
			for d := range 4 {
				v := int(data[i+1]>>(2*d)) & 3
				if v == 0 {
					continue // absent
				}
				st := states[(v*7+d*3+i)%len(states)]
				k := fmt.Sprintf("d%d", d)
				s.Devices = append(s.Devices, engine.Device{Key: k, UDID: k, State: st})
				cur[k] = st
			}
			for k := range in {
				if _, ok := cur[k]; !ok {
					delete(in, k)
				}
			}
			c.Observe(s, now)
			due(now)
		}
	})
}
