package watcher

import (
	"context"
	"sync/atomic"

	"github.com/trustwatch/trustwatch/watcher/engine"
	"github.com/trustwatch/trustwatch/watcher/usb"
)

// USBBus adapts the USB hotplug watcher to engine events.
type USBBus struct{ ready atomic.Bool }

// NewUSBBus returns the USB source, or ok false (with the reason) when this
// build or machine has no USB layer; trustwatch then works from usbmuxd alone.
func NewUSBBus() (bus *USBBus, ok bool, why string) {
	if ok, why := usb.Available(); !ok {
		return nil, false, why
	}
	return &USBBus{}, true, ""
}

// Ready reports whether the devices present at start have been delivered.
func (b *USBBus) Ready() bool { return b == nil || b.ready.Load() }

// Watch lists the bus once (so callers know when the initial picture is
// complete), then follows hotplug events until ctx ends.
func (b *USBBus) Watch(ctx context.Context, out chan<- engine.Event) error {
	devs, err := usb.List(ctx)
	if err != nil {
		b.ready.Store(true)
		return err
	}
	for _, d := range devs {
		if !send(ctx, out, engine.USBAdded{Device: usbDevice(d)}) {
			return nil
		}
	}
	b.ready.Store(true)
	events := make(chan usb.Event, 16)
	errc := make(chan error, 1)
	go func() { errc <- usb.Watch(ctx, events) }()
	for {
		select {
		case <-ctx.Done():
			return <-errc
		case err := <-errc:
			return err
		case ev := <-events:
			var e engine.Event = engine.USBAdded{Device: usbDevice(ev.Device)}
			if ev.Kind == usb.Removed {
				e = engine.USBRemoved{Device: usbDevice(ev.Device)}
			}
			if !send(ctx, out, e) {
				return <-errc
			}
		}
	}
}

func send(ctx context.Context, out chan<- engine.Event, e engine.Event) bool {
	select {
	case out <- e:
		return true
	case <-ctx.Done():
		return false
	}
}

func usbDevice(d usb.Device) engine.USBDevice {
	kind := engine.USBMobile
	switch d.Kind {
	case usb.KindRecovery:
		kind = engine.USBRecovery
	case usb.KindDFU:
		kind = engine.USBDFU
	}
	// UDID() also names a phone in Recovery/DFU (from iBoot's CPID and ECID
	// on A12 and later), so it is recognised as the phone it was.
	return engine.USBDevice{Bus: d.Bus, Address: d.Address, ProductID: d.ProductID, SpeedMbps: d.SpeedMbps, Serial: d.UDID(), Kind: kind, DriverProblem: driverProblem(d)}
}

// driverProblem is what to tell the user about a phone Windows keeps from
// the Apple service: "The iPhone is on USB, but <problem>. <next step>."
func driverProblem(d usb.Device) engine.Advice {
	problem, next := d.DriverProblem()
	if problem == "" {
		return engine.Advice{}
	}
	return engine.Advice{ID: "usb.problem", Args: engine.Args{Code: d.Problem, App: engine.AppleDevicesApp, Clause: problem, Next: next}}
}
