package watcher

import (
	"context"
	"time"

	"github.com/trustwatch/trustwatch/watcher/engine"
	"github.com/trustwatch/trustwatch/watcher/usbmux"
)

// Backoff between usbmuxd connection attempts. The cap keeps reconnection
// within about a second of usbmuxd coming back.
const (
	muxRetryMin = 100 * time.Millisecond
	muxRetryMax = time.Second
	muxRequest  = 3 * time.Second // one usbmuxd request/response
)

// watchUsbmux keeps a Listen connection to usbmuxd, re-listing devices on
// every (re)connect, until ctx ends.
func (w *Watcher) watchUsbmux(ctx context.Context) {
	addr := w.cfg.Address
	delay := muxRetryMin
	var lastErr string
	for ctx.Err() == nil {
		established := false
		err := w.listenOnce(ctx, addr, func() { delay, lastErr, established = muxRetryMin, "", true })
		if ctx.Err() != nil {
			return
		}
		if msg := err.Error(); msg != lastErr {
			// Report each distinct failure once; retries stay quiet.
			lastErr = msg
			w.cfg.Logger.Info("usbmuxd unreachable", "address", addr.String(), "err", msg)
			w.post(ctx, engine.MuxDown{Address: addr.String(), Err: msg, State: classifyMuxFailure(err, established)})
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(delay*2, muxRetryMax)
	}
}

// listenOnce runs one usbmuxd session: Listen first (so nothing is missed),
// then ListDevices for the authoritative list, then events until failure.
func (w *Watcher) listenOnce(ctx context.Context, addr usbmux.Address, connected func()) error {
	lctx, cancel := context.WithTimeout(ctx, muxRequest)
	l, err := usbmux.Listen(lctx, addr)
	cancel()
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()
	defer l.Close()

	lctx, cancel = context.WithTimeout(ctx, muxRequest)
	list, err := usbmux.ListDevices(lctx, addr)
	cancel()
	if err != nil {
		return err
	}
	up := engine.MuxUp{Address: addr.String()}
	for _, d := range list {
		if d.IsUSB() {
			up.Devices = append(up.Devices, muxDevice(d))
		}
	}
	connected()
	w.post(ctx, up)
	for {
		ev, err := l.Next()
		if err != nil {
			return err
		}
		switch ev.Kind {
		case usbmux.Attached:
			if ev.Device.IsUSB() { // Wi-Fi entries are not devices here
				w.post(ctx, engine.MuxAttached{Device: muxDevice(ev.Device)})
			}
		case usbmux.Detached:
			w.post(ctx, engine.MuxDetached{DeviceID: ev.DeviceID})
		case usbmux.Paired:
			w.post(ctx, engine.MuxPaired{DeviceID: ev.DeviceID})
		}
	}
}

func muxDevice(d usbmux.DeviceInfo) engine.MuxDevice {
	return engine.MuxDevice{DeviceID: d.DeviceID, UDID: d.UDID, LocationID: d.LocationID, ProductID: d.ProductID, SpeedBps: d.SpeedBps}
}
