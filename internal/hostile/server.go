package hostile

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"howett.net/plist"
)

// Options say how the hostile usbmuxd answers. Zero values answer like a
// daemon with no devices.
type Options struct {
	// ListenReply is the body of the reply to Listen (default: Result 0).
	ListenReply []byte
	// AfterListen writes events after the Listen reply until it returns or
	// ctx ends (the server closing).
	AfterListen func(ctx context.Context, w io.Writer)
	// DropListen closes the Listen connection once AfterListen is done.
	DropListen bool
	// ListDevicesReply is the body of the ListDevices reply (default: an
	// empty list).
	ListDevicesReply []byte
	// ListDevicesBinaryResult, when set, answers ListDevices with a binary
	// RESULT message carrying this number, as pre-plist daemons did.
	ListDevicesBinaryResult *uint32
	// Lockdown, when set, serves a Connect (after Result 0) as the phone's
	// lockdownd; otherwise Connect is refused (Result 3).
	Lockdown func(c net.Conn)
}

// Server is a running hostile usbmuxd on a unix socket.
type Server struct {
	path   string
	ln     net.Listener
	opts   Options
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  map[net.Conn]struct{}

	Listens, ListDevicesCalls, Connects atomic.Int64
	// FirstConnect is when the first Connect arrived (unix nanoseconds).
	FirstConnect atomic.Int64
}

// Start listens on a fresh socket in dir.
func Start(dir string, opts Options) (*Server, error) {
	p := filepath.Join(dir, "usbmuxd.sock")
	ln, err := net.Listen("unix", p)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{path: p, ln: ln, opts: opts, ctx: ctx, cancel: cancel, conns: map[net.Conn]struct{}{}}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// Address is the USBMUXD_SOCKET_ADDRESS value for the server.
func (s *Server) Address() string { return "UNIX://" + s.path }

// Close stops the server and every connection it holds.
func (s *Server) Close() {
	s.cancel()
	s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() {
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
				c.Close()
			}()
			s.serve(c)
		}()
	}
}

func (s *Server) serve(c net.Conn) {
	var hb [16]byte
	if _, err := io.ReadFull(c, hb[:]); err != nil {
		return
	}
	n := binary.LittleEndian.Uint32(hb[0:])
	tag := binary.LittleEndian.Uint32(hb[12:])
	if n < 16 || n > 1<<20 {
		return
	}
	body := make([]byte, n-16)
	if _, err := io.ReadFull(c, body); err != nil {
		return
	}
	var req map[string]any
	if _, err := plist.Unmarshal(body, &req); err != nil {
		return
	}
	switch req["MessageType"] {
	case "Listen":
		s.Listens.Add(1)
		reply := s.opts.ListenReply
		if reply == nil {
			reply = XML(map[string]any{"MessageType": "Result", "Number": 0})
		}
		if _, err := c.Write(Frame(tag, reply)); err != nil {
			return
		}
		if s.opts.AfterListen != nil {
			s.opts.AfterListen(s.ctx, c)
		}
		if s.opts.DropListen {
			return
		}
		<-s.ctx.Done()
	case "ListDevices":
		s.ListDevicesCalls.Add(1)
		if r := s.opts.ListDevicesBinaryResult; r != nil {
			var f [20]byte
			binary.LittleEndian.PutUint32(f[0:], 20)
			binary.LittleEndian.PutUint32(f[8:], 1) // RESULT
			binary.LittleEndian.PutUint32(f[12:], tag)
			binary.LittleEndian.PutUint32(f[16:], *r)
			_, _ = c.Write(f[:])
			return
		}
		reply := s.opts.ListDevicesReply
		if reply == nil {
			reply = XML(map[string]any{"DeviceList": []any{}})
		}
		_, _ = c.Write(Frame(tag, reply))
	case "Connect":
		if s.Connects.Add(1) == 1 {
			s.FirstConnect.Store(time.Now().UnixNano())
		}
		if s.opts.Lockdown == nil {
			_, _ = c.Write(Frame(tag, XML(map[string]any{"MessageType": "Result", "Number": 3})))
			return
		}
		if _, err := c.Write(Frame(tag, XML(map[string]any{"MessageType": "Result", "Number": 0}))); err != nil {
			return
		}
		s.opts.Lockdown(c)
	case "ReadPairRecord":
		_, _ = c.Write(Frame(tag, XML(map[string]any{"MessageType": "Result", "Number": 2})))
	case "ReadBUID":
		_, _ = c.Write(Frame(tag, XML(map[string]any{"BUID": "00000000-0000-0000-0000-000000000000"})))
	default:
		_, _ = c.Write(Frame(tag, XML(map[string]any{"MessageType": "Result", "Number": 1})))
	}
}

// Frame wraps a plist body in a usbmuxd header.
func Frame(tag uint32, body []byte) []byte {
	b := make([]byte, 16, 16+len(body))
	binary.LittleEndian.PutUint32(b[0:], uint32(16+len(body)))
	binary.LittleEndian.PutUint32(b[4:], 1)
	binary.LittleEndian.PutUint32(b[8:], 8)
	binary.LittleEndian.PutUint32(b[12:], tag)
	return append(b, body...)
}

// XML encodes v as an XML plist.
func XML(v any) []byte {
	b, err := plist.Marshal(v, plist.XMLFormat)
	if err != nil {
		panic(err)
	}
	return b
}

// AttachedFlood writes Attached events with ever new DeviceIDs (and
// UDIDs) until ctx ends or the client stops reading.
func AttachedFlood(ctx context.Context, w io.Writer) {
	var buf bytes.Buffer
	for id := 1; ctx.Err() == nil; id++ {
		buf.Reset()
		buf.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\">\n")
		buf.WriteString(AttachedEntryXML(id, ""))
		buf.WriteString("</plist>\n")
		if _, err := w.Write(Frame(0, buf.Bytes())); err != nil {
			return
		}
	}
}

// AttachedList writes n Attached events (DeviceIDs 1..n), as usbmuxd does
// for the devices already present when a client Listens.
func AttachedList(n int) func(ctx context.Context, w io.Writer) {
	return func(ctx context.Context, w io.Writer) {
		for id := 1; id <= n && ctx.Err() == nil; id++ {
			body := "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\">\n" + AttachedEntryXML(id, "") + "</plist>\n"
			if _, err := w.Write(Frame(0, []byte(body))); err != nil {
				return
			}
		}
	}
}

// LockdownError serves lockdownd that answers every request with Error
// set to code (a 3 MB one, say).
func LockdownError(code string) func(c net.Conn) {
	return func(c net.Conn) {
		for {
			var lb [4]byte
			if _, err := io.ReadFull(c, lb[:]); err != nil {
				return
			}
			n := binary.BigEndian.Uint32(lb[:])
			if n > 1<<20 {
				return
			}
			body := make([]byte, n)
			if _, err := io.ReadFull(c, body); err != nil {
				return
			}
			var req map[string]any
			_, _ = plist.Unmarshal(body, &req)
			reply := XML(map[string]any{"Request": req["Request"], "Error": code})
			out := binary.BigEndian.AppendUint32(nil, uint32(len(reply)))
			if _, err := c.Write(append(out, reply...)); err != nil {
				return
			}
		}
	}
}

// errFull is returned by FillBacklog when the socket never filled up.
var errFull = errors.New("hostile: the listen queue never filled")

// FullSocket is a unix socket whose listen queue is full and never
// drained: every further connect fails with EAGAIN ("resource temporarily
// unavailable"), as a swamped usbmuxd does.
type FullSocket struct {
	Path  string
	ln    net.Listener
	conns []net.Conn
}

// StartFull creates the socket and fills its queue.
func StartFull(dir string) (*FullSocket, error) {
	p := filepath.Join(dir, "busy.sock")
	ln, err := listenBacklog(p, 1)
	if err != nil {
		return nil, err
	}
	f := &FullSocket{Path: p, ln: ln}
	for i := 0; i < 64; i++ {
		c, err := net.DialTimeout("unix", p, time.Second)
		if err != nil {
			return f, nil // full: what we wanted
		}
		f.conns = append(f.conns, c)
	}
	f.Close()
	return nil, fmt.Errorf("%w after 64 connections", errFull)
}

// Address is the USBMUXD_SOCKET_ADDRESS value.
func (f *FullSocket) Address() string { return "UNIX://" + f.Path }

// Close releases the socket.
func (f *FullSocket) Close() {
	for _, c := range f.conns {
		c.Close()
	}
	f.ln.Close()
	os.Remove(f.Path)
}
