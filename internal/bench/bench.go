package bench

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/trustwatch/trustwatch/internal/privbus"
)

// Options sets what a run measures and how often.
type Options struct {
	TW          string // the trustwatch binary
	IdevicePair string // idevicepair ("" skips the comparison)

	AttachRuns int           // per state
	TrustRuns  int           // Trust tap → ready
	TrustWait  time.Duration // how long the prompt stays up before the tap
	IdleWindow time.Duration
	// WaitSettle is how long a waiting phone waits before its window
	// (the budgets are about the time after the first minutes), and
	// WaitWindow how long its cost is measured.
	WaitSettle, WaitWindow time.Duration
	ScaleDevices           int
	ScaleRuns              int
	FlapCycles             int // attach/detach cycles per flapping run
	FlapDevices            int
	FlapGap                time.Duration // pause after each attach and each detach
	FlapRuns               int
	// SlowFlapCycles at SlowFlapGap: a loose cable rather than a torture
	// test, slow enough for phones to be diagnosed between drops, so the
	// notifier's per-phone rate limit is what gets measured.
	SlowFlapCycles int
	SlowFlapGap    time.Duration

	// Settle is how long a fresh process gets before a baseline is taken.
	Settle time.Duration

	Logf func(format string, args ...any)
}

// Defaults are the full run's settings.
func Defaults() Options {
	return Options{
		AttachRuns: 20, TrustRuns: 20, TrustWait: time.Second,
		IdleWindow: 60 * time.Second,
		WaitSettle: 2 * time.Minute, WaitWindow: 10 * time.Minute,
		ScaleDevices: 64, ScaleRuns: 5,
		FlapCycles: 1000, FlapDevices: 4, FlapGap: 5 * time.Millisecond, FlapRuns: 3,
		SlowFlapCycles: 100, SlowFlapGap: 150 * time.Millisecond,
		Settle: 2 * time.Second,
	}
}

// Quick is the smoke run's settings (--quick).
func Quick() Options {
	o := Defaults()
	o.AttachRuns, o.TrustRuns, o.TrustWait = 5, 5, 300*time.Millisecond
	o.IdleWindow = 5 * time.Second
	o.WaitSettle, o.WaitWindow = 10*time.Second, 20*time.Second
	o.ScaleRuns = 2
	o.FlapCycles, o.FlapRuns = 200, 1
	o.SlowFlapCycles = 40
	o.Settle = time.Second
	return o
}

// Bench runs the scenarios and collects figures and errors.
type Bench struct {
	opt   Options
	udids UDIDs
	res   *Results
}

// New prepares a bench writing into res.
func New(opt Options, res *Results) *Bench {
	if opt.Logf == nil {
		opt.Logf = func(string, ...any) {}
	}
	return &Bench{opt: opt, res: res}
}

func (b *Bench) add(f Figure) { b.res.Figures = append(b.res.Figures, f) }

func (b *Bench) fail(scenario string, err error) {
	b.opt.Logf("%s: %v", scenario, err)
	b.res.Errors = append(b.res.Errors, scenario+": "+err.Error())
}

func (b *Bench) note(format string, args ...any) {
	b.res.Notes = append(b.res.Notes, fmt.Sprintf(format, args...))
}

// Scenario names for --only.
var Scenarios = []string{"attach", "trust", "idle", "waiting", "scale", "flap"}

// Run runs the named scenarios (all when only is empty); a failing
// scenario is recorded and the next one still runs.
func (b *Bench) Run(ctx context.Context, only map[string]bool) {
	run := func(name string, f func(context.Context) error) {
		if len(only) > 0 && !only[name] {
			return
		}
		if ctx.Err() != nil {
			return
		}
		start := time.Now()
		b.res.LoadDuring = append(b.res.LoadDuring, LoadAverage())
		b.opt.Logf("== %s (load %s)", name, LoadAverage())
		if err := f(ctx); err != nil {
			b.fail(name, err)
		}
		b.res.LoadDuring = append(b.res.LoadDuring, LoadAverage())
		b.opt.Logf("== %s done in %v", name, time.Since(start).Round(100*time.Millisecond))
	}
	run("attach", b.Attach)
	run("trust", b.TrustTap)
	run("idle", b.Idle)
	run("waiting", b.Waiting)
	run("scale", b.Scale)
	run("flap", b.Flap)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// startWatch runs `trustwatch watch --json` against rig and waits until it
// says usbmuxd is reachable.
func (b *Bench) startWatch(rig *Rig) (*Child, error) {
	c, err := StartChild(b.opt.TW, []string{"watch", "--json"}, "USBMUXD_SOCKET_ADDRESS="+rig.Address())
	if err != nil {
		return nil, err
	}
	if _, err := c.WaitLine(0, 10*time.Second, func(l Line) bool { return l.Usbmux != nil && l.Usbmux.Reachable }); err != nil {
		c.Stop()
		return nil, fmt.Errorf("watch never reported usbmuxd reachable: %w; stderr: %s", err, tail(c.Stderr(), 1000))
	}
	return c, nil
}

// desktop is a private session bus with the recording notification server.
type desktop struct {
	bus *privbus.Bus
	n   *Notifier
}

func startDesktop() (*desktop, error) {
	bus, err := privbus.Start()
	if err != nil {
		return nil, err
	}
	n, err := StartNotifier(bus.Addr)
	if err != nil {
		bus.Close()
		return nil, err
	}
	return &desktop{bus: bus, n: n}, nil
}

func (d *desktop) Close() {
	d.n.Close()
	d.bus.Close()
}

// startTray runs the tray (`trustwatch --allow-root`) on the desktop's bus
// and waits until it has registered its StatusNotifierItem, i.e. is up.
func (b *Bench) startTray(rig *Rig, d *desktop) (*Child, error) {
	c, err := StartChild(b.opt.TW, []string{"--allow-root"},
		"USBMUXD_SOCKET_ADDRESS="+rig.Address(), "DBUS_SESSION_BUS_ADDRESS="+d.bus.Addr)
	if err != nil {
		return nil, err
	}
	name := fmt.Sprintf("org.kde.StatusNotifierItem-%d-1", c.Pid())
	if err := waitOwner(d.bus.Addr, name, 10*time.Second); err != nil {
		err = errors.Join(err, c.Alive())
		c.Stop()
		return nil, fmt.Errorf("tray did not come up: %w; stderr: %s", err, tail(c.Stderr(), 1000))
	}
	return c, nil
}
