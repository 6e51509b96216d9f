package lockdown

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"testing"
	"time"

	"howett.net/plist"

	"github.com/trustwatch/trustwatch/internal/simtest"
)

func TestNotificationStream(t *testing.T) {
	cl, srv := socketPair(t)
	observed := make(chan string, 4)
	shutdown := make(chan struct{})
	script := make(chan func(c net.Conn), 8)
	go func() {
		for {
			m, err := readFrame(context.Background(), srv)
			if err != nil {
				return
			}
			switch m["Command"] {
			case "ObserveNotification":
				observed <- m["Name"].(string)
			case "Shutdown":
				close(shutdown)
				return
			}
		}
	}()
	go func() {
		for f := range script {
			f(srv)
		}
	}()
	defer close(script)
	s, err := ObserveNotifications(simtest.Ctx(t, 2*time.Second), cl, RequestPair, LockState)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if a, b := <-observed, <-observed; a != RequestPair || b != LockState {
		t.Fatalf("observed %q %q", a, b)
	}
	// A relay split into pieces arriving slower than Next's timeout: each
	// timed-out Next keeps the partial message.
	relay, _ := plist.Marshal(map[string]any{"Command": "RelayNotification", "Name": RequestPair}, plist.XMLFormat)
	frame := binary.BigEndian.AppendUint32(nil, uint32(len(relay)))
	frame = append(frame, relay...)
	script <- func(c net.Conn) {
		for i := 0; i < len(frame); i += len(frame)/3 + 1 {
			end := min(i+len(frame)/3+1, len(frame))
			_, _ = c.Write(frame[i:end])
			time.Sleep(60 * time.Millisecond)
		}
	}
	var got string
	timeouts := 0
	for got == "" {
		name, err := s.Next(simtest.Ctx(t, 25*time.Millisecond))
		switch {
		case err == nil:
			got = name
		case errors.Is(err, ErrTimeout):
			if timeouts++; timeouts > 50 {
				t.Fatal("notification never assembled")
			}
		default:
			t.Fatalf("Next: %v", err)
		}
	}
	if got != RequestPair || timeouts < 2 {
		t.Fatalf("got %q after %d timeouts", got, timeouts)
	}
	// Unknown commands are skipped; ProxyDeath is final.
	script <- func(c net.Conn) {
		_ = writeFrame(c, map[string]any{"Command": "Whatever"})
		_ = writeFrame(c, map[string]any{"Command": "RelayNotification", "Name": LockState})
		_ = writeFrame(c, map[string]any{"Command": "ProxyDeath"})
	}
	if name, err := s.Next(simtest.Ctx(t, 2*time.Second)); err != nil || name != LockState {
		t.Fatalf("Next = %q %v", name, err)
	}
	if _, err := s.Next(simtest.Ctx(t, 2*time.Second)); !errors.Is(err, ErrProxyDeath) {
		t.Fatalf("after ProxyDeath: %v", err)
	}
	if _, err := s.Next(simtest.Ctx(t, 2*time.Second)); !errors.Is(err, ErrProxyDeath) {
		t.Fatalf("not sticky: %v", err)
	}
	s.Close()
	select {
	case <-shutdown:
	case <-time.After(2 * time.Second):
		t.Fatal("Close did not send Shutdown")
	}
}

func TestNotificationStreamCloseAndGarbage(t *testing.T) {
	fds := simtest.FDs(t)
	gor := simtest.Goroutines()
	cl, srv := rawSocketPair(t)
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		b := make([]byte, 256)
		for {
			if _, err := srv.Read(b); err != nil {
				return
			}
		}
	}()
	s, err := ObserveNotifications(simtest.Ctx(t, time.Second), cl, RequestPair)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { _, err := s.Next(context.Background()); errc <- err }()
	time.Sleep(30 * time.Millisecond)
	s.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("Next after Close: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Close did not unblock Next")
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	<-drained
	srv.Close()
	simtest.WaitFDs(t, fds)
	simtest.WaitGoroutines(t, gor)

	// A huge length is refused without waiting for (or allocating) the body.
	cl2, srv2 := socketPair(t)
	go func() { _, _ = srv2.Write([]byte{0xff, 0xff, 0xff, 0xff, '<'}) }()
	s2, err := ObserveNotifications(simtest.Ctx(t, time.Second), cl2, RequestPair)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if _, err := s2.Next(simtest.Ctx(t, 2*time.Second)); !errors.Is(err, ErrProtocol) {
		t.Fatalf("huge length: %v", err)
	}
	// Cancellation is reported and not final.
	cl3, srv3 := socketPair(t)
	go func() { b := make([]byte, 256); _, _ = srv3.Read(b) }()
	s3, err := ObserveNotifications(simtest.Ctx(t, time.Second), cl3, RequestPair)
	if err != nil {
		t.Fatal(err)
	}
	defer s3.Close()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	if _, err := s3.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancel: %v", err)
	}
	go func() { _ = writeFrame(srv3, map[string]any{"Command": "RelayNotification", "Name": "x"}) }()
	if n, err := s3.Next(simtest.Ctx(t, 2*time.Second)); err != nil || n != "x" {
		t.Fatalf("after cancel: %q %v", n, err)
	}
	if _, err := ObserveNotifications(simtest.Ctx(t, time.Second), cl3); err == nil {
		t.Fatal("no names accepted")
	}
}
