package sim

import (
	"errors"
	"io"
	"net"
	"time"
)

// observer is one notification-proxy connection.
type observer struct {
	conn   net.Conn // closed by SetProxyFault(ProxyFaultDrop)
	secure bool
	names  map[string]bool // guarded by s.mu
	q      chan []byte     // frames to send; closed on unregister
	qdone  bool            // guarded by s.mu
}

// serveService runs a service connection handed out by StartService: the
// (insecure_)notification_proxy protocol, 4-byte BE length + plist.
func (d *Device) serveService(c net.Conn, svc *pendingService) {
	var rw io.ReadWriter = c
	if svc.secure {
		tc, err := d.tlsServer(c, svc.trust)
		if err != nil {
			d.logUnlocked("service TLS handshake failed: " + err.Error())
			return
		}
		rw = tc
	}
	ob := &observer{conn: c, secure: svc.secure, names: map[string]bool{}, q: make(chan []byte, 64)}
	s := d.s
	writerDone := make(chan struct{})
	s.mu.Lock()
	if !d.attached || s.closed {
		s.mu.Unlock()
		return
	}
	d.observers[ob] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		defer close(writerDone)
		for f := range ob.q {
			c.SetWriteDeadline(time.Now().Add(writeTimeout))
			if writeLockdownFrame(rw, f) != nil {
				c.Close()
				for range ob.q {
				}
				return
			}
		}
	}()
	defer func() {
		s.mu.Lock()
		delete(d.observers, ob)
		if !ob.qdone {
			ob.qdone = true
			close(ob.q)
		}
		s.mu.Unlock()
		<-writerDone // let a queued ProxyDeath reach the client before the socket closes
	}()
	for {
		payload, err := readLockdownFrame(rw)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				s.logf("sim: %s: %s: %v", d.cfg.Name, svc.name, err)
			}
			return
		}
		req, err := decodeDict(payload, true)
		if err != nil {
			s.logf("sim: %s: %s: %v; closing", d.cfg.Name, svc.name, err)
			return
		}
		cmd, name := str(req, "Command"), str(req, "Name")
		d.logUnlocked("np " + cmd + " " + name)
		switch cmd {
		case "ObserveNotification":
			s.mu.Lock()
			ob.names[name] = true
			fault := d.proxyFault
			s.mu.Unlock()
			if svc.secure && fault == ProxyFaultDrop {
				d.logUnlocked("np dropped (fault)")
				return
			}
			if svc.secure && fault == ProxyFaultGarbage {
				s.mu.Lock()
				if !ob.qdone {
					select {
					case ob.q <- junk:
					default:
					}
				}
				s.mu.Unlock()
			}
		case "PostNotification":
			s.mu.Lock()
			d.relayLocked(name, svc.secure)
			s.mu.Unlock()
		case "Shutdown":
			s.mu.Lock()
			d.sendLocked(ob, map[string]any{"Command": "ProxyDeath"})
			s.mu.Unlock()
			return
		}
	}
}

// relayLocked sends RelayNotification to every observer of name on the
// secure (notification_proxy) or insecure proxy. An iOS set not to relay
// lockstate (NoLockRelay) keeps it to itself.
func (d *Device) relayLocked(name string, secure bool) {
	if name == lockStateNotification && d.noRelay {
		return
	}
	for ob := range d.observers {
		if ob.secure == secure && ob.names[name] {
			d.sendLocked(ob, map[string]any{"Command": "RelayNotification", "Name": name})
		}
	}
}

func (d *Device) sendLocked(ob *observer, msg map[string]any) {
	if ob.qdone {
		return
	}
	select {
	case ob.q <- mustXML(msg):
	default:
		d.s.logf("sim: %s: notification queue full, dropping %v", d.cfg.Name, msg["Name"])
	}
}
