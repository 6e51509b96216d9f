package lockdown

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"testing"
	"time"

	"howett.net/plist"
)

func replyFrame(t *testing.T, m map[string]any) []byte {
	t.Helper()
	body, err := plist.Marshal(m, plist.XMLFormat)
	if err != nil {
		t.Fatal(err)
	}
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
}

// The poll against a scripted lockdownd: the same request each time, the
// answers mapped like Conn's, partial frames assembled, failures typed.
func TestServicePoll(t *testing.T) {
	cl, srv := socketPair(t)
	p, err := NewServicePoll(cl, InsecureNotificationProxy, "")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	answers := make(chan func(net.Conn), 8)
	got := make(chan map[string]any, 8)
	go func() {
		for answer := range answers {
			m, err := readFrame(context.Background(), srv)
			if err != nil {
				return
			}
			got <- m
			answer(srv)
		}
	}()
	defer close(answers)
	soon := func() time.Time { return time.Now().Add(2 * time.Second) }

	refused := replyFrame(t, map[string]any{"Request": "StartService", "Error": "PasswordProtected"})
	for i := 0; i < 3; i++ {
		answers <- func(c net.Conn) { c.Write(refused) }
		if _, err := p.Ask(soon()); !errors.Is(err, ErrPasswordProtected) {
			t.Fatalf("poll %d: %v", i, err)
		}
		if m := <-got; m["Request"] != "StartService" || m["Service"] != InsecureNotificationProxy || m["Label"] != DefaultLabel {
			t.Fatalf("request %v", m)
		}
	}
	// An answer in pieces, the length prefix split too.
	ok := replyFrame(t, map[string]any{"Request": "StartService", "Service": InsecureNotificationProxy, "Port": 49152})
	answers <- func(c net.Conn) {
		for _, cut := range [][2]int{{0, 2}, {2, 30}, {30, len(ok)}} {
			c.Write(ok[cut[0]:cut[1]])
			time.Sleep(20 * time.Millisecond)
		}
	}
	if port, err := p.Ask(soon()); err != nil || port != 49152 {
		t.Fatalf("unlocked: %d %v", port, err)
	}
	<-got
	// Silence: the deadline ends it.
	answers <- func(net.Conn) {}
	t0 := time.Now()
	if _, err := p.Ask(time.Now().Add(100 * time.Millisecond)); !errors.Is(err, ErrTimeout) || time.Since(t0) > time.Second {
		t.Fatalf("silent: %v after %v", err, time.Since(t0))
	}
	<-got
}

func TestServicePollFailures(t *testing.T) {
	for _, tc := range []struct {
		name  string
		reply func(t *testing.T) []byte
		want  error
	}{
		{"garbage", func(*testing.T) []byte { return append(binary.BigEndian.AppendUint32(nil, 5), "junk!"...) }, ErrProtocol},
		{"huge length", func(*testing.T) []byte { return binary.BigEndian.AppendUint32(nil, 1<<31) }, ErrProtocol},
		{"no port", func(t *testing.T) []byte { return replyFrame(t, map[string]any{"Request": "StartService"}) }, ErrProtocol},
		{"hang-up", nil, ErrDisconnected},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cl, srv := socketPair(t)
			p, err := NewServicePoll(cl, InsecureNotificationProxy, "x")
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			go func() {
				if _, err := readFrame(context.Background(), srv); err != nil {
					return
				}
				if tc.reply == nil {
					srv.Close()
					return
				}
				srv.Write(tc.reply(t))
			}()
			if _, err := p.Ask(time.Now().Add(2 * time.Second)); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	// Closed by us: ErrClosed, at once.
	cl, _ := socketPair(t)
	p, _ := NewServicePoll(cl, InsecureNotificationProxy, "")
	p.Close()
	if _, err := p.Ask(time.Now().Add(time.Second)); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}
