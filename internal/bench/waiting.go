package bench

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/trustwatch/trustwatch/internal/sim"
)

const sectionWaiting = "4. Waiting"

// A waiting case is `watch` left alone with one phone that waits for the
// user, measured over Options.WaitWindow after
// the first Options.WaitSettle (a person is probably at the phone in the
// first minutes; the budgets are about the hours after). Afterwards the
// user acts, and the bench times the answer.
type waitCase struct {
	label string
	cfg   sim.DeviceConfig
	state string // what `watch` says while it waits
	// connectGoal is the most usbmuxd Connects (new connections to the
	// phone) per minute allowed in the window (0: no goal).
	connectGoal float64
	// check is the phone's request-log entry that marks one check of the
	// lock, to time the user's action right after one ("" : none).
	check string
	// act is what the user does after the window; it returns figures.
	act func(ctx context.Context, r *waitRun) ([]Figure, error)
	// early cases run in the first minutes on purpose (their own settle
	// and window); their cost is shown, not judged.
	early          bool
	window, settle time.Duration
}

const (
	checkLocked   = "lockdown GetValue PasswordProtected"
	checkUnlocked = "lockdown StartService com.apple.mobile.insecure_notification_proxy"
)

// waitRun is one running case.
type waitRun struct {
	b     *Bench
	c     waitCase
	rig   *Rig
	child *Child
	dev   *sim.Device
	udid  string
}

func (b *Bench) waitCases() []waitCase {
	unlockTo := func(state string, goalMs float64, goalText string) func(context.Context, *waitRun) ([]Figure, error) {
		return func(ctx context.Context, r *waitRun) ([]Figure, error) {
			took, err := r.afterCheck(ctx, r.dev.Unlock, state)
			if err != nil {
				return nil, err
			}
			return []Figure{{Section: sectionWaiting, Name: r.c.label + ": unlock right after a check → " + state, Unit: "ms",
				Goal: goalText, GoalMax: goal(goalMs), Summary: Summarize([]float64{ms(took)}),
				Note: "the worst moment to unlock: just after trustwatch looked"}}, nil
		}
	}
	relayed := unlockTo("ready", 1000, "≤ 1 s")
	return []waitCase{
		{label: "locked, trusted (iOS relays lockstate)", cfg: sim.DeviceConfig{Trusted: true, Locked: true}, state: "locked",
			connectGoal: 2, check: checkLocked,
			act: func(ctx context.Context, r *waitRun) ([]Figure, error) {
				figs, err := relayed(ctx, r)
				if err != nil {
					return nil, err
				}
				// And the other way: a ready phone that gets locked.
				mark := r.child.Mark()
				t0 := time.Now()
				r.dev.Lock()
				l, err := r.child.WaitState(mark, r.udid, "locked", 90*time.Second)
				if err != nil {
					return figs, err
				}
				return append(figs, Figure{Section: sectionWaiting, Name: r.c.label + ": ready phone locked → locked", Unit: "ms",
					Goal: "≤ 1 s", GoalMax: goal(1000), Summary: Summarize([]float64{ms(l.At.Sub(t0))})}), nil
			}},
		{label: "locked, trusted (iOS does not relay lockstate)", cfg: sim.DeviceConfig{Trusted: true, Locked: true, NoLockRelay: true}, state: "locked",
			connectGoal: 2, check: checkLocked, act: unlockTo("ready", 60000, "≤ 60 s")},
		{label: "untrusted-locked", cfg: sim.DeviceConfig{Locked: true}, state: "untrusted-locked",
			connectGoal: 12, check: checkUnlocked, act: unlockTo("trust-pending", 5000, "≤ 5 s")},
		{label: "untrusted-locked, first minutes", cfg: sim.DeviceConfig{Locked: true}, state: "untrusted-locked",
			check: checkUnlocked, act: unlockTo("trust-pending", 1000, "≤ 1 s"),
			early: true, settle: 30 * time.Second, window: 30 * time.Second},
		{label: "trust-pending", cfg: sim.DeviceConfig{}, state: "trust-pending"},
	}
}

// Waiting runs every waiting case at once (each is its own `watch` process
// and simulator, so a window costs its length once, not once per case) and
// reports each case's figures in a fixed order.
func (b *Bench) Waiting(ctx context.Context) error {
	cases := b.waitCases()
	udids := b.udids.Take(len(cases))
	if err := WarmKeys(udids); err != nil {
		return err
	}
	figs := make([][]Figure, len(cases))
	errs := make([]error, len(cases))
	var wg sync.WaitGroup
	for i, c := range cases {
		if c.window == 0 {
			c.window = b.opt.WaitWindow
		}
		if c.settle == 0 {
			c.settle = b.opt.WaitSettle
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			figs[i], errs[i] = b.waitOne(ctx, c, udids[i])
		}()
	}
	wg.Wait()
	for i, c := range cases {
		for _, f := range figs[i] {
			b.add(f)
		}
		if errs[i] != nil {
			b.fail("waiting "+c.label, errs[i])
		}
	}
	return ctx.Err()
}

func (b *Bench) waitOne(ctx context.Context, c waitCase, udid string) ([]Figure, error) {
	rig, err := StartRig()
	if err != nil {
		return nil, err
	}
	defer rig.Close()
	r := &waitRun{b: b, c: c, rig: rig, udid: udid}
	child, err := b.startWatch(rig)
	if err != nil {
		return nil, err
	}
	defer child.Stop()
	r.child = child
	mark := child.Mark()
	r.dev = rig.Add(c.cfg, udid, func() {})
	if _, err := child.WaitState(mark, udid, c.state, 10*time.Second); err != nil {
		return nil, err
	}
	b.opt.Logf("waiting: %s: settling %v, then a %v window", c.label, c.settle, c.window)
	if err := sleep(ctx, c.settle); err != nil {
		return nil, err
	}
	connects0, mux0 := rig.MuxStats().Requests["Connect"], rig.MuxRequests()
	checks0, ld0 := r.checks(), 0
	ld0 = LockdownRequests(r.dev)
	s, err := watchProc(ctx, r.child.Pid(), c.window, time.Second, r.child.Alive)
	if err != nil {
		return nil, err
	}
	perMin := time.Minute.Seconds() / s.window.Seconds()
	connects := float64(rig.MuxStats().Requests["Connect"]-connects0) * perMin
	mux := float64(rig.MuxRequests()-mux0) * perMin
	ld := float64(LockdownRequests(r.dev)-ld0) * perMin
	span := fmt.Sprintf("minutes %s–%s", mins(c.settle), mins(c.settle+c.window))
	name := func(what string) string { return fmt.Sprintf("%s, %s: %s", c.label, span, what) }
	cpu := Figure{Section: sectionWaiting, Name: name("CPU"), Unit: "%", Judge: JudgeMean, Summary: Summarize(s.cpuPct), Mean: s.meanCPU,
		Note: fmt.Sprintf("%.2f ms of CPU per minute", s.meanCPU*60/100*1000)}
	wake := Figure{Section: sectionWaiting, Name: name("wakeups"), Unit: "/s", Judge: JudgeMean, Summary: Summarize(s.wakeups), Mean: s.meanWake,
		Note: "voluntary context switches, all threads"}
	if !c.early {
		cpu.Goal, cpu.GoalMax = "≤ 0.05 % (window mean)", goal(0.05)
		wake.Goal, wake.GoalMax = "≤ 1 /s (window mean)", goal(1)
	} else {
		// The first minutes have no budget: they are shown, not judged.
		cpu.Judge, wake.Judge = "", ""
		cpu.Note = fmt.Sprintf("window mean %s %%; %s", num(s.meanCPU), cpu.Note)
		wake.Note = fmt.Sprintf("window mean %s /s; %s", num(s.meanWake), wake.Note)
	}
	if checks := r.checks() - checks0; checks > 0 {
		wake.Note += fmt.Sprintf("; %d checks of the lock, %s wakeups per check", checks, num(s.meanWake*s.window.Seconds()/float64(checks)))
	}
	figs := []Figure{
		{Section: sectionWaiting, Name: name("RSS"), Unit: "MiB", Summary: Summarize(s.rssMB), Note: fmt.Sprintf("%v intervals", time.Second)},
		cpu, wake,
	}
	conn := Figure{Section: sectionWaiting, Name: name("new connections to the phone (usbmuxd Connect)"), Unit: "/min",
		Summary: Summarize([]float64{connects}), Note: fmt.Sprintf("all requests: %s usbmuxd + %s lockdown per minute", num(mux), num(ld))}
	if c.connectGoal > 0 && !c.early {
		conn.Goal, conn.GoalMax = fmt.Sprintf("≤ %s /min", num(c.connectGoal)), goal(c.connectGoal)
	}
	figs = append(figs, conn)
	if c.act != nil {
		more, err := c.act(ctx, r)
		figs = append(figs, more...)
		if err != nil {
			return figs, err
		}
	}
	return figs, nil
}

// checks counts the phone's log entries that mark a check of the lock.
func (r *waitRun) checks() int {
	if r.c.check == "" {
		return 0
	}
	n := 0
	for _, e := range r.dev.Stats().Requests {
		if strings.HasPrefix(e, r.c.check) {
			n++
		}
	}
	return n
}

// afterCheck waits for the next check of the lock, does action at once,
// and returns how long `watch` took to print state.
func (r *waitRun) afterCheck(ctx context.Context, action func(), state string) (time.Duration, error) {
	n := r.checks()
	deadline := time.Now().Add(3 * time.Minute)
	for r.checks() == n {
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("no check of the lock within 3 minutes")
		}
		if err := sleep(ctx, 10*time.Millisecond); err != nil {
			return 0, err
		}
	}
	mark := r.child.Mark()
	t0 := time.Now()
	action()
	l, err := r.child.WaitState(mark, r.udid, state, 3*time.Minute)
	if err != nil {
		return 0, err
	}
	return l.At.Sub(t0), nil
}

func mins(d time.Duration) string {
	if d%time.Minute == 0 {
		return fmt.Sprint(int(d / time.Minute))
	}
	return fmt.Sprintf("%.1f", d.Minutes())
}
