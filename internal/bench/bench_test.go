package bench

import (
	"os"
	"testing"
	"time"

	"github.com/trustwatch/trustwatch/internal/sim"
)

// BenchmarkBurst64InProcess: 64 phones in mixed states plugged in at once,
// until the in-process watcher has every one in its state (one op = one
// burst). Rig and watcher start outside the timer.
func BenchmarkBurst64InProcess(b *testing.B) {
	var u UDIDs
	udids := u.Take(64)
	if err := WarmKeys(udids); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		rig, err := StartRig()
		if err != nil {
			b.Fatal(err)
		}
		bu := newBurst(udids)
		bu.prepare(rig)
		p, err := startInproc(rig)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		bu.fire(rig)
		if _, err := p.waitStates(bu.want, 20*time.Second); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		p.stop()
		rig.Close()
		b.StartTimer()
	}
}

// BenchmarkAttachReadyInProcess: one trusted phone plugged in until the
// in-process watcher says ready; a fresh phone per op, so no op is taken
// for flapping.
func BenchmarkAttachReadyInProcess(b *testing.B) {
	rig, err := StartRig()
	if err != nil {
		b.Fatal(err)
	}
	defer rig.Close()
	p, err := startInproc(rig)
	if err != nil {
		b.Fatal(err)
	}
	defer p.stop()
	var u UDIDs
	udids := u.Take(b.N)
	if err := WarmKeys(udids); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for _, udid := range udids {
		d := rig.Add(sim.DeviceConfig{Trusted: true}, udid, func() {})
		if _, err := p.waitStates(map[string]string{udid: "ready"}, 10*time.Second); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		d.Detach()
		b.StartTimer()
	}
}

// BenchmarkReadProc is the sampler's own cost, which must stay far below
// its 1 s interval.
func BenchmarkReadProc(b *testing.B) {
	pid := os.Getpid()
	for i := 0; i < b.N; i++ {
		if _, err := ReadProc(pid); err != nil {
			b.Skip(err) // not Linux
		}
	}
}
