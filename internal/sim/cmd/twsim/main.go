// Command twsim runs trustwatch's simulated usbmuxd with simulated iPhones,
// for shell scripts, the bench and manual testing:
//
//	twsim --socket /tmp/x.sock --device 'name=Anna,state=untrusted' \
//	      --script 'after 2s unlock; await-dialog; after 3s tap-trust'
//
// It prints "ready <address>" on stdout once listening (preceded by
// "tcp <host:port>" with --tcp), then runs the script, and exits cleanly on
// SIGINT/SIGTERM (or a script "quit"). See sim.ParseDeviceSpec and
// sim.ParseScript for the syntax.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/trustwatch/trustwatch/internal/sim"
)

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, " ") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("twsim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var devices multiFlag
	socket := fs.String("socket", "", "unix socket path (default: a fresh temp path)")
	tcp := fs.String("tcp", "", "also listen on TCP, e.g. 127.0.0.1:27015 or 127.0.0.1:0")
	script := fs.String("script", "", "timeline, e.g. 'after 2s unlock; await-dialog; after 1s tap-trust'")
	scriptFile := fs.String("script-file", "", "read the timeline from a file")
	stats := fs.Bool("stats", false, `print counters as JSON on stdout at exit: {"usbmuxd": {...}, "devices": {UDID: {...}}}`)
	verbose := fs.Bool("v", false, "log every request to stderr")
	preflight := fs.Bool("preflight", false, "behave like Linux usbmuxd's preflight (pairs untrusted phones itself, hides phones whose lockdownd fails)")
	fs.Var(&devices, "device", "a device spec (repeatable): name=…,udid=…,product=…,ios=…,state=ready|locked|locked-since-restart|untrusted|untrusted-locked|trust-pending|trust-denied|trust-revoked|bad-record|no-data,fault=…,network,detached,dialog,no-lock-relay")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: twsim [--socket PATH] [--tcp ADDR] [--device SPEC]... [--script TEXT | --script-file FILE] [--preflight] [--stats] [-v]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "twsim: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	var cfgs []sim.DeviceConfig
	for _, spec := range devices {
		cfg, err := sim.ParseDeviceSpec(spec)
		if err != nil {
			fmt.Fprintf(stderr, "twsim: %v\n", err)
			return 2
		}
		cfgs = append(cfgs, cfg)
	}
	text := *script
	if *scriptFile != "" {
		if text != "" {
			fmt.Fprintln(stderr, "twsim: give --script or --script-file, not both")
			return 2
		}
		b, err := os.ReadFile(*scriptFile)
		if err != nil {
			fmt.Fprintf(stderr, "twsim: %v\n", err)
			return 2
		}
		text = string(b)
	}
	steps, err := sim.ParseScript(text)
	if err != nil {
		fmt.Fprintf(stderr, "twsim: %v\n", err)
		return 2
	}
	// Catch signals before announcing "ready", so a caller that stops us
	// right after the ready line still gets a clean exit.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logf := func(format string, a ...any) {
		fmt.Fprintf(stderr, time.Now().Format("15:04:05.000 ")+format+"\n", a...)
	}
	opts := sim.Options{SocketPath: *socket, TCPAddr: *tcp, Preflight: *preflight}
	if *verbose {
		opts.Logf = logf
	}
	s, err := sim.Start(opts)
	if err != nil {
		fmt.Fprintf(stderr, "twsim: %v\n", err)
		return 1
	}
	for _, cfg := range cfgs {
		d := s.AddDevice(cfg)
		logf("device %q %s DeviceID %d", d.Name(), d.UDID(), d.DeviceID())
	}
	if a := s.TCPAddress(); a != "" {
		fmt.Fprintf(stdout, "tcp %s\n", a)
	}
	fmt.Fprintf(stdout, "ready %s\n", s.Address())

	played := make(chan error, 1)
	go func() { played <- s.Play(ctx, steps, logf) }()
	code := 0
	select {
	case <-ctx.Done():
	case err := <-played:
		switch {
		case errors.Is(err, sim.ErrQuit):
		case err != nil && ctx.Err() == nil:
			fmt.Fprintf(stderr, "twsim: %v\n", err)
			code = 1
		default:
			<-ctx.Done() // script finished: keep serving until a signal
		}
	}
	stop()
	s.Close()
	if *stats {
		out := struct {
			Usbmuxd sim.MuxStats         `json:"usbmuxd"`
			Devices map[string]sim.Stats `json:"devices"`
		}{s.MuxStats(), map[string]sim.Stats{}}
		for _, d := range s.Devices() {
			out.Devices[d.UDID()] = d.Stats()
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		enc.Encode(out)
	}
	return code
}
