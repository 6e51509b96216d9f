package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/trustwatch/trustwatch/internal/sim"
)

const sectionScale = "5. Scale"

// burst is a set of phones created detached and then plugged in at once.
type burst struct {
	cfgs  []sim.DeviceConfig
	udids []string
	want  map[string]string
	devs  []*sim.Device
}

func newBurst(udids []string) *burst {
	b := &burst{udids: udids, want: map[string]string{}}
	for i, u := range udids {
		sc := StateConfigs[i%len(StateConfigs)]
		cfg := sc.Cfg
		cfg.UDID = u
		cfg.Name = fmt.Sprintf("Bench iPhone %02d", i)
		b.cfgs = append(b.cfgs, cfg)
		b.want[u] = sc.State
	}
	return b
}

// prepare creates every phone that can wait detached (all but Denied).
func (bu *burst) prepare(rig *Rig) {
	bu.devs = make([]*sim.Device, len(bu.cfgs))
	for i, cfg := range bu.cfgs {
		if !cfg.Denied {
			cfg.Detached = true
			bu.devs[i] = rig.AddDevice(cfg)
		}
	}
}

// fire plugs everything in as fast as the simulator takes it.
func (bu *burst) fire(rig *Rig) time.Time {
	t0 := time.Now()
	for i, cfg := range bu.cfgs {
		if cfg.Denied {
			bu.devs[i] = rig.AddDevice(cfg)
		} else {
			bu.devs[i].Attach()
		}
	}
	return t0
}

func (bu *burst) flashes() int {
	n := 0
	for _, d := range bu.devs {
		n += d.Stats().DialogFlashes
	}
	return n
}

// Scale plugs Options.ScaleDevices phones in mixed states in one burst:
// `watch` for the time until all are final and RSS per device, the tray for
// the notifications sent and its RSS, the in-process watcher for goroutines.
func (b *Bench) Scale(ctx context.Context) error {
	n := b.opt.ScaleDevices
	udids := b.udids.Take(n)
	if err := WarmKeys(udids); err != nil {
		return err
	}
	var allFinal, watchRSS, trayRSS, notes, gorPer, inprocFinal, flashes []float64
	var firstNote, creators string
	for run := 0; run < b.opt.ScaleRuns; run++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		// A: watch.
		t, rss, fl, err := b.scaleWatch(ctx, udids)
		if err != nil {
			return fmt.Errorf("run %d, watch: %w", run, err)
		}
		allFinal, watchRSS, flashes = append(allFinal, ms(t)), append(watchRSS, rss), append(flashes, float64(fl))
		// B: tray.
		calls, rss, err := b.scaleTray(ctx, udids, t)
		if err != nil {
			return fmt.Errorf("run %d, tray: %w", run, err)
		}
		trayRSS, notes = append(trayRSS, rss), append(notes, float64(len(calls)))
		if firstNote == "" && len(calls) > 0 {
			firstNote = fmt.Sprintf("first: %q", calls[0].Summary)
		}
		// C: in-process goroutines.
		g, t2, who, err := b.scaleInproc(ctx, udids)
		if err != nil {
			return fmt.Errorf("run %d, in-process: %w", run, err)
		}
		if creators == "" {
			creators = who
		}
		gorPer, inprocFinal = append(gorPer, g), append(inprocFinal, ms(t2))
	}
	dn := fmt.Sprintf("%d devices", n)
	b.add(Figure{Section: sectionScale, Name: dn + ": burst → all final (`watch --json`)", Unit: "ms", Goal: "≤ 2000 ms", GoalMax: goal(2000), Summary: Summarize(allFinal)})
	b.add(Figure{Section: sectionScale, Name: dn + ": burst → all final (in-process watcher)", Unit: "ms", Summary: Summarize(inprocFinal)})
	b.add(Figure{Section: sectionScale, Name: dn + ": notifications sent (tray)", Unit: "calls", Goal: "1", GoalMax: goal(1), Summary: Summarize(notes), Note: firstNote})
	b.add(Figure{Section: sectionScale, Name: dn + ": Trust prompt re-sent (flashes)", Unit: "req", Goal: "0", GoalMax: goal(0), Summary: Summarize(flashes)})
	b.add(Figure{Section: sectionScale, Name: "RSS growth per device (`watch`)", Unit: "KiB", Summary: Summarize(watchRSS)})
	b.add(Figure{Section: sectionScale, Name: "RSS growth per device (tray)", Unit: "KiB", Summary: Summarize(trayRSS)})
	b.add(Figure{Section: sectionScale, Name: "goroutines per device (in-process watcher)", Unit: "goroutines", Summary: Summarize(gorPer),
		Note: "goroutines not in the simulator, after all final minus before; started by " + orDash(creators)})
	return nil
}

func (b *Bench) scaleWatch(ctx context.Context, udids []string) (time.Duration, float64, int, error) {
	rig, err := StartRig()
	if err != nil {
		return 0, 0, 0, err
	}
	defer rig.Close()
	bu := newBurst(udids)
	bu.prepare(rig)
	watch, err := b.startWatch(rig)
	if err != nil {
		return 0, 0, 0, err
	}
	defer watch.Stop()
	if err := sleep(ctx, b.opt.Settle); err != nil {
		return 0, 0, 0, err
	}
	before, err := ReadProc(watch.Pid())
	if err != nil {
		return 0, 0, 0, err
	}
	mark := watch.Mark()
	t0 := bu.fire(rig)
	var last time.Time
	for _, u := range udids {
		l, err := watch.WaitState(mark, u, bu.want[u], 20*time.Second)
		if err != nil {
			return 0, 0, 0, err
		}
		if l.At.After(last) {
			last = l.At
		}
	}
	if err := sleep(ctx, time.Second); err != nil {
		return 0, 0, 0, err
	}
	after, err := ReadProc(watch.Pid())
	if err != nil {
		return 0, 0, 0, err
	}
	return last.Sub(t0), float64(after.RSSKB-before.RSSKB) / float64(len(udids)), bu.flashes(), nil
}

func (b *Bench) scaleTray(ctx context.Context, udids []string, watchTook time.Duration) ([]Notification, float64, error) {
	rig, err := StartRig()
	if err != nil {
		return nil, 0, err
	}
	defer rig.Close()
	d, err := startDesktop()
	if err != nil {
		return nil, 0, err
	}
	defer d.Close()
	bu := newBurst(udids)
	bu.prepare(rig)
	tray, err := b.startTray(rig, d)
	if err != nil {
		return nil, 0, err
	}
	defer tray.Stop()
	if err := sleep(ctx, b.opt.Settle); err != nil {
		return nil, 0, err
	}
	before, err := ReadProc(tray.Pid())
	if err != nil {
		return nil, 0, err
	}
	d.n.Reset()
	bu.fire(rig)
	// The tray prints nothing: give it what `watch` needed, plus the
	// notifier's 1 s coalescing window, plus slack for a slow machine.
	if err := sleep(ctx, watchTook+4*time.Second); err != nil {
		return nil, 0, err
	}
	if err := tray.Alive(); err != nil {
		return nil, 0, err
	}
	after, err := ReadProc(tray.Pid())
	if err != nil {
		return nil, 0, err
	}
	return d.n.Calls(), float64(after.RSSKB-before.RSSKB) / float64(len(udids)), nil
}

func (b *Bench) scaleInproc(ctx context.Context, udids []string) (float64, time.Duration, string, error) {
	rig, err := StartRig()
	if err != nil {
		return 0, 0, "", err
	}
	defer rig.Close()
	bu := newBurst(udids)
	bu.prepare(rig)
	p, err := startInproc(rig)
	if err != nil {
		return 0, 0, "", err
	}
	defer p.stop()
	if err := sleep(ctx, b.opt.Settle); err != nil {
		return 0, 0, "", err
	}
	before := goroutineCreators()
	t0 := bu.fire(rig)
	last, err := p.waitStates(bu.want, 20*time.Second)
	if err != nil {
		return 0, 0, "", err
	}
	// Goroutines that end right after the answer are not per-device cost.
	if err := sleep(ctx, 500*time.Millisecond); err != nil {
		return 0, 0, "", err
	}
	after := goroutineCreators()
	n := 0
	for k, v := range after {
		n += v - before[k]
	}
	for k, v := range before {
		if _, ok := after[k]; !ok {
			n -= v
		}
	}
	return float64(n) / float64(len(udids)), last.Sub(t0), creatorGrowth(before, after), nil
}
