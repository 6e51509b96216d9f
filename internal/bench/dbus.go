package bench

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/godbus/dbus/v5"
)

// Notification is one recorded Notify call.
type Notification struct {
	At            time.Time
	Summary, Body string
	Replaces      uint32 // 0: a new bubble; else the one it updates in place
}

// Notifier owns org.freedesktop.Notifications on a bus and records every
// Notify call, so the bench can count what the tray really sent.
type Notifier struct {
	conn  *dbus.Conn
	mu    sync.Mutex
	calls []Notification
	next  uint32
}

type notifierImpl struct{ n *Notifier }

func (f notifierImpl) GetCapabilities() ([]string, *dbus.Error) {
	return []string{"body", "actions"}, nil
}

func (f notifierImpl) Notify(app string, replaces uint32, icon, summary, body string,
	actions []string, hints map[string]dbus.Variant, expire int32) (uint32, *dbus.Error) {
	f.n.mu.Lock()
	defer f.n.mu.Unlock()
	f.n.calls = append(f.n.calls, Notification{At: time.Now(), Summary: summary, Body: body, Replaces: replaces})
	if replaces != 0 {
		return replaces, nil
	}
	f.n.next++
	return f.n.next, nil
}

func (f notifierImpl) CloseNotification(id uint32) *dbus.Error { return nil }

func (f notifierImpl) GetServerInformation() (string, string, string, string, *dbus.Error) {
	return "twbench", "trustwatch", "1.0", "1.2", nil
}

// StartNotifier connects to the bus at addr and takes the notification name.
func StartNotifier(addr string) (*Notifier, error) {
	conn, err := dbus.Connect(addr)
	if err != nil {
		return nil, fmt.Errorf("notification server: %w", err)
	}
	n := &Notifier{conn: conn}
	const path = dbus.ObjectPath("/org/freedesktop/Notifications")
	if err := conn.Export(notifierImpl{n}, path, "org.freedesktop.Notifications"); err != nil {
		conn.Close()
		return nil, err
	}
	reply, err := conn.RequestName("org.freedesktop.Notifications", dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		conn.Close()
		return nil, fmt.Errorf("cannot own org.freedesktop.Notifications (reply %v, err %v)", reply, err)
	}
	return n, nil
}

// Calls returns a copy of every Notify call so far.
func (n *Notifier) Calls() []Notification {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]Notification(nil), n.calls...)
}

// Reset forgets the calls recorded so far.
func (n *Notifier) Reset() {
	n.mu.Lock()
	n.calls = nil
	n.mu.Unlock()
}

// Close releases the name and the connection.
func (n *Notifier) Close() {
	if n != nil {
		n.conn.Close()
	}
}

// waitOwner polls until name has an owner on the bus at addr.
func waitOwner(addr, name string, timeout time.Duration) error {
	conn, err := dbus.Connect(addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		var ok bool
		err := conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, name).Store(&ok)
		cancel()
		if err == nil && ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s has no owner after %v (last error %v)", name, timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
