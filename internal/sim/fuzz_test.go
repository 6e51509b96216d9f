package sim

import (
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"
)

// The fuzz targets throw arbitrary bytes at the usbmuxd socket and at a
// lockdown connection. A panic anywhere in the server crashes the test
// binary; a hang shows up as the read deadline expiring with the server
// still holding the connection, which we tolerate only for inputs that
// are incomplete packets.

func fuzzServer(f *testing.F) (*Server, *Device) {
	s, err := Start(Options{LockdownIdleTimeout: 200 * time.Millisecond})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	d := s.AddDevice(DeviceConfig{Trusted: true})
	return s, d
}

func muxPacket(payload []byte, tag uint32) []byte {
	return encodeMuxPacket(1, muxMsgPlist, tag, payload)
}

func FuzzMuxInput(f *testing.F) {
	s, d := fuzzServer(f)
	f.Add(muxPacket(mustXML(map[string]any{"MessageType": "ListDevices"}), 1))
	f.Add(muxPacket(mustXML(map[string]any{"MessageType": "Connect", "DeviceID": d.DeviceID(), "PortNumber": 32498}), 2))
	f.Add(muxPacket(mustXML(map[string]any{"MessageType": "ReadPairRecord", "PairRecordID": d.UDID()}), 3))
	f.Add(muxPacket(mustXML(map[string]any{"MessageType": "SavePairRecord", "PairRecordID": "x", "PairRecordData": []byte("y"), "DeviceID": 1}), 4))
	f.Add(muxPacket(mustXML(map[string]any{"MessageType": "Listen"}), 5))
	f.Add(muxPacket([]byte("bplist00\x00\x01"), 6))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0, 8, 0, 0, 0, 1, 0, 0, 0})
	f.Add(junk)
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := net.Dial("unix", s.SocketPath())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(time.Second))
		c.Write(in)
		c.(*net.UnixConn).CloseWrite()
		io.Copy(io.Discard, c)
	})
}

func FuzzLockdownInput(f *testing.F) {
	s, d := fuzzServer(f)
	frame := func(b []byte) []byte {
		out := make([]byte, 4+len(b))
		binary.BigEndian.PutUint32(out, uint32(len(b)))
		copy(out[4:], b)
		return out
	}
	f.Add(frame(mustXML(map[string]any{"Request": "QueryType"})))
	f.Add(frame(mustXML(map[string]any{"Request": "GetValue"})))
	f.Add(frame(mustXML(map[string]any{"Request": "StartSession", "HostID": s.HostID()})))
	f.Add(frame(mustXML(map[string]any{"Request": "Pair", "PairRecord": map[string]any{"HostID": "a", "RootCertificate": []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")}})))
	f.Add(frame(mustXML(map[string]any{"Request": "StartService", "Service": insecureNotificationProxy})))
	f.Add(frame([]byte("bplist00")))
	f.Add([]byte{0x15, 0x03, 0x03, 0x00, 0x02, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := net.Dial("unix", s.SocketPath())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		m := &testMux{t: t, c: c}
		if r, _ := m.connect(d.DeviceID(), lockdownPort); r != 0 {
			t.Fatalf("Connect: %d", r)
		}
		c.SetDeadline(time.Now().Add(time.Second))
		c.Write(in)
		c.(*net.UnixConn).CloseWrite()
		io.Copy(io.Discard, c)
	})
}
