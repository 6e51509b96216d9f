package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"time"

	"github.com/trustwatch/trustwatch/internal/privbus"
	"github.com/trustwatch/trustwatch/internal/sim"
)

const sectionAttach = "1. Attach → final state"

// Attach measures, per state, the time from the simulator's Attached to
// `trustwatch watch --json` printing the state, and beside it the wall time
// of `idevicepair validate` against a phone in the same state (on a second
// simulator, so the two clients never see each other's Pair requests).
func (b *Bench) Attach(ctx context.Context) error {
	rig, err := StartRig()
	if err != nil {
		return err
	}
	defer rig.Close()
	ipRig, err := StartRig()
	if err != nil {
		return err
	}
	defer ipRig.Close()
	n := b.opt.AttachRuns
	udids := b.udids.Take(2 * n * len(StateConfigs))
	b.opt.Logf("generating %d device keys", len(udids))
	if err := WarmKeys(udids); err != nil {
		return err
	}
	watch, err := b.startWatch(rig)
	if err != nil {
		return err
	}
	defer watch.Stop()
	if err := sleep(ctx, b.opt.Settle); err != nil {
		return err
	}

	type series struct {
		tw, ip, ratio            []float64
		twMux, twLD, ipMux, ipLD []float64
		ipSaid                   map[string]int
	}
	per := map[string]*series{}
	for _, sc := range StateConfigs {
		per[sc.State] = &series{ipSaid: map[string]int{}}
	}
	next := 0
	// States interleave within a round so that a noisy moment on the
	// shared machine hits every state, not just one.
	for run := 0; run < n; run++ {
		for _, sc := range StateConfigs {
			if err := ctx.Err(); err != nil {
				return err
			}
			s := per[sc.State]
			udid := udids[next]
			next++
			mark := watch.Mark()
			var t0 time.Time
			var mux0 int64
			d := rig.Add(sc.Cfg, udid, func() { mux0 = rig.MuxRequests(); t0 = time.Now() })
			l, err := watch.WaitState(mark, udid, sc.State, 10*time.Second)
			if err != nil {
				return fmt.Errorf("%s run %d: %w", sc.State, run, err)
			}
			twT := l.At.Sub(t0)
			s.tw = append(s.tw, ms(twT))
			s.twMux = append(s.twMux, float64(rig.MuxRequests()-mux0))
			s.twLD = append(s.twLD, float64(LockdownRequests(d)))
			d.Detach()
			if err := watch.WaitDetached(mark, udid, 5*time.Second); err != nil {
				return err
			}

			if b.opt.IdevicePair == "" {
				next++
				continue
			}
			ipUDID := udids[next]
			next++
			d2 := ipRig.Add(sc.Cfg, ipUDID, func() {})
			ipT, said, mux, err := b.idevicepair(ctx, ipRig, ipUDID)
			if err != nil {
				return fmt.Errorf("%s run %d: %w", sc.State, run, err)
			}
			s.ip = append(s.ip, ms(ipT))
			s.ipMux = append(s.ipMux, float64(mux))
			s.ipLD = append(s.ipLD, float64(LockdownRequests(d2)))
			s.ipSaid[said]++
			d2.Detach()
		}
	}
	for _, sc := range StateConfigs {
		s := per[sc.State]
		st := sc.State
		b.add(Figure{Section: sectionAttach, Name: st + ": `watch --json`", Unit: "ms", Goal: "≤ 100 ms", GoalMax: goal(100), Summary: Summarize(s.tw)})
		if b.opt.IdevicePair != "" {
			b.add(Figure{Section: sectionAttach, Name: st + ": `idevicepair validate`", Unit: "ms", Summary: Summarize(s.ip),
				Note: "wall time incl. process start; said " + saidNote(s.ipSaid)})
			b.add(ratio(st, Summarize(s.tw), Summarize(s.ip)))
		}
		b.add(Figure{Section: sectionAttach, Name: st + ": trustwatch usbmuxd requests", Unit: "req", Summary: Summarize(s.twMux),
			Note: "from Attached to the state line"})
		b.add(Figure{Section: sectionAttach, Name: st + ": trustwatch lockdown requests", Unit: "req", Summary: Summarize(s.twLD)})
		if b.opt.IdevicePair != "" {
			b.add(Figure{Section: sectionAttach, Name: st + ": idevicepair usbmuxd requests", Unit: "req", Summary: Summarize(s.ipMux)})
			b.add(Figure{Section: sectionAttach, Name: st + ": idevicepair lockdown requests", Unit: "req", Summary: Summarize(s.ipLD)})
		}
	}
	return nil
}

// ratio compares the two clients' distributions, median with median and
// p95 with p95: the runs are independent, so per-run quotients would
// mostly measure the noise of both.
func ratio(state string, tw, ip Summary) Figure {
	f := Figure{Section: sectionAttach, Name: state + ": trustwatch ÷ idevicepair", Unit: "×", Goal: "≤ 0.5", GoalMax: goal(0.5),
		Note: "median ÷ median, p95 ÷ p95"}
	if tw.N > 0 && ip.N > 0 && ip.Median > 0 && ip.P95 > 0 {
		f.Summary = Summary{N: min(tw.N, ip.N), Median: tw.Median / ip.Median, P95: tw.P95 / ip.P95,
			Min: tw.Min / ip.Max, Max: tw.Max / ip.Min}
	}
	return f
}

// idevicepair runs `idevicepair -u UDID validate` against rig and returns
// its wall time, the gist of what it printed, and its usbmuxd requests.
func (b *Bench) idevicepair(ctx context.Context, rig *Rig, udid string) (time.Duration, string, int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	home, err := os.MkdirTemp("", "twbench-ip")
	if err != nil {
		return 0, "", 0, err
	}
	defer os.RemoveAll(home)
	cmd := exec.CommandContext(ctx, b.opt.IdevicePair, "-u", udid, "validate")
	// HOME keeps libimobiledevice's own config dir (SystemBUID cache) out
	// of root's real home.
	cmd.Env = append(os.Environ(), "USBMUXD_SOCKET_ADDRESS="+rig.Address(), "HOME="+home, "XDG_CONFIG_HOME="+home)
	privbus.DieWithParent(cmd)
	mux0 := rig.MuxRequests()
	start := time.Now()
	out, err := cmd.CombinedOutput()
	d := time.Since(start)
	mux := rig.MuxRequests() - mux0
	if ctx.Err() != nil {
		return 0, "", 0, fmt.Errorf("idevicepair validate hung: %w", ctx.Err())
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return 0, "", 0, fmt.Errorf("idevicepair: %w", err)
	}
	return d, gist(string(out), udid), mux, nil
}

// gist is the first line of a tool's output with the device's UDID taken
// out, so that runs on different phones compare equal.
func gist(out, udid string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(out), "\n")
	return strings.TrimSpace(strings.ReplaceAll(line, udid, "…"))
}

func saidNote(m map[string]int) string {
	var parts []string
	for k, v := range m {
		parts = append(parts, fmt.Sprintf("%q ×%d", k, v))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

const sectionTrust = "2. Trust tapped → ready"

// TrustTap measures the Trust tap on a waiting prompt until `watch --json`
// prints ready, and counts the Pair requests around it.
func (b *Bench) TrustTap(ctx context.Context) error {
	rig, err := StartRig()
	if err != nil {
		return err
	}
	defer rig.Close()
	n := b.opt.TrustRuns
	udids := b.udids.Take(n)
	if err := WarmKeys(udids); err != nil {
		return err
	}
	watch, err := b.startWatch(rig)
	if err != nil {
		return err
	}
	defer watch.Stop()
	if err := sleep(ctx, b.opt.Settle); err != nil {
		return err
	}
	var lat, before, after, flashes, shows []float64
	for run, udid := range udids {
		mark := watch.Mark()
		d := rig.Add(sim.DeviceConfig{}, udid, func() {})
		if _, err := watch.WaitState(mark, udid, "trust-pending", 10*time.Second); err != nil {
			return fmt.Errorf("run %d: %w", run, err)
		}
		// The prompt stays up for a while, as it does in front of a person;
		// a client that polls Pair shows up here as extra requests.
		if err := sleep(ctx, b.opt.TrustWait); err != nil {
			return err
		}
		pre := d.Stats()
		mark = watch.Mark()
		t0 := time.Now()
		d.TapTrust()
		l, err := watch.WaitState(mark, udid, "ready", 10*time.Second)
		if err != nil {
			return fmt.Errorf("run %d: %w", run, err)
		}
		lat = append(lat, ms(l.At.Sub(t0)))
		post := d.Stats()
		before = append(before, float64(pre.PairRequests))
		after = append(after, float64(post.PairRequests-pre.PairRequests))
		flashes = append(flashes, float64(post.DialogFlashes))
		shows = append(shows, float64(post.DialogShows))
		d.Detach()
		if err := watch.WaitDetached(mark, udid, 5*time.Second); err != nil {
			return err
		}
	}
	b.add(Figure{Section: sectionTrust, Name: "tap → `watch --json` prints ready", Unit: "ms", Goal: "≤ 1000 ms", GoalMax: goal(1000), Summary: Summarize(lat),
		Note: fmt.Sprintf("prompt up for %v before the tap", b.opt.TrustWait)})
	b.add(Figure{Section: sectionTrust, Name: "Pair requests before the tap", Unit: "req", Goal: "1", GoalMax: goal(1), Summary: Summarize(before)})
	b.add(Figure{Section: sectionTrust, Name: "Pair requests after the tap", Unit: "req", Goal: "1", GoalMax: goal(1), Summary: Summarize(after)})
	b.add(Figure{Section: sectionTrust, Name: "Trust prompt re-sent while up (flashes)", Unit: "req", Goal: "0", GoalMax: goal(0), Summary: Summarize(flashes)})
	b.add(Figure{Section: sectionTrust, Name: "Trust prompt shown", Unit: "times", Goal: "1", GoalMax: goal(1), Summary: Summarize(shows)})
	return nil
}
