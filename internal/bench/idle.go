package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/trustwatch/trustwatch/internal/sim"
)

const sectionIdle = "3. Idle"

// idleSeries is one process watched over a window, cut into intervals.
type idleSeries struct {
	rssMB, cpuPct, wakeups []float64
	meanCPU, meanWake      float64
	window                 time.Duration
	// requests the phone and usbmuxd saw during the window, per minute
	muxPerMin, ldPerMin float64
	reconnect           time.Duration // no usbmuxd: its socket appearing → reachable
}

// watchProc samples pid every interval for window.
func watchProc(ctx context.Context, pid int, window, interval time.Duration, alive func() error) (idleSeries, error) {
	var s idleSeries
	first, err := ReadProc(pid)
	if err != nil {
		return s, err
	}
	prev := first
	tick := time.NewTicker(interval)
	defer tick.Stop()
	end := time.Now().Add(window)
	for time.Now().Before(end) {
		select {
		case <-ctx.Done():
			return s, ctx.Err()
		case <-tick.C:
		}
		if err := alive(); err != nil {
			return s, err
		}
		cur, err := ReadProc(pid)
		if err != nil {
			return s, err
		}
		dt := cur.At.Sub(prev.At).Seconds()
		s.rssMB = append(s.rssMB, float64(cur.RSSKB)/1024)
		s.cpuPct = append(s.cpuPct, 100*(cur.CPU-prev.CPU).Seconds()/dt)
		s.wakeups = append(s.wakeups, float64(cur.VolCtx-prev.VolCtx)/dt)
		prev = cur
	}
	total := prev.At.Sub(first.At).Seconds()
	if total <= 0 {
		return s, fmt.Errorf("window too short")
	}
	s.window = prev.At.Sub(first.At)
	s.meanCPU = 100 * (prev.CPU - first.CPU).Seconds() / total
	s.meanWake = float64(prev.VolCtx-first.VolCtx) / total
	return s, nil
}

// idleCase is one process and phone to watch idle. Phones that wait for
// the user are section 4 (waiting.go).
type idleCase struct {
	kind  string // "watch" or "tray"
	state string // "" for no phone, noMux for no usbmuxd, else the phone's state (StateConfigs)
}

// idleLeadIn is added to Options.Settle before an idle window: longer than
// the watcher's quick usbmuxd retries (5 s) and its lock observer's delay.
const idleLeadIn = 6 * time.Second

// noMux is the idle case without usbmuxd: its socket file does not exist,
// Linux's normal state while no Apple device is plugged in.
const noMux = "no usbmuxd"

var idleCases = []idleCase{{"watch", ""}, {"watch", "ready"}, {"watch", noMux}, {"tray", ""}, {"tray", "ready"}}

// Idle measures RSS, CPU and wakeups of `watch` and the tray, with no device
// and with one ready device (whose lock trustwatch follows by event), over
// Options.IdleWindow.
func (b *Bench) Idle(ctx context.Context) error {
	udid := b.udids.New()
	if err := WarmKeys([]string{udid}); err != nil {
		return err
	}
	interval := time.Second
	for _, c := range idleCases {
		who := map[string]string{"watch": "`watch`", "tray": "tray"}[c.kind]
		label := who + ", no device"
		switch c.state {
		case "":
		case noMux:
			label = who + ", no usbmuxd running"
		default:
			label = fmt.Sprintf("%s, one %s device", who, c.state)
		}
		s, err := b.idleOne(ctx, c, udid, interval)
		if err != nil {
			b.fail("idle "+label, err)
			if ctx.Err() != nil {
				return ctx.Err()
			}
			continue
		}
		rss := Figure{Section: sectionIdle, Name: label + ": RSS", Unit: "MiB", Summary: Summarize(s.rssMB),
			Note: fmt.Sprintf("%v window, %v intervals", s.window.Round(time.Second), interval)}
		cpu := Figure{Section: sectionIdle, Name: label + ": CPU", Unit: "%", Judge: JudgeMean, Summary: Summarize(s.cpuPct), Mean: s.meanCPU,
			Note: fmt.Sprintf("%.2f ms of CPU per minute", s.meanCPU*60/100*1000)}
		wake := Figure{Section: sectionIdle, Name: label + ": wakeups", Unit: "/s", Judge: JudgeMean, Summary: Summarize(s.wakeups), Mean: s.meanWake,
			Note: "voluntary context switches, all threads"}
		rss.Goal, rss.GoalMax = "≤ 25 MiB", goal(25)
		cpu.Goal, cpu.GoalMax = "≤ 0.05 % (window mean)", goal(0.05)
		wake.Goal, wake.GoalMax = "≤ 0.07 /s (window mean)", goal(0.07)
		b.add(rss)
		b.add(cpu)
		b.add(wake)
		if c.state == noMux {
			if s.reconnect > 0 {
				b.add(Figure{Section: sectionIdle, Name: label + ": socket appears → usbmuxd reachable", Unit: "ms", Goal: "≤ 1 s", GoalMax: goal(1000),
					Summary: Summarize([]float64{ms(s.reconnect)}), Note: "then `watch` says reachable"})
			}
			continue
		}
		b.add(Figure{Section: sectionIdle, Name: label + ": requests to usbmuxd + phone", Unit: "/min", Summary: Summarize([]float64{s.muxPerMin + s.ldPerMin}),
			Note: fmt.Sprintf("%s usbmuxd + %s lockdown per minute, over the window", num(s.muxPerMin), num(s.ldPerMin))})
	}
	return nil
}

func (b *Bench) idleOne(ctx context.Context, c idleCase, udid string, interval time.Duration) (idleSeries, error) {
	rig, err := StartRig()
	if err != nil {
		return idleSeries{}, err
	}
	defer rig.Close()
	var child *Child
	if c.state == noMux {
		rig.Stop()
		if child, err = StartChild(b.opt.TW, []string{"watch", "--json"}, "USBMUXD_SOCKET_ADDRESS="+rig.Address()); err != nil {
			return idleSeries{}, err
		}
		if _, err := child.WaitLine(0, 10*time.Second, func(l Line) bool { return l.Usbmux != nil && !l.Usbmux.Reachable }); err != nil {
			child.Stop()
			return idleSeries{}, fmt.Errorf("watch never reported usbmuxd unreachable: %w", err)
		}
	} else if c.kind == "watch" {
		child, err = b.startWatch(rig)
	} else {
		var d *desktop
		if d, err = startDesktop(); err != nil {
			return idleSeries{}, err
		}
		defer d.Close()
		child, err = b.startTray(rig, d)
	}
	if err != nil {
		return idleSeries{}, err
	}
	defer child.Stop()
	var d *sim.Device
	if c.state != "" && c.state != noMux {
		var cfg sim.DeviceConfig
		for _, sc := range StateConfigs {
			if sc.State == c.state {
				cfg = sc.Cfg
			}
		}
		mark := child.Mark()
		d = rig.Add(cfg, udid, func() {})
		if c.kind == "watch" {
			if _, err := child.WaitState(mark, udid, c.state, 10*time.Second); err != nil {
				return idleSeries{}, err
			}
		} else if err := waitSession(d, 10*time.Second); err != nil {
			return idleSeries{}, fmt.Errorf("tray never probed the device: %w", err)
		}
	}
	// Let start-up work finish before the window: the first GC and lazy
	// inits, a ready phone's lock observer (opened a second after its
	// answer), and without usbmuxd the quick retries of the first 5 s.
	if err := sleep(ctx, b.opt.Settle+idleLeadIn); err != nil {
		return idleSeries{}, err
	}
	b.opt.Logf("idle: %s with %q for %v", c.kind, c.state, b.opt.IdleWindow)
	mux0, ld0 := rig.MuxRequests(), 0
	if d != nil {
		ld0 = LockdownRequests(d)
	}
	s, err := watchProc(ctx, child.Pid(), b.opt.IdleWindow, interval, child.Alive)
	if err != nil {
		return s, err
	}
	perMin := time.Minute.Seconds() / s.window.Seconds()
	s.muxPerMin = float64(rig.MuxRequests()-mux0) * perMin
	if d != nil {
		s.ldPerMin = float64(LockdownRequests(d)-ld0) * perMin
	}
	if c.state == noMux {
		mark := child.Mark()
		t0 := time.Now()
		if err := rig.Restart(); err != nil {
			return s, err
		}
		l, err := child.WaitLine(mark, 30*time.Second, func(l Line) bool { return l.Usbmux != nil && l.Usbmux.Reachable })
		if err != nil {
			return s, fmt.Errorf("no reconnect after usbmuxd came back: %w", err)
		}
		s.reconnect = l.At.Sub(t0)
	}
	return s, nil
}

// waitSession waits until a client has completed a TLS session with d: the
// tray has no output to read, so the phone's side tells when it probed.
func waitSession(d *sim.Device, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		st := d.Stats()
		if st.TLSHandshakes > 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no TLS session within %v (requests: %v)", timeout, st.Requests)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
