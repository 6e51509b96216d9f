package sim

import (
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"time"
)

// muxClient is one usbmuxd client connection.
type muxClient struct {
	s    *Server
	c    net.Conn
	prog string

	// Once a client Listens, every packet to it goes through queue so that
	// replies and events keep their order and a stuck client cannot block
	// the broadcaster.
	qmu    sync.Mutex
	queue  chan []byte
	qclose bool
}

func (mc *muxClient) closeQueue() {
	mc.qmu.Lock()
	defer mc.qmu.Unlock()
	if mc.queue != nil && !mc.qclose {
		mc.qclose = true
		close(mc.queue)
	}
}

// enqueue returns false when the client's queue is full or closed.
func (mc *muxClient) enqueue(pkt []byte) bool {
	mc.qmu.Lock()
	defer mc.qmu.Unlock()
	if mc.qclose {
		return false
	}
	select {
	case mc.queue <- pkt:
		return true
	default:
		return false
	}
}

func (mc *muxClient) write(pkt []byte) error {
	mc.qmu.Lock()
	listening := mc.queue != nil
	mc.qmu.Unlock()
	if listening {
		if !mc.enqueue(pkt) {
			return errors.New("listen queue full or closed")
		}
		return nil
	}
	mc.c.SetWriteDeadline(time.Now().Add(writeTimeout))
	_, err := mc.c.Write(pkt)
	return err
}

func (mc *muxClient) writer() {
	for pkt := range mc.queue {
		mc.c.SetWriteDeadline(time.Now().Add(writeTimeout))
		if _, err := mc.c.Write(pkt); err != nil {
			mc.c.Close()
			for range mc.queue { // drain until closeQueue
			}
			return
		}
	}
}

func (s *Server) serveMux(c net.Conn) {
	mc := &muxClient{s: s, c: c}
	defer func() {
		s.mu.Lock()
		delete(s.listenersMx, mc)
		s.mu.Unlock()
		mc.closeQueue()
	}()
	for {
		h, payload, err := readMuxPacket(c)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				s.logf("sim: usbmuxd client: %v", err)
			}
			return
		}
		s.mu.Lock()
		mf := s.muxFault
		s.mu.Unlock()
		switch mf {
		case MuxFaultSilent:
			continue
		case MuxFaultClose:
			return
		}
		if h.Version != 0 && h.Version != 1 {
			mc.reply(h, 0, muxMsgResult, binaryResult(resultBadVersion))
			continue
		}
		if h.Message != muxMsgPlist {
			// The binary protocol (version 0) predates iOS 7 clients; answer
			// as usbmuxd does for a command it will not run.
			mc.reply(h, h.Version, muxMsgResult, binaryResult(resultBadCommand))
			continue
		}
		req, err := decodeDict(payload, false)
		if err != nil {
			s.logf("sim: usbmuxd: %v; closing client", err)
			return
		}
		if p := str(req, "ProgName"); p != "" {
			mc.prog = p
		}
		if done := mc.handle(h, req); done {
			return
		}
	}
}

func binaryResult(n uint32) []byte {
	return []byte{byte(n), byte(n >> 8), byte(n >> 16), byte(n >> 24)}
}

// reply sends one packet with the request's tag, applying the server's MuxFault.
func (mc *muxClient) reply(h muxHeader, version, msg uint32, payload []byte) {
	mc.s.mu.Lock()
	mf := mc.s.muxFault
	mc.s.mu.Unlock()
	pkt := encodeMuxPacket(version, msg, h.Tag, payload)
	switch mf {
	case MuxFaultShortHeader:
		pkt = encodeMuxPacket(version, msg, h.Tag, nil)
		pkt[0] = 8 // length field below the header size
	case MuxFaultTruncated:
		pkt = pkt[:muxHeaderSize+len(payload)/2]
		mc.write(pkt)
		mc.c.Close()
		return
	case MuxFaultHugeLength:
		pkt = encodeMuxPacket(version, msg, h.Tag, nil)
		pkt[0], pkt[1], pkt[2], pkt[3] = 0x00, 0xff, 0xff, 0xff
	case MuxFaultJunk:
		pkt = append([]byte(nil), junk...)
	case MuxFaultBadPlist:
		pkt = encodeMuxPacket(version, msg, h.Tag, junk)
	case MuxFaultWrongTag:
		pkt = encodeMuxPacket(version, msg, h.Tag+0x5a5a, payload)
	}
	if err := mc.write(pkt); err != nil {
		mc.c.Close()
	}
}

func (mc *muxClient) plistReply(h muxHeader, v map[string]any) {
	mc.reply(h, 1, muxMsgPlist, mustXML(v))
}

func (mc *muxClient) result(h muxHeader, n int) {
	mc.plistReply(h, map[string]any{"MessageType": "Result", "Number": n})
}

// handle runs one plist request; true means the connection is finished
// (or was handed to a device).
func (mc *muxClient) handle(h muxHeader, req map[string]any) bool {
	s := mc.s
	mt := str(req, "MessageType")
	s.logf("sim: usbmuxd %s (tag %d, %s)", mt, h.Tag, mc.prog)
	s.mu.Lock()
	if len(s.muxStats.Requests) < 64 || s.muxStats.Requests[mt] > 0 { // bounded: clients choose the keys
		s.muxStats.Requests[mt]++
	}
	s.mu.Unlock()
	switch mt {
	case "ListDevices":
		s.mu.Lock()
		list := s.attachedListLocked()
		s.mu.Unlock()
		mc.plistReply(h, map[string]any{"DeviceList": list})
	case "Listen":
		s.mu.Lock()
		mc.qmu.Lock()
		if mc.queue == nil {
			mc.queue = make(chan []byte, 1024)
			s.wg.Add(1) // s.mu held and the conn is tracked, so the server is not closed
			go func() { defer s.wg.Done(); mc.writer() }()
		}
		mc.qmu.Unlock()
		mc.s.mu.Unlock()
		// The Result must precede the device list, and no broadcast may slip
		// in between: hold s.mu while queueing both.
		pkt := mc.faulted(h, mustXML(map[string]any{"MessageType": "Result", "Number": resultOK}))
		s.mu.Lock()
		if pkt != nil {
			mc.enqueue(pkt)
		}
		for _, a := range s.attachedListLocked() {
			mc.enqueue(encodeMuxPacket(1, muxMsgPlist, 0, mustXML(a)))
		}
		s.listenersMx[mc] = struct{}{}
		s.mu.Unlock()
	case "ReadBUID":
		mc.plistReply(h, map[string]any{"BUID": s.systemBUID})
	case "ReadPairRecord", "SavePairRecord", "DeletePairRecord":
		mc.pairRecordRequest(h, mt, req)
	case "Connect":
		return mc.connect(h, req)
	case "ListListeners":
		s.mu.Lock()
		var ll []any
		for l := range s.listenersMx {
			ll = append(ll, map[string]any{"ProgName": l.prog})
		}
		s.mu.Unlock()
		mc.plistReply(h, map[string]any{"ListenerList": ll})
	default:
		mc.result(h, resultBadCommand)
	}
	return false
}

// faulted returns the packet to queue for a Listen reply, honouring
// MuxFault for the queued path (nil = send nothing).
func (mc *muxClient) faulted(h muxHeader, payload []byte) []byte {
	mc.s.mu.Lock()
	mf := mc.s.muxFault
	mc.s.mu.Unlock()
	switch mf {
	case MuxFaultNone:
		return encodeMuxPacket(1, muxMsgPlist, h.Tag, payload)
	case MuxFaultJunk:
		return append([]byte(nil), junk...)
	case MuxFaultBadPlist:
		return encodeMuxPacket(1, muxMsgPlist, h.Tag, junk)
	case MuxFaultWrongTag:
		return encodeMuxPacket(1, muxMsgPlist, h.Tag+0x5a5a, payload)
	case MuxFaultShortHeader:
		p := encodeMuxPacket(1, muxMsgPlist, h.Tag, nil)
		p[0] = 8
		return p
	case MuxFaultHugeLength:
		p := encodeMuxPacket(1, muxMsgPlist, h.Tag, nil)
		p[0], p[1], p[2], p[3] = 0x00, 0xff, 0xff, 0xff
		return p
	case MuxFaultTruncated:
		p := encodeMuxPacket(1, muxMsgPlist, h.Tag, payload)
		mc.c.SetWriteDeadline(time.Now().Add(writeTimeout))
		mc.c.Write(p[:muxHeaderSize+len(payload)/2])
		mc.c.Close()
		return nil
	}
	return nil
}

// deviceForRecord finds the device a pair-record request is about.
func (s *Server) deviceByUDIDLocked(udid string) *Device {
	for _, d := range s.devices {
		if normUDID(d.udid) == normUDID(udid) {
			return d
		}
	}
	return nil
}

func (mc *muxClient) pairRecordRequest(h muxHeader, mt string, req map[string]any) {
	s := mc.s
	id := str(req, "PairRecordID")
	s.mu.Lock()
	d := s.deviceByUDIDLocked(id)
	if d != nil {
		d.logLocked("mux " + mt)
		if d.fault == FaultMuxGarbage {
			s.mu.Unlock()
			mc.reply(h, 1, muxMsgPlist, junk)
			return
		}
	}
	if id == "" {
		s.mu.Unlock()
		mc.result(h, errnoEINVAL)
		return
	}
	key := normUDID(id)
	switch mt {
	case "ReadPairRecord":
		rec, ok := s.store[key]
		s.mu.Unlock()
		if !ok {
			mc.result(h, errnoENOENT)
			return
		}
		mc.plistReply(h, map[string]any{"PairRecordData": rec})
	case "SavePairRecord":
		rec := data(req, "PairRecordData")
		if len(rec) == 0 {
			s.mu.Unlock()
			mc.result(h, errnoEINVAL)
			return
		}
		s.store[key] = append([]byte(nil), rec...)
		if d != nil {
			d.stats.SavePairRecords++
		}
		devID, hasID := num(req, "DeviceID")
		s.mu.Unlock()
		mc.result(h, resultOK)
		if hasID {
			// usbmuxd tells Listen clients only when the saver names the device.
			s.mu.Lock()
			if dd := s.byID[int(devID)]; dd != nil && dd.visible {
				s.broadcastLocked(map[string]any{"MessageType": "Paired", "DeviceID": int(devID)})
			}
			s.mu.Unlock()
		}
	case "DeletePairRecord":
		_, ok := s.store[key]
		delete(s.store, key)
		s.mu.Unlock()
		if !ok {
			mc.result(h, errnoENOENT)
			return
		}
		mc.result(h, resultOK)
	}
}

// connect handles Connect; on success the socket becomes a pipe to the device.
func (mc *muxClient) connect(h muxHeader, req map[string]any) bool {
	s := mc.s
	devID, _ := num(req, "DeviceID")
	rawPort, _ := num(req, "PortNumber")
	// PortNumber travels in network byte order even inside the plist.
	port := int(uint16(rawPort)>>8 | uint16(rawPort)<<8)
	s.mu.Lock()
	d := s.byID[int(devID)]
	if d == nil || !d.visible {
		s.mu.Unlock()
		mc.result(h, resultBadDev)
		return false
	}
	network := d.netID == int(devID)
	d.logLocked("mux Connect " + itoa(port))
	switch d.fault {
	case FaultMuxGarbage:
		s.mu.Unlock()
		mc.reply(h, 1, muxMsgPlist, junk)
		return false
	case FaultConnectRefused:
		s.mu.Unlock()
		mc.result(h, resultConnRefused)
		return false
	}
	var svc *pendingService
	if port != lockdownPort {
		svc = d.services[port]
		if svc == nil {
			s.mu.Unlock()
			mc.result(h, resultConnRefused)
			return false
		}
		delete(d.services, port) // a StartService port takes one connection
	}
	d.conns[mc.c] = struct{}{}
	epoch := d.epoch
	if svc == nil {
		d.stats.LockdownConnections++
	} else {
		d.stats.ServiceConnections++
	}
	s.mu.Unlock()

	mc.result(h, resultOK)
	defer func() {
		s.mu.Lock()
		delete(d.conns, mc.c)
		s.mu.Unlock()
	}()
	// A detach between the checks above and here must still cut the pipe.
	s.mu.Lock()
	gone := !d.visible || d.epoch != epoch
	s.mu.Unlock()
	if gone {
		return true
	}
	if svc == nil {
		d.serveLockdown(mc.c, network)
	} else {
		d.serveService(mc.c, svc)
	}
	return true
}

// broadcastLocked sends an event to every Listen client; one that cannot
// keep up is dropped, as a real daemon would drop a dead client.
func (s *Server) broadcastLocked(ev map[string]any) {
	pkt := encodeMuxPacket(1, muxMsgPlist, 0, mustXML(ev))
	for lc := range s.listenersMx {
		if !lc.enqueue(pkt) {
			lc.c.Close()
			delete(s.listenersMx, lc)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
