package desktoptest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/introspect"
)

const (
	notifName  = "org.freedesktop.Notifications"
	notifPath  = dbus.ObjectPath("/org/freedesktop/Notifications")
	notifIface = "org.freedesktop.Notifications"
)

// NotifyCall is one recorded org.freedesktop.Notifications.Notify call.
type NotifyCall struct {
	ID         uint32 // the id the server answered
	AppName    string
	ReplacesID uint32
	AppIcon    string
	Summary    string
	Body       string
	Actions    []string // key, label, key, label…
	Hints      map[string]dbus.Variant
	Expire     int32
	At         time.Time // when the server received it
}

// CloseCall is one recorded CloseNotification call.
type CloseCall struct {
	ID uint32
	At time.Time
}

// ActionKeys returns the action keys of the call.
func (c NotifyCall) ActionKeys() []string {
	var keys []string
	for i := 0; i+1 < len(c.Actions); i += 2 {
		keys = append(keys, c.Actions[i])
	}
	return keys
}

// FakeServer owns org.freedesktop.Notifications on a private bus and
// records every call, so tests can assert exact Notify arguments.
type FakeServer struct {
	conn *dbus.Conn

	mu      sync.Mutex
	calls   []NotifyCall
	closed  []CloseCall
	caps    []string
	nextID  uint32
	hang    chan struct{} // non-nil: Notify blocks until it is closed
	changed chan struct{} // closed and replaced on every recorded call
}

// fakeImpl holds the exported D-Bus methods (godbus exports every exported
// method of the value, so the test-side API lives on FakeServer instead).
type fakeImpl struct{ s *FakeServer }

func (f fakeImpl) GetCapabilities() ([]string, *dbus.Error) {
	f.s.mu.Lock()
	defer f.s.mu.Unlock()
	return slices.Clone(f.s.caps), nil
}

func (f fakeImpl) Notify(msg dbus.Message, app string, replaces uint32, icon, summary, body string,
	actions []string, hints map[string]dbus.Variant, expire int32) (uint32, *dbus.Error) {
	// godbus re-wraps each stored variant and loses its wire signature
	// (image-data would read "av", not "(iiibiiay)"), so keep the raw map.
	if raw, ok := msg.Body[6].(map[string]dbus.Variant); ok {
		hints = raw
	}
	f.s.mu.Lock()
	hang := f.s.hang
	f.s.mu.Unlock()
	if hang != nil {
		<-hang
	}
	at := time.Now()
	f.s.mu.Lock()
	defer f.s.mu.Unlock()
	id := replaces
	if id == 0 {
		f.s.nextID++
		id = f.s.nextID
	}
	f.s.calls = append(f.s.calls, NotifyCall{
		ID: id, AppName: app, ReplacesID: replaces, AppIcon: icon, Summary: summary, Body: body,
		Actions: actions, Hints: hints, Expire: expire, At: at,
	})
	close(f.s.changed)
	f.s.changed = make(chan struct{})
	return id, nil
}

func (f fakeImpl) CloseNotification(id uint32) *dbus.Error {
	f.s.mu.Lock()
	f.s.closed = append(f.s.closed, CloseCall{ID: id, At: time.Now()})
	close(f.s.changed)
	f.s.changed = make(chan struct{})
	f.s.mu.Unlock()
	// Reason 3: closed by a call to CloseNotification.
	_ = f.s.conn.Emit(notifPath, notifIface+".NotificationClosed", id, uint32(3))
	return nil
}

func (f fakeImpl) GetServerInformation() (string, string, string, string, *dbus.Error) {
	return "trustwatch-fake", "trustwatch", "1.0", "1.2", nil
}

const fakeIntrospect = `
<interface name="org.freedesktop.Notifications">
  <method name="GetCapabilities"><arg direction="out" type="as"/></method>
  <method name="Notify">
    <arg direction="in" type="s" name="app_name"/><arg direction="in" type="u" name="replaces_id"/>
    <arg direction="in" type="s" name="app_icon"/><arg direction="in" type="s" name="summary"/>
    <arg direction="in" type="s" name="body"/><arg direction="in" type="as" name="actions"/>
    <arg direction="in" type="a{sv}" name="hints"/><arg direction="in" type="i" name="expire_timeout"/>
    <arg direction="out" type="u" name="id"/>
  </method>
  <method name="CloseNotification"><arg direction="in" type="u" name="id"/></method>
  <method name="GetServerInformation">
    <arg direction="out" type="s" name="name"/><arg direction="out" type="s" name="vendor"/>
    <arg direction="out" type="s" name="version"/><arg direction="out" type="s" name="spec_version"/>
  </method>
  <signal name="NotificationClosed"><arg type="u" name="id"/><arg type="u" name="reason"/></signal>
  <signal name="ActionInvoked"><arg type="u" name="id"/><arg type="s" name="action_key"/></signal>
</interface>`

// FakeNotificationServer starts a fake server on the bus at busAddr. It
// advertises the "body" and "actions" capabilities (see SetCapabilities).
func FakeNotificationServer(t testing.TB, busAddr string) *FakeServer {
	t.Helper()
	conn, err := dbus.Connect(busAddr)
	if err != nil {
		t.Fatalf("fake notification server: connect: %v", err)
	}
	s := &FakeServer{conn: conn, caps: []string{"body", "actions"}, changed: make(chan struct{})}
	t.Cleanup(s.Close)
	if err := conn.Export(fakeImpl{s}, notifPath, notifIface); err != nil {
		t.Fatal(err)
	}
	node := "<node>" + fakeIntrospect + introspect.IntrospectDataString + "</node>"
	if err := conn.Export(introspect.Introspectable(node), notifPath, "org.freedesktop.DBus.Introspectable"); err != nil {
		t.Fatal(err)
	}
	reply, err := conn.RequestName(notifName, dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("fake notification server: cannot own %s (reply %v, err %v)", notifName, reply, err)
	}
	return s
}

// Close releases the name and disconnects, like a server that exits.
// Safe to call more than once; also called at the end of the test.
func (s *FakeServer) Close() {
	s.mu.Lock()
	if s.hang != nil {
		close(s.hang)
		s.hang = nil
	}
	s.mu.Unlock()
	s.conn.Close()
}

// SetCapabilities replaces what GetCapabilities answers.
func (s *FakeServer) SetCapabilities(caps ...string) {
	s.mu.Lock()
	s.caps = caps
	s.mu.Unlock()
}

// Hang makes every later Notify block (like a wedged server) until the
// returned release is called or the test ends.
func (s *FakeServer) Hang() (release func()) {
	s.mu.Lock()
	ch := make(chan struct{})
	s.hang = ch
	s.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			if s.hang == ch {
				close(ch)
				s.hang = nil
			}
			s.mu.Unlock()
		})
	}
}

// Calls returns the Notify calls so far.
func (s *FakeServer) Calls() []NotifyCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// Closed returns the CloseNotification calls so far.
func (s *FakeServer) Closed() []CloseCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.closed)
}

// WaitClosed waits until at least n CloseNotification calls were recorded
// and returns them all; it fails the test after timeout.
func (s *FakeServer) WaitClosed(t testing.TB, n int, timeout time.Duration) []CloseCall {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		closed, changed := slices.Clone(s.closed), s.changed
		s.mu.Unlock()
		if len(closed) >= n {
			return closed
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("fake notification server: %d CloseNotification calls after %v, want %d", len(closed), timeout, n)
			return nil
		}
	}
}

// Expire emits NotificationClosed(id, 1 = expired), as a server does when
// a notification times out.
func (s *FakeServer) Expire(id uint32) error {
	return s.conn.Emit(notifPath, notifIface+".NotificationClosed", id, uint32(1))
}

// WaitCalls waits until at least n Notify calls were recorded and returns
// them all; it fails the test after timeout.
func (s *FakeServer) WaitCalls(t testing.TB, n int, timeout time.Duration) []NotifyCall {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		calls, changed := slices.Clone(s.calls), s.changed
		s.mu.Unlock()
		if len(calls) >= n {
			return calls
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("fake notification server: %d Notify calls after %v, want %d: %+v", len(calls), timeout, n, calls)
			return nil
		}
	}
}

// InvokeAction emits ActionInvoked(id, key) and then NotificationClosed(id,
// 2 = dismissed by the user), as servers do when an action is clicked.
func (s *FakeServer) InvokeAction(id uint32, key string) error {
	if err := s.conn.Emit(notifPath, notifIface+".ActionInvoked", id, key); err != nil {
		return fmt.Errorf("emit ActionInvoked: %w", err)
	}
	if err := s.conn.Emit(notifPath, notifIface+".NotificationClosed", id, uint32(2)); err != nil {
		return fmt.Errorf("emit NotificationClosed: %w", err)
	}
	return nil
}

// Conn is the server's own connection (for emitting odd signals in tests).
func (s *FakeServer) Conn() *dbus.Conn { return s.conn }
