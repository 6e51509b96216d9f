package watcher

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/trustwatch/trustwatch/watcher/engine"
	"github.com/trustwatch/trustwatch/watcher/ledger"
	"github.com/trustwatch/trustwatch/watcher/usbmux"
)

// Backoff between usbmuxd connection attempts. The cap keeps reconnection
// within about a second of usbmuxd coming back; where its socket can be
// watched, the backoff only runs for a few seconds (muxwait.go).
const (
	muxRetryMin = 100 * time.Millisecond
	muxRetryMax = time.Second
	muxRequest  = 3 * time.Second // one usbmuxd request/response
	// muxStable is how long a Listen connection must stay up before the
	// backoff starts from muxRetryMin again: a daemon that hangs up right
	// after answering must not be asked ten times a second.
	muxStable = 5 * time.Second
	// MaxTrackedDevices caps the phones followed at once. xHCI and Linux
	// allow 127 devices per bus, so 512 is four full buses of phones,
	// beyond any real host; past it, usbmuxd's entries are ignored with one
	// log line, and a flood of new ones is read at most 1,000 a second.
	MaxTrackedDevices = 512
	overCapPause      = time.Millisecond
	// listChunk is how many listed devices go to the engine at once, so
	// the first phones of a long list are probed while the rest is handled.
	listChunk = 64
)

// watchUsbmux keeps a Listen connection to usbmuxd, re-listing devices on
// every (re)connect, until ctx ends.
func (w *Watcher) watchUsbmux(ctx context.Context) {
	addr := w.cfg.Address
	wait := newMuxWaiter(socketPath(addr), w.muxKick)
	defer wait.close()
	delay := muxRetryMin
	var lastErr string
	var lastState engine.MuxState
	for ctx.Err() == nil {
		var upAt time.Time
		established := false
		err := w.listenOnce(ctx, addr, func() { upAt, established = time.Now(), true })
		if ctx.Err() != nil {
			return
		}
		if !upAt.IsZero() && time.Since(upAt) >= muxStable {
			// It stayed up: a new failure is news, and retries start fast.
			delay, lastErr, lastState = muxRetryMin, "", ""
		}
		// The same refusal can mean stopped, then starting (Windows asks
		// the service manager each time), so the state is compared too.
		msg, state := err.Error(), classifyMuxFailure(err, established)
		if msg != lastErr || state != lastState || !upAt.IsZero() {
			if msg != lastErr || state != lastState {
				// Log each distinct failure once; retries stay quiet.
				w.cfg.Logger.Info("usbmuxd unreachable", "address", addr.String(), "err", msg, "state", string(state))
			}
			lastErr, lastState = msg, state
			w.post(ctx, engine.MuxDown{Address: addr.String(), Err: msg, State: state})
		}
		if !wait.wait(ctx, delay) {
			return
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
	tracked := map[int]bool{}
	warned := false
	overCap := func(n int) {
		if !warned {
			warned = true
			w.cfg.Logger.Warn(fmt.Sprintf("usbmuxd lists more than %d devices (%d so far); trustwatch follows the first %d and ignores the rest", MaxTrackedDevices, n, MaxTrackedDevices), "address", addr.String())
		}
	}
	var devs []engine.MuxDevice
	usb := 0
	for _, d := range list {
		if !d.IsUSB() { // Wi-Fi entries are not devices here
			continue
		}
		usb++
		if len(devs) == MaxTrackedDevices {
			continue
		}
		tracked[d.DeviceID] = true
		devs = append(devs, muxDevice(d))
	}
	if usb > MaxTrackedDevices {
		overCap(usb)
	}
	scope := ""
	if w.cfg.Ledger != nil {
		scope = w.plugs.scope(ctx)
		// Plugs usbmuxd no longer lists were unplugged: forget their Pairs.
		plugs := make([]ledger.Plug, 0, len(devs))
		for _, d := range devs {
			plugs = append(plugs, ledger.Plug{Address: scope, UDID: d.UDID, DeviceID: d.DeviceID})
		}
		w.cfg.Ledger.Prune(scope, plugs)
	}
	connected()
	for first := true; first || len(devs) > 0; first = false {
		part := devs[:min(listChunk, len(devs))]
		devs = devs[len(part):]
		w.post(ctx, engine.MuxUp{Address: addr.String(), Devices: part, More: len(devs) > 0})
	}
	for {
		ev, err := l.Next()
		if err != nil {
			return err
		}
		switch ev.Kind {
		case usbmux.Attached:
			if !ev.Device.IsUSB() {
				continue
			}
			if !tracked[ev.DeviceID] && len(tracked) >= MaxTrackedDevices {
				overCap(len(tracked) + 1)
				// Pace a flood: decoding it must not take a whole core.
				select {
				case <-ctx.Done():
				case <-time.After(overCapPause):
				}
				continue
			}
			tracked[ev.DeviceID] = true
			w.post(ctx, engine.MuxAttached{Device: muxDevice(ev.Device)})
		case usbmux.Detached:
			delete(tracked, ev.DeviceID)
			if w.cfg.Ledger != nil && ev.Device.UDID != "" {
				w.cfg.Ledger.Forget(ledger.Plug{Address: scope, UDID: ev.Device.UDID, DeviceID: ev.DeviceID})
			}
			w.post(ctx, engine.MuxDetached{DeviceID: ev.DeviceID})
		case usbmux.Paired:
			w.post(ctx, engine.MuxPaired{DeviceID: ev.DeviceID})
		}
	}
}

// socketPath is the unix socket to watch for ("" for TCP).
func socketPath(a usbmux.Address) string {
	if a.Network == "unix" {
		return a.Path
	}
	return ""
}

func muxDevice(d usbmux.DeviceInfo) engine.MuxDevice {
	return engine.MuxDevice{DeviceID: d.DeviceID, UDID: d.UDID, LocationID: d.LocationID, ProductID: d.ProductID, SpeedBps: d.SpeedBps}
}

// plugScope names the usbmuxd whose plugs the Pair ledger records: its
// address and its SystemBUID, so that another daemon later found at the
// same address (a restarted simulator, a reused TCP port) is not taken for
// this one. Computed once per watcher; a daemon that does not answer
// ReadBUID is named by its address alone.
type plugScope struct {
	addr usbmux.Address
	mu   sync.Mutex
	val  string
}

func (p *plugScope) scope(ctx context.Context) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.val != "" {
		return p.val
	}
	rctx, cancel := context.WithTimeout(ctx, muxRequest)
	buid, err := usbmux.ReadBUID(rctx, p.addr)
	cancel()
	if err != nil {
		return p.addr.String()
	}
	p.val = p.addr.String() + " " + buid
	return p.val
}
