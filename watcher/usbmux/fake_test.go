package usbmux

import (
	"context"
	"encoding/binary"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"howett.net/plist"
)

// fakeMux is a minimal usbmuxd: a unix socket whose connections are handed
// to handle, one goroutine each. Everything is torn down by t.Cleanup.
type fakeMux struct {
	t      *testing.T
	ln     net.Listener
	addr   Address
	handle func(c net.Conn)
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  []net.Conn
}

func newFakeMux(t *testing.T, handle func(c net.Conn)) *fakeMux {
	t.Helper()
	// Short path: unix socket paths are limited to ~108 bytes.
	dir, err := os.MkdirTemp("", "mux")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "s")
	ln, err := net.Listen("unix", p)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeMux{t: t, ln: ln, addr: Address{Network: "unix", Path: p}, handle: handle}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			f.mu.Lock()
			f.conns = append(f.conns, c)
			f.mu.Unlock()
			f.wg.Add(1)
			go func() {
				defer f.wg.Done()
				defer c.Close()
				f.handle(c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		f.mu.Lock()
		for _, c := range f.conns {
			c.Close()
		}
		f.mu.Unlock()
		f.wg.Wait()
		os.RemoveAll(dir)
	})
	return f
}

// readReq reads one request frame as the daemon would.
func readReq(c net.Conn) (header, map[string]any, error) {
	return readFrame(context.Background(), c)
}

// writeMsg sends a plist message with the given tag.
func writeMsg(c net.Conn, tag uint32, m map[string]any) error {
	payload, err := plist.Marshal(m, plist.XMLFormat)
	if err != nil {
		return err
	}
	return writeRaw(c, uint32(headerSize+len(payload)), 1, msgPlist, tag, payload)
}

func writeRaw(c net.Conn, length, version, msg, tag uint32, payload []byte) error {
	var h [headerSize]byte
	binary.LittleEndian.PutUint32(h[0:], length)
	binary.LittleEndian.PutUint32(h[4:], version)
	binary.LittleEndian.PutUint32(h[8:], msg)
	binary.LittleEndian.PutUint32(h[12:], tag)
	_, err := c.Write(append(h[:], payload...))
	return err
}

func result(n int) map[string]any { return map[string]any{"MessageType": "Result", "Number": n} }

func attachedMsg(id int, serial, conn string) map[string]any {
	return map[string]any{
		"MessageType": "Attached",
		"DeviceID":    id,
		"Properties": map[string]any{
			"ConnectionSpeed": 480000000,
			"ConnectionType":  conn,
			"DeviceID":        id,
			"LocationID":      1<<16 | 5,
			"ProductID":       0x12a8,
			"SerialNumber":    serial,
		},
	}
}

// oneShot answers the first request of each connection with reply(req).
func oneShot(reply func(req map[string]any) map[string]any) func(net.Conn) {
	return func(c net.Conn) {
		h, req, err := readReq(c)
		if err != nil {
			return
		}
		_ = writeMsg(c, h.Tag, reply(req))
	}
}
