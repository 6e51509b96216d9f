//go:build cgo && linux

package usb

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/gousb"
)

// The idle measurement runs Watch in a child process (this test binary,
// re-executed) and samples it from outside through /proc, so neither the
// testing framework nor the sampling itself is counted.

const idleChildEnv = "TW_USB_IDLE_CHILD"

// idleChildMain runs before the tests: in the child it becomes the measured
// process and never returns.
func idleChildMain() {
	mode := os.Getenv(idleChildEnv)
	if mode == "" {
		return
	}
	ctx := context.Background()
	ch := make(chan Event, 16)
	switch mode {
	case "poll":
		forcePolling = true
		fallthrough
	case "watch":
		go func() {
			if err := Watch(ctx, ch); err != nil {
				fmt.Println("error", err)
				os.Exit(1)
			}
		}()
	case "gousb":
		// For contrast: a live gousb Context, which polls libusb every 100 ms.
		gousb.NewContext()
	default:
		fmt.Println("error unknown mode", mode)
		os.Exit(2)
	}
	go func() {
		for ev := range ch {
			fmt.Println("event", ev)
		}
	}()
	// Let the first enumeration and its short-lived context finish.
	time.Sleep(500 * time.Millisecond)
	fmt.Println("ready")
	select {}
}

type procSample struct {
	switches int
	cpu      time.Duration
	threads  map[string]int
}

// sampleProc sums context switches (each a wakeup or a preemption) and CPU
// time over every thread of pid.
func sampleProc(t testing.TB, pid int) procSample {
	t.Helper()
	s := procSample{threads: map[string]int{}}
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*", pid))
	if err != nil || len(tasks) == 0 {
		t.Fatalf("no tasks for pid %d: %v", pid, err)
	}
	for _, task := range tasks {
		b, err := os.ReadFile(task + "/status")
		if err != nil {
			continue // thread exited meanwhile
		}
		n := 0
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) == 2 && (f[0] == "voluntary_ctxt_switches:" || f[0] == "nonvoluntary_ctxt_switches:") {
				v, _ := strconv.Atoi(f[1])
				n += v
			}
		}
		s.switches += n
		s.threads[filepath.Base(task)] = n
		if b, err := os.ReadFile(task + "/schedstat"); err == nil {
			if f := strings.Fields(string(b)); len(f) > 0 {
				ns, _ := strconv.ParseInt(f[0], 10, 64)
				s.cpu += time.Duration(ns)
			}
		}
	}
	return s
}

type idleResult struct {
	window  time.Duration
	wakeups int
	cpu     time.Duration
	threads string
}

func (r idleResult) perSecond() float64  { return float64(r.wakeups) / r.window.Seconds() }
func (r idleResult) cpuPercent() float64 { return 100 * r.cpu.Seconds() / r.window.Seconds() }

func (r idleResult) String() string {
	return fmt.Sprintf("%d wakeups in %.1f s = %.3f/s; CPU %v = %.4f%% (per thread: %s)",
		r.wakeups, r.window.Seconds(), r.perSecond(), r.cpu.Round(time.Microsecond), r.cpuPercent(), r.threads)
}

// measureChild starts this binary in child mode and samples it over window.
// env adds to the child's environment (UMOCKDEV_DIR for the testbed).
func measureChild(t testing.TB, mode string, window time.Duration, env ...string) idleResult {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), idleChildEnv+"="+mode), env...)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	deadline := time.After(10 * time.Second)
wait:
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("child exited before ready")
			}
			t.Logf("child: %s", l)
			if strings.HasPrefix(l, "error") {
				t.Fatal(l)
			}
			if l == "ready" {
				break wait
			}
		case <-deadline:
			t.Fatal("child not ready within 10 s")
		}
	}
	// Anything the child prints while measured is an event: drain it.
	extra := make(chan []string, 1)
	go func() {
		var got []string
		for l := range lines {
			got = append(got, l)
		}
		extra <- got
	}()

	s0, t0 := sampleProc(t, cmd.Process.Pid), time.Now()
	time.Sleep(window)
	s1, t1 := sampleProc(t, cmd.Process.Pid), time.Now()
	var per []string
	for tid, n := range s1.threads {
		if d := n - s0.threads[tid]; d > 0 {
			per = append(per, fmt.Sprintf("%s=%d", tid, d))
		}
	}
	sort.Strings(per)
	cmd.Process.Kill()
	cmd.Wait()
	if got := <-extra; len(got) > 0 {
		t.Errorf("child printed while idle: %q", got)
	}
	return idleResult{window: t1.Sub(t0), wakeups: s1.switches - s0.switches, cpu: s1.cpu - s0.cpu, threads: strings.Join(per, " ")}
}

// idleWindow is the measurement window from TW_USB_IDLE (e.g. "60s"); the
// measurement is opt-in because it is a benchmark, not a unit test.
func idleWindow(t testing.TB) time.Duration {
	v := os.Getenv("TW_USB_IDLE")
	if v == "" {
		v = "60s"
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < time.Second {
		t.Fatalf("TW_USB_IDLE=%q: want a duration ≥ 1s", v)
	}
	return d
}

// checkIdle measures an idle Watch against the budget: ≤ 1 wakeup/s on
// average and ≤ 0.05 % CPU; and, for contrast, a live gousb Context.
func checkIdle(t testing.TB, env ...string) {
	window := idleWindow(t)
	r := measureChild(t, "watch", window, env...)
	t.Logf("idle Watch: %v", r)
	if b, ok := t.(*testing.B); ok {
		b.ReportMetric(r.perSecond(), "wakeups/s")
		b.ReportMetric(r.cpuPercent(), "cpu%")
	}
	if r.perSecond() > 1 {
		t.Errorf("idle Watch: %.3f wakeups/s > 1", r.perSecond())
	}
	if r.cpuPercent() > 0.05 {
		t.Errorf("idle Watch: CPU %.4f%% > 0.05%%", r.cpuPercent())
	}
	p := measureChild(t, "poll", min(window, 20*time.Second), env...)
	t.Logf("the polling fallback (Windows), every %v: %v", pollInterval, p)
	if p.perSecond() > 1 {
		t.Errorf("polling fallback: %.3f wakeups/s", p.perSecond())
	}
	g := measureChild(t, "gousb", min(window, 10*time.Second), env...)
	t.Logf("for contrast, a live gousb.Context: %v", g)
}
