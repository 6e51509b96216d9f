package notify

import (
	"fmt"
	"testing"
	"time"

	"github.com/trustwatch/trustwatch/watcher/engine"
)

// FuzzCore drives the Core with arbitrary snapshot sequences (each byte
// pair: a time step, and which of 4 devices are present in which states)
// and checks the promises: per device at least MinInterval between
// notices, never the same state told twice in a row, a ready notice only
// after a problem was told, and at most one message per Due.
func FuzzCore(f *testing.F) {
	f.Add([]byte{0, 0x11, 10, 0x22, 200, 0x00, 3, 0xff})
	f.Add([]byte{1, 0x31, 1, 0x13, 1, 0x31, 1, 0x13, 250, 0x00})
	f.Add([]byte("flap flap flap flap flap flap flap"))
	states := append([]engine.State{"", "bogus"}, engine.AllStates...)
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg := Config{}.withDefaults()
		c := NewCore(cfg)
		now := t0
		lastAt := map[string]time.Time{}
		told := map[string]engine.State{}
		cur := map[string]engine.State{}
		check := func(at time.Time) {
			msgs := c.Due(at)
			if len(msgs) > 1 {
				t.Fatalf("%d messages from one Due", len(msgs))
			}
			for _, m := range msgs {
				if len(m.Keys) == 0 || m.Title == "" {
					t.Fatalf("empty message %+v", m)
				}
				for _, k := range m.Keys {
					if p, ok := lastAt[k]; ok && at.Sub(p) < cfg.MinInterval {
						t.Fatalf("%s told at %v and %v", k, p.Sub(t0), at.Sub(t0))
					}
					s := cur[k]
					if s == told[k] {
						t.Fatalf("%s told %s twice in a row", k, s)
					}
					if s == engine.StateReady && !told[k].NeedsUser() {
						t.Fatalf("%s: ready told after %q", k, told[k])
					}
					if !s.Final() {
						t.Fatalf("%s: told non-final %q", k, s)
					}
					lastAt[k], told[k] = at, s
				}
			}
		}
		for i := 0; i+1 < len(data); i += 2 {
			now = now.Add(time.Duration(data[i]) * 250 * time.Millisecond)
			for next, ok := c.Next(); ok && !next.After(now); next, ok = c.Next() {
				check(next)
			}
			var s engine.Snapshot
			for d := range 4 {
				v := int(data[i+1]>>(2*d)) & 3
				if v == 0 {
					continue // absent
				}
				st := states[(v*7+d*3+i)%len(states)]
				k := fmt.Sprintf("d%d", d)
				s.Devices = append(s.Devices, engine.Device{Key: k, State: st})
			}
			for k := range cur {
				delete(cur, k)
			}
			for _, d := range s.Devices {
				cur[d.Key] = d.State
			}
			c.Observe(s, now)
			check(now)
		}
	})
}
