package bench

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/trustwatch/trustwatch/internal/sim"
)

const sectionFlap = "5. Flapping"

// flapConfigs are the phones that flap: every state that survives a replug.
var flapConfigs = []sim.DeviceConfig{
	{Trusted: true, Name: "Flap Ready"},
	{Trusted: true, Locked: true, Name: "Flap Locked"},
	{Name: "Flap Pending"},
	{Revoked: true, Name: "Flap Revoked"},
}

type flapRig struct {
	rig   *Rig
	devs  []*sim.Device
	names []string
}

func (b *Bench) newFlapRig(udids []string) (*flapRig, error) {
	rig, err := StartRig()
	if err != nil {
		return nil, err
	}
	f := &flapRig{rig: rig}
	for i, u := range udids {
		cfg := flapConfigs[i%len(flapConfigs)]
		cfg.UDID, cfg.Detached = u, true
		if i >= len(flapConfigs) {
			cfg.Name = fmt.Sprintf("%s %d", cfg.Name, i/len(flapConfigs)+1)
		}
		f.devs = append(f.devs, rig.AddDevice(cfg))
		f.names = append(f.names, cfg.Name)
	}
	return f, nil
}

// flap runs the attach/detach cycles round-robin over the phones.
func (f *flapRig) flap(ctx context.Context, cycles int, gap time.Duration) error {
	for i := 0; i < cycles; i++ {
		d := f.devs[i%len(f.devs)]
		d.Attach()
		if err := sleep(ctx, gap); err != nil {
			return err
		}
		d.Detach()
		if err := sleep(ctx, gap); err != nil {
			return err
		}
	}
	return nil
}

// Flap runs Options.FlapCycles attach/detach cycles and compares
// goroutines, open fds and RSS before and after, and counts the tray's
// notifications.
func (b *Bench) Flap(ctx context.Context) error {
	udids := b.udids.Take(b.opt.FlapDevices)
	if err := WarmKeys(udids); err != nil {
		return err
	}
	var gor, wFD, wRSS, tFD, tRSS, notes, perDev []float64
	var worst string
	for run := 0; run < b.opt.FlapRuns; run++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		fd, rss, err := b.flapChild(ctx, udids, "watch", nil)
		if err != nil {
			return fmt.Errorf("run %d, watch: %w", run, err)
		}
		wFD, wRSS = append(wFD, fd), append(wRSS, rss)
		var calls []Notification
		var names []string
		fd, rss, err = b.flapChild(ctx, udids, "tray", func(c []Notification, n []string) { calls, names = c, n })
		if err != nil {
			return fmt.Errorf("run %d, tray: %w", run, err)
		}
		tFD, tRSS = append(tFD, fd), append(tRSS, rss)
		notes = append(notes, float64(len(calls)))
		m, who := maxPerWindow(calls, names, 30*time.Second)
		perDev = append(perDev, float64(m))
		if m > 1 && worst == "" {
			worst = who
		}
		g, err := b.flapInproc(ctx, udids)
		if err != nil {
			return fmt.Errorf("run %d, in-process: %w", run, err)
		}
		gor = append(gor, g)
	}
	c := fmt.Sprintf("%d cycles over %d phones", b.opt.FlapCycles, b.opt.FlapDevices)
	b.add(Figure{Section: sectionFlap, Name: c + ": goroutine growth (in-process watcher)", Unit: "goroutines", Goal: "0", GoalMax: goal(0), Summary: Summarize(gor)})
	b.add(Figure{Section: sectionFlap, Name: c + ": open fd growth (`watch`)", Unit: "fds", Goal: "0", GoalMax: goal(0), Summary: Summarize(wFD)})
	b.add(Figure{Section: sectionFlap, Name: c + ": open fd growth (tray)", Unit: "fds", Goal: "0", GoalMax: goal(0), Summary: Summarize(tFD)})
	b.add(Figure{Section: sectionFlap, Name: c + ": RSS growth (`watch`)", Unit: "MiB", Goal: "≤ 1 MiB (no growth; GC noise)", GoalMax: goal(1), Summary: Summarize(wRSS)})
	b.add(Figure{Section: sectionFlap, Name: c + ": RSS growth (tray)", Unit: "MiB", Goal: "≤ 1 MiB (no growth; GC noise)", GoalMax: goal(1), Summary: Summarize(tRSS)})
	b.add(Figure{Section: sectionFlap, Name: c + ": notifications sent (tray)", Unit: "calls", Summary: Summarize(notes)})
	b.add(Figure{Section: sectionFlap, Name: c + ": most notifications naming one phone in 30 s", Unit: "calls", Goal: "≤ 1", GoalMax: goal(1), Summary: Summarize(perDev), Note: worst})
	return nil
}

// flapChild flaps against a fresh `watch` or tray and returns the growth
// of open fds and RSS (MiB) from before the flapping to after it settled.
func (b *Bench) flapChild(ctx context.Context, udids []string, kind string, seen func([]Notification, []string)) (float64, float64, error) {
	f, err := b.newFlapRig(udids)
	if err != nil {
		return 0, 0, err
	}
	defer f.rig.Close()
	var child *Child
	var d *desktop
	if kind == "watch" {
		child, err = b.startWatch(f.rig)
	} else {
		if d, err = startDesktop(); err != nil {
			return 0, 0, err
		}
		defer d.Close()
		child, err = b.startTray(f.rig, d)
	}
	if err != nil {
		return 0, 0, err
	}
	defer child.Stop()
	if err := sleep(ctx, b.opt.Settle); err != nil {
		return 0, 0, err
	}
	before, err := ReadProc(child.Pid())
	if err != nil {
		return 0, 0, err
	}
	if d != nil {
		d.n.Reset()
	}
	mark := child.Mark()
	if err := f.flap(ctx, b.opt.FlapCycles, b.opt.FlapGap); err != nil {
		return 0, 0, err
	}
	if kind == "watch" {
		// Every phone must end up reported unplugged.
		for _, u := range udids {
			if err := waitLastDetached(child, mark, u, 10*time.Second); err != nil {
				return 0, 0, err
			}
		}
	}
	// Timers armed during the flapping (coalescing, stability) run out.
	if err := sleep(ctx, b.opt.Settle+2*time.Second); err != nil {
		return 0, 0, err
	}
	if err := child.Alive(); err != nil {
		return 0, 0, err
	}
	after, err := ReadProc(child.Pid())
	if err != nil {
		return 0, 0, err
	}
	if d != nil && seen != nil {
		seen(d.n.Calls(), f.names)
	}
	return float64(after.FDs - before.FDs), float64(after.RSSKB-before.RSSKB) / 1024, nil
}

// waitLastDetached waits until udid's latest line after mark says detached.
func waitLastDetached(c *Child, mark int, udid string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		var last *Line
		for _, l := range c.Lines(mark) {
			if SameUDID(l.UDID, udid) {
				l := l
				last = &l
			}
		}
		if last != nil && last.Detached {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: last line is not detached after %v (%s)", udid, timeout, c.statesOf(mark, udid))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (b *Bench) flapInproc(ctx context.Context, udids []string) (float64, error) {
	f, err := b.newFlapRig(udids)
	if err != nil {
		return 0, err
	}
	defer f.rig.Close()
	p, err := startInproc(f.rig)
	if err != nil {
		return 0, err
	}
	defer p.stop()
	if err := sleep(ctx, b.opt.Settle); err != nil {
		return 0, err
	}
	before := nonSimGoroutines()
	if err := f.flap(ctx, b.opt.FlapCycles, b.opt.FlapGap); err != nil {
		return 0, err
	}
	after := settleGoroutines(before, b.opt.Settle+5*time.Second)
	return float64(after - before), nil
}

// maxPerWindow is the largest number of notifications naming one phone
// within any window-long stretch, and which phone that was.
func maxPerWindow(calls []Notification, names []string, window time.Duration) (int, string) {
	best, who := 0, ""
	for _, name := range names {
		var at []time.Time
		for _, c := range calls {
			if mentions(c.Summary+"\n"+c.Body, name, names) {
				at = append(at, c.At)
			}
		}
		sort.Slice(at, func(i, j int) bool { return at[i].Before(at[j]) })
		for i := range at {
			j := i
			for j < len(at) && at[j].Sub(at[i]) < window {
				j++
			}
			if j-i > best {
				best, who = j-i, name
			}
		}
	}
	return best, who
}

// mentions reports whether text names this phone, not merely a longer name
// that starts with it ("Flap Ready" vs "Flap Ready 2").
func mentions(text, name string, names []string) bool {
	for i := 0; ; {
		j := strings.Index(text[i:], name)
		if j < 0 {
			return false
		}
		end := i + j + len(name)
		longer := false
		for _, other := range names {
			if len(other) > len(name) && strings.HasPrefix(other, name) && strings.HasPrefix(text[i+j:], other) {
				longer = true
			}
		}
		if !longer {
			return true
		}
		i = end
	}
}
