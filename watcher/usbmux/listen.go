package usbmux

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
)

// EventKind says what happened to a device.
type EventKind int

const (
	Attached EventKind = iota + 1
	Detached
	// Paired: a pair record was saved for the device (Linux usbmuxd, when
	// the saver sent DeviceID): the user tapped Trust.
	Paired
)

func (k EventKind) String() string {
	switch k {
	case Attached:
		return "Attached"
	case Detached:
		return "Detached"
	case Paired:
		return "Paired"
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Event is one hotplug notification. For Detached and Paired the daemon
// sends only the DeviceID; Device is filled from the listener's memory of
// the Attached event (zero apart from DeviceID if it never saw one).
type Event struct {
	Kind     EventKind
	DeviceID int
	Device   DeviceInfo
}

// Listener is a Listen subscription. Next must be called from one goroutine;
// Close may be called from any.
type Listener struct {
	c net.Conn
	// ctx ends at Close, so a message being decoded stops too.
	ctx     context.Context
	cancel  context.CancelFunc
	closed  atomic.Bool
	once    sync.Once
	devices map[int]DeviceInfo
	err     error // sticky: the stream is over
}

// Listen subscribes to hotplug events. The daemon first reports every device
// already visible as Attached. The Result is awaited under ctx; after that
// the stream has no deadline and lives until Close or the daemon goes away.
func Listen(ctx context.Context, addr Address) (*Listener, error) {
	c, m, err := roundTrip(ctx, addr, newRequest("Listen"), true)
	if err != nil {
		return nil, err
	}
	if err := expectOK("Listen", m); err != nil {
		c.Close()
		return nil, err
	}
	lctx, cancel := context.WithCancel(context.Background())
	return &Listener{c: c, ctx: lctx, cancel: cancel, devices: make(map[int]DeviceInfo)}, nil
}

// Next blocks until an event arrives, the daemon goes away (ErrDaemonGone),
// the stream breaks (ErrProtocol), or Close is called (ErrClosed). Any error
// is final: Close the listener and Listen again to resume.
func (l *Listener) Next() (Event, error) {
	if l.err != nil {
		return Event{}, l.err
	}
	for {
		_, m, err := readFrame(l.ctx, l.c)
		if err != nil {
			if l.closed.Load() {
				l.err = ErrClosed
			} else if errors.Is(err, ErrProtocol) {
				l.err = fmt.Errorf("usbmux: Listen: %w", err)
			} else {
				// Whatever broke the socket (EOF, reset; Windows errnos
				// differ), the daemon is gone for this subscription.
				l.err = fmt.Errorf("usbmux: Listen: %w: %w", ErrDaemonGone, err)
			}
			return Event{}, l.err
		}
		if ev, ok := l.event(m); ok {
			return ev, nil
		}
		// Results, unknown message types and entries without a DeviceID
		// carry nothing we can act on.
	}
}

func (l *Listener) event(m map[string]any) (Event, bool) {
	mt, _ := asString(m["MessageType"])
	switch mt {
	case "Attached":
		d, ok := decodeDevice(m)
		if !ok {
			return Event{}, false
		}
		l.devices[d.DeviceID] = d
		return Event{Kind: Attached, DeviceID: d.DeviceID, Device: d}, true
	case "Detached", "Paired":
		id, ok := asInt(m["DeviceID"])
		if !ok || id < 0 || id > 1<<31-1 {
			return Event{}, false
		}
		d, known := l.devices[int(id)]
		if !known {
			d = DeviceInfo{DeviceID: int(id)}
		}
		if mt == "Detached" {
			delete(l.devices, int(id))
			return Event{Kind: Detached, DeviceID: int(id), Device: d}, true
		}
		return Event{Kind: Paired, DeviceID: int(id), Device: d}, true
	}
	return Event{}, false
}

// Close ends the subscription and unblocks Next. It is idempotent.
func (l *Listener) Close() error {
	var err error
	l.once.Do(func() {
		l.closed.Store(true)
		l.cancel()
		err = l.c.Close()
	})
	return err
}
