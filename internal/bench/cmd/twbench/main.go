// Command twbench measures trustwatch against the simulator and writes the
// results as JSON (run) or renders docs/BENCH.md from them (report).
//
//	twbench run --tw /tmp/trustwatch [--quick] [--idle 60s] [--wait 10m] [--only attach,idle,waiting] --out results.json
//	twbench fuzz [--fuzztime 30s] [--root .] --out fuzz.json --crashers DIR
//	twbench report --results results.json [--fuzz fuzz.json] --out docs/BENCH.md
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/trustwatch/trustwatch/internal/bench"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: twbench run|fuzz|report [flags] (twbench run --help)")
		return 2
	}
	switch args[0] {
	case "run":
		return runBench(args[1:], stdout, stderr)
	case "report":
		return runReport(args[1:], stdout, stderr)
	case "fuzz":
		return runFuzz(args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprintln(stdout, "usage: twbench run|fuzz|report [flags]")
		return 0
	}
	fmt.Fprintf(stderr, "twbench: unknown command %q (want run, fuzz or report)\n", args[0])
	return 2
}

func runBench(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("twbench run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	tw := fs.String("tw", "", "the trustwatch binary to measure (required)")
	ip := fs.String("idevicepair", "idevicepair", `idevicepair for the comparison ("" to skip)`)
	quick := fs.Bool("quick", false, "smoke run: few repetitions, 5 s idle window")
	idle := fs.Duration("idle", 0, "idle window (default 60s, 5s with --quick)")
	wait := fs.Duration("wait", 0, "waiting phones: the measured window after the first minutes (default 10m, 20s with --quick)")
	settle := fs.Duration("wait-settle", 0, "waiting phones: how long they wait before the window (default 2m, 10s with --quick)")
	runs := fs.Int("runs", 0, "attach and Trust-tap repetitions (0: mode default)")
	flapDevices := fs.Int("flap-devices", 0, "phones that take turns flapping (0: mode default, 4)")
	only := fs.String("only", "", "comma-separated scenarios: "+strings.Join(bench.Scenarios, ","))
	out := fs.String("out", "bench-results.json", "where to write the results (JSON)")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the bench process (sim + in-process watcher)")
	memprofile := fs.String("memprofile", "", "write a heap profile of the bench process at the end (after a GC)")
	verbose := fs.Bool("v", true, "progress on stderr")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "twbench run: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if *tw == "" {
		fmt.Fprintln(stderr, "twbench run: --tw is required (build it: go build -o /tmp/trustwatch .)")
		return 2
	}
	if _, err := os.Stat(*tw); err != nil {
		fmt.Fprintf(stderr, "twbench run: --tw: %v\n", err)
		return 2
	}
	sel := map[string]bool{}
	if *only != "" {
		for _, s := range strings.Split(*only, ",") {
			s = strings.TrimSpace(s)
			if !slices.Contains(bench.Scenarios, s) {
				fmt.Fprintf(stderr, "twbench run: unknown scenario %q (want %s)\n", s, strings.Join(bench.Scenarios, ","))
				return 2
			}
			sel[s] = true
		}
	}
	opt := bench.Defaults()
	if *quick {
		opt = bench.Quick()
	}
	if *idle > 0 {
		opt.IdleWindow = *idle
	}
	if *wait > 0 {
		opt.WaitWindow = *wait
	}
	if *settle > 0 {
		opt.WaitSettle = *settle
	}
	if *runs > 0 {
		opt.AttachRuns, opt.TrustRuns = *runs, *runs
	}
	if *flapDevices > 0 {
		opt.FlapDevices = *flapDevices
	}
	opt.TW = *tw
	if *ip != "" {
		p, err := exec.LookPath(*ip)
		if err != nil {
			fmt.Fprintf(stderr, "twbench run: %v (apt-get install libimobiledevice-utils, or --idevicepair '' to skip)\n", err)
			return 2
		}
		opt.IdevicePair = p
	}
	start := time.Now()
	if *verbose {
		opt.Logf = func(format string, a ...any) {
			fmt.Fprintf(stderr, "[%6.1fs] %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, a...))
		}
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintf(stderr, "twbench run: %v\n", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(stderr, "twbench run: %v\n", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res := &bench.Results{Date: bench.Now(), Quick: *quick, Machine: bench.DescribeMachine(), LoadBefore: bench.LoadAverage()}
	res.Build = bench.DescribeBuild(opt.TW)
	res.Settings = []string{
		fmt.Sprintf("attach runs/state %d", opt.AttachRuns),
		fmt.Sprintf("Trust runs %d", opt.TrustRuns),
		fmt.Sprintf("idle window %v", opt.IdleWindow),
		fmt.Sprintf("waiting phones: %v window after %v (all cases at once, one process each)", opt.WaitWindow, opt.WaitSettle),
		fmt.Sprintf("scale %d devices × %d runs", opt.ScaleDevices, opt.ScaleRuns),
		fmt.Sprintf("flapping %d cycles × %d runs over %d phones, %v pauses (slow: %d cycles, %v pauses)", opt.FlapCycles, opt.FlapRuns, opt.FlapDevices, opt.FlapGap, opt.SlowFlapCycles, opt.SlowFlapGap),
	}
	bench.New(opt, res).Run(ctx, sel)
	res.LoadAfter = bench.LoadAverage()
	if *memprofile != "" {
		if err := writeHeap(*memprofile); err != nil {
			fmt.Fprintf(stderr, "twbench run: %v\n", err)
		}
	}
	if ctx.Err() != nil {
		res.Errors = append(res.Errors, "interrupted")
	}
	if err := res.Save(*out); err != nil {
		fmt.Fprintf(stderr, "twbench run: %v\n", err)
		return 1
	}
	for _, f := range res.Figures {
		fmt.Fprintf(stdout, "%-70s %10s %10s %-6s %s\n", f.Section[:2]+" "+f.Name, fmtNum(f.Median), fmtNum(f.P95), f.Unit, f.Verdict())
	}
	for _, e := range res.Errors {
		fmt.Fprintf(stdout, "ERROR %s\n", e)
	}
	if len(res.Errors) > 0 {
		return 1
	}
	return 0
}

func writeHeap(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	runtime.GC()
	return pprof.Lookup("heap").WriteTo(f, 0)
}

func fmtNum(v float64) string { return fmt.Sprintf("%.3g", v) }

func runReport(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("twbench report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("results", "bench-results.json", "results written by twbench run")
	fuzz := fs.String("fuzz", "", "fuzz results (JSON array written by scripts/bench.sh)")
	out := fs.String("out", "docs/BENCH.md", "the Markdown to write (- for stdout)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	res, err := bench.LoadResults(*in)
	if err != nil {
		fmt.Fprintf(stderr, "twbench report: %v\n", err)
		return 1
	}
	if *fuzz != "" {
		b, err := os.ReadFile(*fuzz)
		if err != nil {
			fmt.Fprintf(stderr, "twbench report: %v\n", err)
			return 1
		}
		if err := json.Unmarshal(b, &res.Fuzz); err != nil {
			fmt.Fprintf(stderr, "twbench report: %s: %v\n", *fuzz, err)
			return 1
		}
	}
	w := stdout
	if *out != "-" {
		f, err := os.Create(*out)
		if err != nil {
			fmt.Fprintf(stderr, "twbench report: %v\n", err)
			return 1
		}
		defer f.Close()
		w = f
	}
	if err := bench.WriteMarkdown(w, res); err != nil {
		fmt.Fprintf(stderr, "twbench report: %v\n", err)
		return 1
	}
	return 0
}

func runFuzz(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("twbench fuzz", flag.ContinueOnError)
	fs.SetOutput(stderr)
	root := fs.String("root", ".", "repository root")
	fuzztime := fs.Duration("fuzztime", 30*time.Second, "how long to fuzz each target")
	out := fs.String("out", "fuzz-results.json", "where to write the results (JSON)")
	crashers := fs.String("crashers", "fuzz-crashers", "where new crashers are moved to")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *fuzztime <= 0 {
		fmt.Fprintln(stderr, "twbench fuzz: --fuzztime must be positive")
		return 2
	}
	targets, err := bench.FindFuzzTargets(*root)
	if err != nil {
		fmt.Fprintf(stderr, "twbench fuzz: %v\n", err)
		return 1
	}
	if len(targets) == 0 {
		fmt.Fprintln(stderr, "twbench fuzz: no fuzz targets found")
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var runs []bench.FuzzRun
	rc := 0
	for _, t := range targets {
		if ctx.Err() != nil {
			break
		}
		fmt.Fprintf(stderr, "fuzz %s %s for %v\n", t.Dir, t.Name, *fuzztime)
		r := bench.RunFuzz(ctx, *root, t, *fuzztime, *crashers)
		fmt.Fprintln(stdout, r)
		if !r.OK {
			rc = 1
		}
		runs = append(runs, r)
	}
	b, err := json.MarshalIndent(runs, "", "  ")
	if err == nil {
		err = os.WriteFile(*out, append(b, '\n'), 0o644)
	}
	if err != nil {
		fmt.Fprintf(stderr, "twbench fuzz: %v\n", err)
		return 1
	}
	return rc
}
