// Package ipc lets one trustwatch process ask the running tray for what it
// knows: its snapshot of every phone, or to run an action (Fix trust,
// Forget) on one. The tray serves a user-owned local endpoint beside its
// instance lock: a unix socket (mode 0600, peers checked to be this user on
// Linux) or, on Windows, a named pipe whose only ACE is this user's SID.
// `status` and every verb that needs phone states use it when it exists and
// probe by themselves only when nothing runs.
package ipc

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/trustwatch/trustwatch/watcher"
	"github.com/trustwatch/trustwatch/watcher/engine"
)

// Handler is what the running tray offers (the watcher implements it).
type Handler interface {
	Snapshot() engine.Snapshot
	FixTrust(key string)
	Forget(key string)
	History() []watcher.Entry
}

// Ops a client may ask for.
const (
	OpSnapshot = "snapshot"
	OpFixTrust = "fix-trust"
	OpForget   = "forget"
	OpHistory  = "history" // the snapshot and the recent history (support reports)
)

var (
	// ErrNotRunning: no tray serves the endpoint.
	ErrNotRunning = errors.New("ipc: no running trustwatch serves this user")
)

// Bounds: a request is a line of a few dozen bytes; a reply is a snapshot
// (about 1 kB per phone, 512 phones at most).
const (
	maxRequest   = 4 << 10
	maxReply     = 8 << 20
	connDeadline = 5 * time.Second
	maxConns     = 16
)

type request struct {
	Op  string `json:"op"`
	Key string `json:"key,omitempty"`
}

// wireDevice is a Device with the fields the contract's JSON leaves out,
// among them the advice as an identifier: the client says it in its own
// user's language.
type wireDevice struct {
	engine.Device
	Key      string        `json:"key"`
	DeviceID int           `json:"device_id"`
	Previous engine.State  `json:"previous"`
	Since    time.Time     `json:"since"`
	Advice   engine.Advice `json:"advice"`
}

type wireSnapshot struct {
	Time    time.Time      `json:"time"`
	Usbmux  engine.Usbmux  `json:"usbmux"`
	MuxText engine.MuxText `json:"mux_text"` // usbmuxd's state as identifiers (Usbmux.Text)
	Devices []wireDevice   `json:"devices"`
}

type reply struct {
	Snapshot *wireSnapshot   `json:"snapshot,omitempty"`
	History  []watcher.Entry `json:"history,omitempty"`
	Error    string          `json:"error,omitempty"`
}

func toWire(s engine.Snapshot) *wireSnapshot {
	w := &wireSnapshot{Time: s.Time, Usbmux: s.Usbmux, MuxText: s.Usbmux.Text, Devices: make([]wireDevice, 0, len(s.Devices))}
	for _, d := range s.Devices {
		w.Devices = append(w.Devices, wireDevice{Device: d, Key: d.Key, DeviceID: d.DeviceID, Previous: d.Previous, Since: d.Since, Advice: d.Advice})
	}
	return w
}

func fromWire(w *wireSnapshot) engine.Snapshot {
	s := engine.Snapshot{Time: w.Time, Usbmux: w.Usbmux, Devices: make([]engine.Device, 0, len(w.Devices))}
	s.Usbmux.Text = w.MuxText
	for _, d := range w.Devices {
		dev := d.Device
		dev.Key, dev.DeviceID, dev.Previous, dev.Since, dev.Advice = d.Key, d.DeviceID, d.Previous, d.Since, d.Advice
		s.Devices = append(s.Devices, dev)
	}
	return s
}

// Serve answers on l until ctx ends, then closes l and every connection
// and returns once all of its goroutines have.
func Serve(ctx context.Context, l net.Listener, h Handler, log *slog.Logger) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]struct{}{}
	stop := context.AfterFunc(ctx, func() {
		l.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	defer stop()
	slots := make(chan struct{}, maxConns)
	for {
		c, err := l.Accept()
		if err != nil {
			if ctx.Err() == nil {
				log.Warn("IPC endpoint stopped", "err", err)
			}
			break
		}
		if err := checkPeer(c); err != nil {
			log.Warn("IPC: refused a connection", "err", err)
			c.Close()
			continue
		}
		// At most maxConns at once; each ends within connDeadline, so a
		// flood of silent clients delays the next one, never hangs it.
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			c.Close()
			continue
		}
		mu.Lock()
		conns[c] = struct{}{}
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			serveConn(c, h)
			mu.Lock()
			delete(conns, c)
			mu.Unlock()
			c.Close()
		}()
	}
	l.Close()
	wg.Wait()
}

func serveConn(c net.Conn, h Handler) {
	_ = c.SetDeadline(time.Now().Add(connDeadline))
	line, err := bufio.NewReader(io.LimitReader(c, maxRequest)).ReadBytes('\n')
	if err != nil {
		return
	}
	var req request
	var rep reply
	if err := json.Unmarshal(line, &req); err != nil {
		rep.Error = "unreadable request"
	} else {
		switch req.Op {
		case OpSnapshot:
		case OpFixTrust:
			h.FixTrust(req.Key)
		case OpForget:
			h.Forget(req.Key)
		case OpHistory:
			rep.History = h.History()
		default:
			rep.Error = fmt.Sprintf("unknown op %q", engine.Clip(req.Op, 32))
		}
		if rep.Error == "" {
			rep.Snapshot = toWire(h.Snapshot())
		}
	}
	_ = json.NewEncoder(c).Encode(rep)
}

// Query asks the running tray for its snapshot; ErrNotRunning when no tray
// serves this user.
func Query(ctx context.Context) (engine.Snapshot, error) { return Do(ctx, OpSnapshot, "") }

// Do asks the running tray to run op (OpFixTrust, OpForget) on the device
// with key, and returns its snapshot right after.
func Do(ctx context.Context, op, key string) (engine.Snapshot, error) {
	c, err := dial(ctx)
	if err != nil {
		return engine.Snapshot{}, err
	}
	return exchange(ctx, c, op, key)
}

// History asks the running tray for its recent history of state changes.
func History(ctx context.Context) ([]watcher.Entry, error) {
	c, err := dial(ctx)
	if err != nil {
		return nil, err
	}
	rep, err := roundTrip(ctx, c, OpHistory, "")
	return rep.History, err
}

func exchange(ctx context.Context, c net.Conn, op, key string) (engine.Snapshot, error) {
	rep, err := roundTrip(ctx, c, op, key)
	if err != nil {
		return engine.Snapshot{}, err
	}
	return fromWire(rep.Snapshot), nil
}

func roundTrip(ctx context.Context, c net.Conn, op, key string) (reply, error) {
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	} else {
		_ = c.SetDeadline(time.Now().Add(connDeadline))
	}
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	b, _ := json.Marshal(request{Op: op, Key: key})
	if _, err := c.Write(append(b, '\n')); err != nil {
		return reply{}, fmt.Errorf("ipc: %w", err)
	}
	var rep reply
	if err := json.NewDecoder(io.LimitReader(c, maxReply)).Decode(&rep); err != nil {
		if ctx.Err() != nil {
			return reply{}, ctx.Err()
		}
		return reply{}, fmt.Errorf("ipc: unreadable reply from the running trustwatch: %w", err)
	}
	if rep.Error != "" {
		return reply{}, fmt.Errorf("ipc: the running trustwatch says: %s", engine.Clip(rep.Error, 200))
	}
	if rep.Snapshot == nil {
		return reply{}, errors.New("ipc: reply without a snapshot")
	}
	return rep, nil
}
