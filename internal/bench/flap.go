package bench

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/trustwatch/trustwatch/internal/sim"
)

const sectionFlap = "6. Flapping"

// flapConfigs are the phones that flap: every state that survives a replug.
var flapConfigs = []sim.DeviceConfig{
	{Trusted: true, Name: "Flap Ready"},
	{Trusted: true, Locked: true, Name: "Flap Locked"},
	{Name: "Flap Pending"},
	{Revoked: true, Name: "Flap Revoked"},
}

// flapAliases lists, per phone, what a notification may call it: its name,
// or before the name is known the UDID-based fallback ("iPhone …000003").
func flapAliases(udids []string) [][]string {
	var out [][]string
	for i, u := range udids {
		out = append(out, []string{flapName(i), "…" + u[len(u)-6:]})
	}
	return out
}

func flapName(i int) string {
	name := flapConfigs[i%len(flapConfigs)].Name
	if i >= len(flapConfigs) {
		name = fmt.Sprintf("%s %d", name, i/len(flapConfigs)+1)
	}
	return name
}

type flapRig struct {
	rig  *Rig
	devs []*sim.Device
}

// newFlapRig starts a simulator with these phones unplugged. It keeps no
// request log: nothing here reads it, and over thousands of cycles it would
// grow the bench's own heap, where the in-process watcher's is measured.
func (b *Bench) newFlapRig(udids []string) (*flapRig, error) {
	rig, err := startRig(sim.Options{RequestLog: -1})
	if err != nil {
		return nil, err
	}
	f := &flapRig{rig: rig}
	for i, u := range udids {
		cfg := flapConfigs[i%len(flapConfigs)]
		cfg.UDID, cfg.Detached, cfg.Name = u, true, flapName(i)
		f.devs = append(f.devs, rig.AddDevice(cfg))
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

// flapResult is what one flapping run against a child process showed.
type flapResult struct {
	fd1, rss1 float64 // growth over the first batch of cycles (fds, MiB)
	rss2      float64 // RSS growth over a second, identical batch (MiB)
	anon1     float64 // the anonymous part of rss1, rss2 (MiB)
	anon2     float64
	calls     []Notification
	states    string // what `watch` printed, by state
}

// Flap runs Options.FlapCycles attach/detach cycles and compares
// goroutines, open fds and RSS before and after, and counts the tray's
// notifications. A second batch follows: RSS that grows again over it is
// a leak, while growth over the first alone is the heap finding its size.
func (b *Bench) Flap(ctx context.Context) error {
	udids := b.udids.Take(b.opt.FlapDevices)
	if err := WarmKeys(udids); err != nil {
		return err
	}
	var gor, heapKiB, heapObjects, wFD, wRSS1, wRSS2, tFD, tRSS1, tRSS2, notes []float64
	var wAnon1, wAnon2, tAnon1, tAnon2, perDev, slowNotes, slowPerDev []float64
	var slowWorst, slowFirst string
	var worst, states, first string
	phones := flapAliases(udids)
	for run := 0; run < b.opt.FlapRuns; run++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		w, err := b.flapChild(ctx, udids, "watch")
		if err != nil {
			return fmt.Errorf("run %d, watch: %w", run, err)
		}
		wFD, wRSS1, wRSS2 = append(wFD, w.fd1), append(wRSS1, w.rss1), append(wRSS2, w.rss2)
		wAnon1, wAnon2 = append(wAnon1, w.anon1), append(wAnon2, w.anon2)
		if states == "" {
			states = w.states
		}
		t, err := b.flapChild(ctx, udids, "tray")
		if err != nil {
			return fmt.Errorf("run %d, tray: %w", run, err)
		}
		tFD, tRSS1, tRSS2 = append(tFD, t.fd1), append(tRSS1, t.rss1), append(tRSS2, t.rss2)
		tAnon1, tAnon2 = append(tAnon1, t.anon1), append(tAnon2, t.anon2)
		notes = append(notes, float64(len(t.calls)))
		if first == "" && len(t.calls) > 0 {
			first = fmt.Sprintf("; first: %q / %q", t.calls[0].Summary, t.calls[0].Body)
		}
		m, who := maxPerWindow(t.calls, phones, 30*time.Second)
		perDev = append(perDev, float64(m))
		if m > 1 && worst == "" {
			worst = who
		}
		if b.opt.SlowFlapCycles > 0 {
			calls, err := b.flapSlowTray(ctx, udids)
			if err != nil {
				return fmt.Errorf("run %d, slow flapping: %w", run, err)
			}
			slowNotes = append(slowNotes, float64(len(calls)))
			m, who := maxPerWindow(calls, phones, 30*time.Second)
			slowPerDev = append(slowPerDev, float64(m))
			if m > 1 && slowWorst == "" {
				slowWorst = who
			}
			if slowFirst == "" && len(calls) > 0 {
				slowFirst = fmt.Sprintf("first: %q", calls[0].Summary)
			}
		}
		g, h, err := b.flapInproc(ctx, udids, b.opt.FlapCycles, b.opt.FlapCycles)
		if err != nil {
			return fmt.Errorf("run %d, in-process: %w", run, err)
		}
		gor = append(gor, float64(g))
		heapKiB, heapObjects = append(heapKiB, float64(h.bytes)/1024), append(heapObjects, float64(h.objects))
	}
	c := fmt.Sprintf("%d cycles over %d phones", b.opt.FlapCycles, b.opt.FlapDevices)
	b.add(Figure{Section: sectionFlap, Name: c + ": goroutine growth (in-process watcher)", Unit: "goroutines", Goal: "0", GoalMax: goal(0), Summary: Summarize(gor)})
	hb, ho := heapBudget(b.opt.FlapCycles)
	b.add(Figure{Section: sectionFlap, Name: c + ": live heap growth, second batch (in-process watcher)", Unit: "KiB",
		Goal: fmt.Sprintf("≤ %.0f KiB (no growth)", float64(hb)/1024), GoalMax: goal(float64(hb) / 1024), Summary: Summarize(heapKiB),
		Note: "configured as `watch --json`; after two full collections, every phone unplugged and every plug's goroutines ended (the leak detector; RSS below also moves with garbage and the scavenger)"})
	b.add(Figure{Section: sectionFlap, Name: c + ": live heap objects growth, second batch (in-process watcher)", Unit: "objects",
		Goal: fmt.Sprintf("≤ %d (no growth)", ho), GoalMax: goal(float64(ho)), Summary: Summarize(heapObjects)})
	b.add(Figure{Section: sectionFlap, Name: c + ": open fd growth (`watch`)", Unit: "fds", Goal: "0", GoalMax: goal(0), Summary: Summarize(wFD)})
	b.add(Figure{Section: sectionFlap, Name: c + ": open fd growth (tray)", Unit: "fds", Goal: "0", GoalMax: goal(0), Summary: Summarize(tFD)})
	b.add(Figure{Section: sectionFlap, Name: c + ": RSS growth, first batch (`watch`)", Unit: "MiB", Summary: Summarize(wRSS1), Note: "includes the heap growing to its working size; " + anonNote(wAnon1)})
	b.add(Figure{Section: sectionFlap, Name: c + ": RSS growth, second batch (`watch`)", Unit: "MiB", Goal: "≤ 0.5 MiB (no growth)", GoalMax: goal(0.5), Summary: Summarize(wRSS2), Note: anonNote(wAnon2)})
	b.add(Figure{Section: sectionFlap, Name: c + ": RSS growth, first batch (tray)", Unit: "MiB", Summary: Summarize(tRSS1), Note: "includes the heap growing to its working size; " + anonNote(tAnon1)})
	b.add(Figure{Section: sectionFlap, Name: c + ": RSS growth, second batch (tray)", Unit: "MiB", Goal: "≤ 0.5 MiB (no growth)", GoalMax: goal(0.5), Summary: Summarize(tRSS2), Note: anonNote(tAnon2)})
	b.add(Figure{Section: sectionFlap, Name: c + ": notifications sent (tray)", Unit: "calls", Summary: Summarize(notes), Note: "`watch` printed " + states + first})
	b.add(Figure{Section: sectionFlap, Name: c + ": most new bubbles naming one phone in 30 s", Unit: "bubbles", Goal: "≤ 1", GoalMax: goal(1), Summary: Summarize(perDev), Note: worst})
	if b.opt.SlowFlapCycles > 0 {
		sc := fmt.Sprintf("slow: %d cycles, %v pauses", b.opt.SlowFlapCycles, b.opt.SlowFlapGap)
		b.add(Figure{Section: sectionFlap, Name: sc + ": notifications sent (tray)", Unit: "calls", Summary: Summarize(slowNotes), Note: slowFirst})
		b.add(Figure{Section: sectionFlap, Name: sc + ": most new bubbles naming one phone in 30 s", Unit: "bubbles", Goal: "≤ 1", GoalMax: goal(1), Summary: Summarize(slowPerDev), Note: slowWorst})
	}
	return nil
}

// flapSlowTray flaps slowly against a fresh tray and returns every Notify
// call from the first attach until the coalescing timers ran out.
func (b *Bench) flapSlowTray(ctx context.Context, udids []string) ([]Notification, error) {
	f, err := b.newFlapRig(udids)
	if err != nil {
		return nil, err
	}
	defer f.rig.Close()
	d, err := startDesktop()
	if err != nil {
		return nil, err
	}
	defer d.Close()
	tray, err := b.startTray(f.rig, d)
	if err != nil {
		return nil, err
	}
	defer tray.Stop()
	if err := sleep(ctx, b.opt.Settle); err != nil {
		return nil, err
	}
	d.n.Reset()
	if err := f.flap(ctx, b.opt.SlowFlapCycles, b.opt.SlowFlapGap); err != nil {
		return nil, err
	}
	if err := sleep(ctx, b.opt.Settle+2*time.Second); err != nil {
		return nil, err
	}
	if err := tray.Alive(); err != nil {
		return nil, err
	}
	return d.n.Calls(), nil
}

// flapChild flaps against a fresh `watch` or tray: a baseline, a batch of
// cycles, a settled sample, a second batch, another settled sample.
func (b *Bench) flapChild(ctx context.Context, udids []string, kind string) (flapResult, error) {
	var r flapResult
	f, err := b.newFlapRig(udids)
	if err != nil {
		return r, err
	}
	defer f.rig.Close()
	var child *Child
	var d *desktop
	if kind == "watch" {
		child, err = b.startWatch(f.rig)
	} else {
		if d, err = startDesktop(); err != nil {
			return r, err
		}
		defer d.Close()
		child, err = b.startTray(f.rig, d)
	}
	if err != nil {
		return r, err
	}
	defer child.Stop()
	if err := sleep(ctx, b.opt.Settle); err != nil {
		return r, err
	}
	if d != nil {
		d.n.Reset()
	}
	mark := child.Mark()
	var samples [3]ProcSample
	for i := range samples {
		if i > 0 {
			if err := f.flap(ctx, b.opt.FlapCycles, b.opt.FlapGap); err != nil {
				return r, err
			}
			if kind == "watch" {
				// Every phone must end up reported unplugged.
				for _, u := range udids {
					if err := waitLastDetached(child, mark, u, 10*time.Second); err != nil {
						return r, err
					}
				}
			}
			// Timers armed during the flapping (coalescing, stability) run out.
			if err := sleep(ctx, b.opt.Settle+2*time.Second); err != nil {
				return r, err
			}
		}
		if err := child.Alive(); err != nil {
			return r, err
		}
		if samples[i], err = ReadProc(child.Pid()); err != nil {
			return r, err
		}
		if i == 1 {
			if d != nil {
				r.calls = d.n.Calls()
			}
			r.states = countStates(child.Lines(mark))
		}
	}
	r.fd1 = float64(samples[1].FDs - samples[0].FDs)
	r.rss1 = float64(samples[1].RSSKB-samples[0].RSSKB) / 1024
	r.rss2 = float64(samples[2].RSSKB-samples[1].RSSKB) / 1024
	r.anon1 = float64(samples[1].AnonKB-samples[0].AnonKB) / 1024
	r.anon2 = float64(samples[2].AnonKB-samples[1].AnonKB) / 1024
	return r, nil
}

// anonNote says how much of an RSS growth was anonymous memory (heap,
// stacks); the rest is file pages, mostly the binary's code and data paged
// in as paths run for the first time, which no leak explains.
func anonNote(anon []float64) string {
	a := Summarize(anon)
	return fmt.Sprintf("anonymous part (RssAnon): %.2f / %.2f MiB", a.Median, a.P95)
}

// countStates summarises watch lines as "ready ×12, detached ×250, …".
func countStates(lines []Line) string {
	m := map[string]int{}
	for _, l := range lines {
		switch {
		case l.Detached:
			m["detached"]++
		case l.State != "":
			m[l.State]++
		}
	}
	if len(m) == 0 {
		return "nothing"
	}
	var parts []string
	for k, v := range m {
		parts = append(parts, fmt.Sprintf("%s ×%d", k, v))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
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

// flapInproc flaps two batches (warm cycles, then cycles) against the real
// watcher in this process, configured as `watch --json`: the goroutines
// left after the first, and the live heap's growth over the second.
func (b *Bench) flapInproc(ctx context.Context, udids []string, warm, cycles int) (int, heapGrowth, error) {
	f, err := b.newFlapRig(udids)
	if err != nil {
		return 0, heapGrowth{}, err
	}
	defer f.rig.Close()
	dir, err := os.MkdirTemp("", "twbench-ledger")
	if err != nil {
		return 0, heapGrowth{}, err
	}
	defer os.RemoveAll(dir)
	tune, err := asWatch(dir)
	if err != nil {
		return 0, heapGrowth{}, err
	}
	p, err := startInproc(f.rig, tune)
	if err != nil {
		return 0, heapGrowth{}, err
	}
	defer p.stop()
	if err := sleep(ctx, b.opt.Settle); err != nil {
		return 0, heapGrowth{}, err
	}
	return f.flapHeap(ctx, p, warm, cycles, b.opt.FlapGap, b.opt.Settle+5*time.Second)
}

// maxPerWindow is the largest number of new bubbles naming one phone (by
// any of its aliases) within any window-long stretch, and which phone. An
// update of a bubble in place (replaces_id) is no new bubble.
func maxPerWindow(calls []Notification, phones [][]string, window time.Duration) (int, string) {
	var all []string
	for _, p := range phones {
		all = append(all, p...)
	}
	best, who := 0, ""
	for _, aliases := range phones {
		var at []time.Time
		for _, c := range calls {
			if c.Replaces != 0 {
				continue
			}
			for _, a := range aliases {
				if mentions(c.Summary+"\n"+c.Body, a, all) {
					at = append(at, c.At)
					break
				}
			}
		}
		sort.Slice(at, func(i, j int) bool { return at[i].Before(at[j]) })
		for i := range at {
			j := i
			for j < len(at) && at[j].Sub(at[i]) < window {
				j++
			}
			if j-i > best {
				best, who = j-i, aliases[0]
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
		longer := false
		for _, other := range names {
			if len(other) > len(name) && strings.HasPrefix(other, name) && strings.HasPrefix(text[i+j:], other) {
				longer = true
			}
		}
		if !longer {
			return true
		}
		i += j + len(name)
	}
}
