package lockdown

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// Notification names and the services that relay them.
const (
	// RequestPair fires when the user taps Trust (via the insecure proxy,
	// which needs no pairing; it fails with ErrPasswordProtected while locked).
	RequestPair = "com.apple.mobile.lockdown.request_pair"
	// RequestHostBUID is asked for alongside RequestPair by usbmuxd.
	RequestHostBUID = "com.apple.mobile.lockdown.request_host_buid"
	// LockState fires on a lock/unlock change and carries no value: re-read
	// PasswordProtected after it.
	LockState = "com.apple.springboard.lockstate"

	InsecureNotificationProxy = "com.apple.mobile.insecure_notification_proxy"
	NotificationProxy         = "com.apple.mobile.notification_proxy"
)

// NotificationStream reads relayed notifications from a notification proxy
// connection. Next may be called with short deadlines repeatedly: a partly
// received message is kept, not lost. Next is for one goroutine; Close may
// be called from any.
type NotificationStream struct {
	c   net.Conn
	buf []byte // bytes received but not yet consumed

	mu        sync.Mutex // serialises Next
	err       error      // sticky
	closeOnce sync.Once
	closed    chan struct{}
}

// ObserveNotifications subscribes to names on conn, a raw connection to a
// notification proxy service port (usbmux.Connect; the insecure proxy has
// no SSL). The stream owns conn from here on: it is closed by Close, and on
// any error here.
func ObserveNotifications(ctx context.Context, conn net.Conn, names ...string) (*NotificationStream, error) {
	if len(names) == 0 {
		conn.Close()
		return nil, errors.New("lockdown: ObserveNotifications: no notification names")
	}
	s := &NotificationStream{c: conn, closed: make(chan struct{})}
	for _, n := range names {
		if n == "" {
			s.Close()
			return nil, errors.New("lockdown: ObserveNotifications: empty notification name")
		}
		if err := s.send(ctx, map[string]any{"Command": "ObserveNotification", "Name": n}); err != nil {
			s.Close()
			return nil, fmt.Errorf("lockdown: ObserveNotification %s: %w", n, err)
		}
	}
	return s, nil
}

// ObserveLockState subscribes to LockState through the phone's
// notification_proxy, which needs the lockdown session ld has open with
// rec (StartSession). dial connects to a service port on the device
// (usbmux.Connect). The service speaks TLS with the record's host
// certificate when lockdownd asks for it (EnableServiceSSL). The stream
// outlives ld: close ld once this returns; close the stream to stop. The
// relay carries no value: re-read PasswordProtected on every one.
func ObserveLockState(ctx context.Context, ld *Conn, rec *PairRecord, dial func(context.Context, uint16) (net.Conn, error)) (*NotificationStream, error) {
	port, ssl, err := ld.StartService(ctx, NotificationProxy)
	if err != nil {
		return nil, err
	}
	var cert tls.Certificate
	if ssl {
		if cert, err = tls.X509KeyPair(rec.HostCertificate, rec.HostPrivateKey); err != nil {
			return nil, fmt.Errorf("lockdown: %s: %w: %w: host certificate and key: %v", NotificationProxy, ErrTLS, ErrBadPairRecord, err)
		}
	}
	conn, err := dial(ctx, port)
	if err != nil {
		return nil, err
	}
	if ssl {
		if conn, err = serviceTLS(ctx, conn, cert); err != nil {
			return nil, err
		}
	}
	return ObserveNotifications(ctx, conn, LockState)
}

// serviceTLS runs the client side of a service's TLS handshake on conn,
// bounded by ctx; conn is closed on failure.
func serviceTLS(ctx context.Context, conn net.Conn, cert tls.Certificate) (net.Conn, error) {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(DefaultTimeout)
	}
	tc := tls.Client(conn, sessionTLSConfig(cert))
	err := conn.SetDeadline(deadline)
	if err == nil {
		err = tc.HandshakeContext(ctx)
	}
	if err == nil {
		err = conn.SetDeadline(time.Time{})
	}
	if err != nil {
		conn.Close()
		var ne net.Error
		if ctx.Err() != nil || errors.As(err, &ne) && ne.Timeout() {
			return nil, fmt.Errorf("lockdown: %s TLS: %w: %w", NotificationProxy, ErrTimeout, err)
		}
		return nil, fmt.Errorf("lockdown: %s TLS: %w: %w", NotificationProxy, ErrTLS, err)
	}
	return tc, nil
}

func (s *NotificationStream) send(ctx context.Context, msg map[string]any) error {
	frame, err := encodeFrame(msg)
	if err != nil {
		return err
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(DefaultTimeout)
	}
	if err := s.c.SetWriteDeadline(deadline); err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { _ = s.c.SetWriteDeadline(pastTime) })
	defer stop()
	_, err = s.c.Write(frame)
	return s.classify(ctx, err)
}

func (s *NotificationStream) classify(ctx context.Context, err error) error {
	var ne net.Error
	switch {
	case err == nil:
		return nil
	case s.isClosed():
		return ErrClosed
	case errors.Is(ctx.Err(), context.Canceled):
		return ctx.Err()
	case ctx.Err() != nil, errors.As(err, &ne) && ne.Timeout():
		return fmt.Errorf("%w: %w", ErrTimeout, err)
	case isDisconnect(err):
		return fmt.Errorf("%w: %w", ErrDisconnected, err)
	}
	return err
}

func (s *NotificationStream) isClosed() bool {
	select {
	case <-s.closed:
		return true
	default:
		return false
	}
}

// Next waits for the next relayed notification and returns its name. A
// context without a deadline waits until the notification, cancellation,
// Close, or the device going away. A timeout is not final: call Next again.
// ErrProxyDeath, ErrDisconnected, ErrProtocol and ErrClosed are final.
func (s *NotificationStream) Next(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return "", s.err
	}
	if err := ctx.Err(); err != nil {
		return "", s.classify(ctx, err)
	}
	deadline, _ := ctx.Deadline() // zero: no deadline
	if err := s.c.SetReadDeadline(deadline); err != nil {
		return "", s.fail(err)
	}
	done := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(done)
		_ = s.c.SetReadDeadline(pastTime)
	})
	defer func() {
		if !stop() {
			<-done
		}
	}()
	tmp := make([]byte, 4096)
	for {
		for {
			msg, ok, err := s.takeFrame()
			if err != nil {
				return "", s.fail(err)
			}
			if !ok {
				break
			}
			switch cmd, _ := msg["Command"].(string); cmd {
			case "RelayNotification":
				if name, _ := msg["Name"].(string); name != "" {
					return name, nil
				}
			case "ProxyDeath":
				return "", s.fail(ErrProxyDeath)
			}
			// Other commands (echoes, unknown) carry nothing for us.
		}
		n, err := s.c.Read(tmp)
		s.buf = append(s.buf, tmp[:n]...)
		if err != nil {
			if n > 0 {
				continue // consume what arrived before reporting the error
			}
			cerr := s.classify(ctx, err)
			if errors.Is(cerr, ErrTimeout) || errors.Is(cerr, context.Canceled) {
				return "", cerr // resumable: partial data stays in buf
			}
			return "", s.fail(cerr)
		}
	}
}

// takeFrame removes one complete message from buf, validating the length
// before waiting for (or allocating) the body.
func (s *NotificationStream) takeFrame() (map[string]any, bool, error) {
	if len(s.buf) < 4 {
		return nil, false, nil
	}
	n := binary.BigEndian.Uint32(s.buf)
	if err := checkLength(n); err != nil {
		return nil, false, err
	}
	if uint64(len(s.buf)) < 4+uint64(n) {
		return nil, false, nil
	}
	// Copy: decoded values must not alias a buffer we are about to reuse.
	body := bytes.Clone(s.buf[4 : 4+n])
	m, err := decodePlist(context.Background(), body)
	s.buf = append(s.buf[:0], s.buf[4+n:]...)
	if err != nil {
		return nil, false, err
	}
	return m, true, nil
}

func (s *NotificationStream) fail(err error) error {
	if s.isClosed() {
		err = ErrClosed
	}
	s.err = fmt.Errorf("lockdown: notification stream: %w", err)
	return s.err
}

// Close asks the proxy to shut down (best effort, bounded) and closes the
// connection. It is idempotent and unblocks Next.
func (s *NotificationStream) Close() error {
	var err error
	s.closeOnce.Do(func() {
		if frame, e := encodeFrame(map[string]any{"Command": "Shutdown"}); e == nil {
			_ = s.c.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
			_, _ = s.c.Write(frame)
		}
		close(s.closed)
		err = s.c.Close()
	})
	return err
}
