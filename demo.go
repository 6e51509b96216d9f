package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/trustwatch/trustwatch/internal/catalog"
	"github.com/trustwatch/trustwatch/internal/sim"
	"github.com/trustwatch/trustwatch/service"
	"github.com/trustwatch/trustwatch/watcher/engine"
	"github.com/trustwatch/trustwatch/watcher/usbmux"
)

// runDemo plays a short story with the real tray, engine and notifications
// against the built-in simulator. It never touches the real usbmuxd.
func runDemo(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("demo")
	allowRoot := fs.Bool("allow-root")
	speed := fs.Float("speed")
	if _, code, ok := fs.parse(args, 0, stdout, stderr); !ok {
		return code
	}
	ctx, _, stop := interruptible() // from the start: Ctrl-C during start-up still cleans up
	defer stop()
	if !*allowRoot {
		if err := service.RefuseRoot(); err != nil {
			fmt.Fprintln(stderr, err) // before the simulator starts: nothing to clean up
			return exitFailure
		}
	}
	s, err := sim.Start(sim.Options{})
	if err != nil {
		say(stderr, "cli.demo.sim_failed", map[string]any{"Error": err})
		return exitFailure
	}
	defer s.Close()
	addr, err := usbmux.ParseAddress(s.Address())
	if err != nil {
		say(stderr, "cli.demo.failed", map[string]any{"Error": err})
		return exitFailure
	}
	say(stdout, "cli.demo.started", map[string]any{"Address": s.Address()})
	usb := &demoUSB{events: make(chan engine.Event, 4)}
	return startApp(ctx, appConfig{
		addr: addr, usb: usb, allowRoot: *allowRoot, stderr: stderr,
		story: func(ctx context.Context) { playStory(ctx, s, usb, *speed, stdout) },
	})
}

// demoUSB stands in for the USB bus so the demo can show a phone that
// charges but never gets a data link.
type demoUSB struct{ events chan engine.Event }

func (u *demoUSB) Watch(ctx context.Context, out chan<- engine.Event) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev := <-u.events:
			select {
			case out <- ev:
			case <-ctx.Done():
				return nil
			}
		}
	}
}

// playStory: Anna's phone is plugged in locked and untrusted, gets
// unlocked, shows the Trust prompt, Trust is tapped, and it is ready. Then
// Ben's phone charges on a cable without data, and Chris taps "Don't Trust".
func playStory(ctx context.Context, s *sim.Server, usb *demoUSB, speed float64, out io.Writer) {
	w := catalog.Current()
	step := func(after time.Duration, id string, do func()) bool {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(time.Duration(float64(after) / speed)):
		}
		fmt.Fprintln(out, w.T("cli.demo.step", map[string]any{"Text": w.T(id, nil)}))
		do()
		return true
	}
	var anna *sim.Device
	_ = step(time.Second, "cli.demo.anna_plugs_in", func() {
		anna = s.AddDevice(sim.DeviceConfig{Name: w.T("cli.demo.anna_phone", nil), Locked: true})
	}) &&
		step(6*time.Second, "cli.demo.anna_unlocks", func() { anna.Unlock() }) &&
		step(6*time.Second, "cli.demo.anna_trusts", func() { anna.TapTrust() }) &&
		step(6*time.Second, "cli.demo.ben_plugs_in", func() {
			usb.events <- engine.USBAdded{Device: engine.USBDevice{Bus: 3, Address: 7, ProductID: 0x12a8, SpeedMbps: 480, Kind: engine.USBMobile}}
		}) &&
		step(8*time.Second, "cli.demo.chris_plugs_in", func() {
			s.AddDevice(sim.DeviceConfig{Name: w.T("cli.demo.chris_phone", nil), Denied: true})
		}) &&
		step(time.Second, "cli.demo.over", func() {})
}
