// Package sim is a simulated usbmuxd daemon with simulated iPhones behind it.
// It speaks the real wire protocols (usbmuxd plist protocol, lockdownd with a
// real TLS session, insecure_notification_proxy) so that trustwatch, go-ios
// and libimobiledevice's tools can be tested without a phone. It is
// deliberately independent of trustwatch's own client code.
package sim

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Options configures Start.
type Options struct {
	SocketPath string                           // unix socket path to listen on ("" = a fresh temp path)
	TCPAddr    string                           // optional, e.g. "127.0.0.1:0"
	Logf       func(format string, args ...any) // optional

	// LockdownIdleTimeout closes a lockdown connection that sent nothing for
	// this long, as lockdownd does after ~10 s. 0 = 10s, negative = never.
	LockdownIdleTimeout time.Duration

	// Preflight makes the daemon behave like Linux usbmuxd's preflight
	// (protocol.md §6.1): on attach it validates the stored record, pairs
	// untrusted phones itself (the Trust alert shows without any client),
	// pairs again and sends Paired when the user taps Trust, and never
	// lists a phone whose lockdownd misbehaves (usbmuxd#281).
	Preflight bool

	// RequestLog is how many requests each device keeps in Stats.Requests:
	// 0 = 5000, negative = none (a test that measures this process's heap
	// over thousands of cycles keeps the log from growing under it).
	RequestLog int
}

// Server is a running simulated usbmuxd.
type Server struct {
	logf        func(string, ...any)
	idle        time.Duration
	preflight   bool
	requestLog  int // entries kept per device; 0: none
	sockPath    string
	ownTempDir  string // removed on Close when we created it
	tcpWant     string
	tcpAddr     string // resolved on first Start, reused by Restart
	systemBUID  string
	hostID      string // HostID of the records the sim itself writes (Trusted devices)
	wg          sync.WaitGroup
	mu          sync.Mutex
	closed      bool
	running     bool
	listeners   []net.Listener
	conns       map[net.Conn]struct{}
	listenersMx map[*muxClient]struct{} // usbmuxd Listen clients
	devices     []*Device
	byID        map[int]*Device // DeviceID (USB and Network) -> device
	store       map[string][]byte
	nextID      int
	nextSerial  int
	muxFault    MuxFault
	muxStats    MuxStats
	timers      map[*time.Timer]struct{}
}

// Start creates the server and starts listening.
func Start(opts Options) (*Server, error) {
	s := &Server{
		logf:        opts.Logf,
		idle:        opts.LockdownIdleTimeout,
		preflight:   opts.Preflight,
		requestLog:  opts.RequestLog,
		sockPath:    opts.SocketPath,
		tcpWant:     opts.TCPAddr,
		systemBUID:  newUUID(),
		hostID:      newUUID(),
		conns:       map[net.Conn]struct{}{},
		listenersMx: map[*muxClient]struct{}{},
		byID:        map[int]*Device{},
		store:       map[string][]byte{},
		nextID:      1,
		timers:      map[*time.Timer]struct{}{},
		muxStats:    MuxStats{Requests: map[string]int{}},
	}
	if s.logf == nil {
		s.logf = func(string, ...any) {}
	}
	if s.idle == 0 {
		s.idle = 10 * time.Second
	}
	switch {
	case s.requestLog == 0:
		s.requestLog = maxRequestLog
	case s.requestLog < 0:
		s.requestLog = 0
	}
	if s.sockPath == "" {
		dir, err := os.MkdirTemp("", "twsim-")
		if err != nil {
			return nil, fmt.Errorf("sim: temp dir: %w", err)
		}
		s.ownTempDir = dir
		s.sockPath = filepath.Join(dir, "usbmuxd.sock")
	}
	abs, err := filepath.Abs(s.sockPath)
	if err != nil {
		return nil, fmt.Errorf("sim: socket path: %w", err)
	}
	s.sockPath = abs
	if err := s.listen(); err != nil {
		if s.ownTempDir != "" {
			os.RemoveAll(s.ownTempDir)
		}
		return nil, err
	}
	return s, nil
}

func (s *Server) listen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("sim: server closed")
	}
	if s.running {
		return nil
	}
	// A stale socket file from a crashed run would make Listen fail; only
	// remove it if it really is a socket.
	if fi, err := os.Lstat(s.sockPath); err == nil && fi.Mode()&os.ModeSocket != 0 {
		os.Remove(s.sockPath)
	}
	ul, err := net.Listen("unix", s.sockPath)
	if err != nil {
		return fmt.Errorf("sim: listen %s: %w", s.sockPath, err)
	}
	ls := []net.Listener{ul}
	if s.tcpWant != "" {
		addr := s.tcpWant
		if s.tcpAddr != "" {
			addr = s.tcpAddr
		}
		tl, err := net.Listen("tcp", addr)
		if err != nil {
			ul.Close()
			return fmt.Errorf("sim: listen tcp %s: %w", addr, err)
		}
		s.tcpAddr = tl.Addr().String()
		ls = append(ls, tl)
	}
	s.listeners = ls
	s.running = true
	for _, l := range ls {
		s.wg.Add(1)
		go s.acceptLoop(l)
	}
	s.logf("sim: usbmuxd listening on %s", s.Address())
	return nil
}

func (s *Server) acceptLoop(l net.Listener) {
	defer s.wg.Done()
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		if !s.track(c) {
			c.Close()
			return
		}
		go func() {
			defer s.wg.Done()
			defer s.untrack(c)
			s.serveMux(c)
		}()
	}
}

// track registers a connection and one goroutine for it; false when the
// server is stopping (the caller must then drop the connection).
func (s *Server) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || !s.running {
		return false
	}
	s.conns[c] = struct{}{}
	s.muxStats.Connections++
	s.wg.Add(1)
	return true
}

func (s *Server) untrack(c net.Conn) {
	c.Close()
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// goTracked runs f in a goroutine that Close waits for; it does nothing once
// the server is closed.
func (s *Server) goTracked(f func()) bool {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return false
	}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		f()
	}()
	return true
}

// Address is the usbmuxd address in the form libimobiledevice and go-ios
// both accept, for USBMUXD_SOCKET_ADDRESS.
func (s *Server) Address() string { return "UNIX://" + s.sockPath }

// SocketPath is the absolute path of the unix socket.
func (s *Server) SocketPath() string { return s.sockPath }

// TCPAddress is the TCP listener's host:port ("" without Options.TCPAddr).
func (s *Server) TCPAddress() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tcpAddr
}

// SystemBUID is the BUID that ReadBUID returns.
func (s *Server) SystemBUID() string { return s.systemBUID }

// HostID is the HostID of the pair records the sim writes itself for
// Trusted/Revoked/BadRecord devices.
func (s *Server) HostID() string { return s.hostID }

// Stop simulates usbmuxd going away: listeners and every connection close,
// the socket file disappears, devices keep their state. It always returns
// nil (the error is there for symmetry with Restart).
func (s *Server) Stop() error {
	s.mu.Lock()
	ls := s.listeners
	s.listeners = nil
	s.running = false
	for c := range s.conns {
		c.Close()
	}
	for lc := range s.listenersMx {
		lc.closeQueue()
		delete(s.listenersMx, lc)
	}
	s.mu.Unlock()
	for _, l := range ls {
		l.Close()
	}
	s.logf("sim: usbmuxd stopped")
	return nil
}

// Restart brings usbmuxd back on the same address(es) after Stop (it stops
// first if still running).
func (s *Server) Restart() error {
	s.Stop()
	return s.listen()
}

// Close stops everything and waits until no goroutine of the server is left.
func (s *Server) Close() error {
	s.Stop()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	for t := range s.timers {
		t.Stop()
	}
	s.timers = nil
	s.mu.Unlock()
	s.wg.Wait()
	if s.ownTempDir != "" {
		os.RemoveAll(s.ownTempDir)
	}
	return nil
}

// MuxStats counts what clients did to the daemon itself.
type MuxStats struct {
	Connections   int            // accepted client connections (unix and TCP)
	Requests      map[string]int // plist requests by MessageType ("" for none)
	ListenClients int            // Listen clients connected right now
}

// MuxStats returns a copy of the daemon's counters, e.g. to measure how
// often a watcher polls.
func (s *Server) MuxStats() MuxStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.muxStats
	st.Requests = make(map[string]int, len(s.muxStats.Requests))
	for k, v := range s.muxStats.Requests {
		st.Requests[k] = v
	}
	st.ListenClients = len(s.listenersMx)
	return st
}

// SetMuxFault makes every usbmuxd reply misbehave (MuxFaultNone restores).
func (s *Server) SetMuxFault(f MuxFault) {
	s.mu.Lock()
	s.muxFault = f
	s.mu.Unlock()
}

// Devices lists every device, attached or not, in creation order.
func (s *Server) Devices() []*Device {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Device(nil), s.devices...)
}

// Device finds a device by UDID (either hyphen form), name or DeviceID
// ("3"); nil if none matches.
func (s *Server) Device(key string) *Device {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range s.devices {
		if normUDID(d.udid) == normUDID(key) || d.cfg.Name == key || fmt.Sprint(d.id) == key {
			return d
		}
	}
	return nil
}

// PairRecord returns the host-side pair record usbmuxd keeps for udid.
func (s *Server) PairRecord(udid string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.store[normUDID(udid)]
	return append([]byte(nil), b...), ok
}

// SetPairRecord stores (or with nil, deletes) a host-side record directly.
func (s *Server) SetPairRecord(udid string, record []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if record == nil {
		delete(s.store, normUDID(udid))
		return
	}
	s.store[normUDID(udid)] = append([]byte(nil), record...)
}

// normUDID makes usbmuxd's hyphenated and USB's plain serials comparable.
func normUDID(u string) string {
	return strings.ToUpper(strings.ReplaceAll(u, "-", ""))
}

// hyphenUDID inserts usbmuxd's hyphen into 24-character serials.
func hyphenUDID(u string) string {
	if len(u) == 24 && !strings.Contains(u, "-") {
		return u[:8] + "-" + u[8:]
	}
	return u
}

func newUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return strings.ToUpper(fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:]))
}
