// Package hostile builds hostile input for trustwatch's tests: plists
// nested or fanned out beyond reason, and a small usbmuxd that answers with
// them (or floods, drops, refuses and stalls). It is test scaffolding; the
// product never imports it.
package hostile

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
)

// DeepXML is an XML plist dictionary {MessageType: Result, Number: 0,
// Nest: [[[…]]]} with arrays nested depth deep.
func DeepXML(depth int) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict><key>MessageType</key><string>Result</string><key>Number</key><integer>0</integer><key>Nest</key>`)
	b.WriteString(strings.Repeat("<array>", depth))
	b.WriteString(strings.Repeat("</array>", depth))
	b.WriteString(`</dict></plist>`)
	return b.Bytes()
}

// bplist assembles a binary plist from encoded objects (object 0 is the
// top), with refSize-byte references and 4-byte offsets.
func bplist(objects [][]byte, refSize int) []byte {
	var b bytes.Buffer
	b.WriteString("bplist00")
	offsets := make([]uint32, len(objects))
	for i, o := range objects {
		offsets[i] = uint32(b.Len())
		b.Write(o)
	}
	table := b.Len()
	for _, off := range offsets {
		_ = binary.Write(&b, binary.BigEndian, off)
	}
	var t [32]byte
	t[6], t[7] = 4, byte(refSize)
	binary.BigEndian.PutUint64(t[8:], uint64(len(objects)))
	binary.BigEndian.PutUint64(t[16:], 0)
	binary.BigEndian.PutUint64(t[24:], uint64(table))
	b.Write(t[:])
	return b.Bytes()
}

func ref(n, size int) []byte {
	out := make([]byte, size)
	for i := size - 1; i >= 0; i-- {
		out[i] = byte(n)
		n >>= 8
	}
	return out
}

func ascii(s string) []byte {
	if len(s) >= 15 {
		panic("hostile: short strings only")
	}
	return append([]byte{0x50 | byte(len(s))}, s...)
}

// DeepBinary is a binary plist dictionary {MessageType: Result, Number: 0,
// Nest: [[[…]]]} with arrays nested depth deep (3-byte references: about
// 7 bytes per level).
func DeepBinary(depth int) []byte {
	const rs = 3
	// 0 dict, 1-3 keys, 4 "Result", 5 integer 0, 6.. the arrays.
	objs := [][]byte{
		append(append(append([]byte{0xD3}, ref(1, rs)...), append(ref(2, rs), ref(3, rs)...)...), append(append(ref(4, rs), ref(5, rs)...), ref(6, rs)...)...),
		ascii("MessageType"), ascii("Number"), ascii("Nest"), ascii("Result"), {0x10, 0},
	}
	for i := 0; i < depth; i++ {
		next := 6 + i + 1
		if i == depth-1 {
			objs = append(objs, []byte{0xA0})
			break
		}
		objs = append(objs, append([]byte{0xA1}, ref(next, rs)...))
	}
	return bplist(objs, rs)
}

// FanOutBinary is a binary plist dictionary {MessageType: Result, Number:
// 0, Nest: …} where Nest is levels arrays, each holding the next one twice:
// a few hundred bytes that mean 2^levels values to a decoder that expands
// shared references.
func FanOutBinary(levels int) []byte {
	const rs = 2
	objs := [][]byte{
		append(append(append([]byte{0xD3}, ref(1, rs)...), append(ref(2, rs), ref(3, rs)...)...), append(append(ref(4, rs), ref(5, rs)...), ref(6, rs)...)...),
		ascii("MessageType"), ascii("Number"), ascii("Nest"), ascii("Result"), {0x10, 0},
	}
	for i := 0; i < levels; i++ {
		next := 6 + i + 1
		if i == levels-1 {
			objs = append(objs, []byte{0xA0})
			break
		}
		objs = append(objs, append(append([]byte{0xA2}, ref(next, rs)...), ref(next, rs)...))
	}
	return bplist(objs, rs)
}

// DeviceListXML is a ListDevices reply with n USB entries in the exact
// shape Linux usbmuxd sends (client.c create_device_attached_plist, libplist
// XML with tab indentation). UDIDs are distinct and 25 characters long.
func DeviceListXML(n int) []byte {
	var b bytes.Buffer
	b.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n<plist version=\"1.0\">\n<dict>\n\t<key>DeviceList</key>\n\t<array>\n")
	for i := 1; i <= n; i++ {
		b.WriteString(AttachedEntryXML(i, "\t\t"))
	}
	b.WriteString("\t</array>\n</dict>\n</plist>\n")
	return b.Bytes()
}

// UDID is the test UDID of DeviceID id.
func UDID(id int) string { return fmt.Sprintf("00008030-%016X", id) }

// AttachedEntryXML is one Attached dictionary as Linux usbmuxd writes it.
func AttachedEntryXML(id int, indent string) string {
	in := indent + "\t"
	in2 := in + "\t"
	return indent + "<dict>\n" +
		in + "<key>DeviceID</key>\n" + in + fmt.Sprintf("<integer>%d</integer>\n", id) +
		in + "<key>MessageType</key>\n" + in + "<string>Attached</string>\n" +
		in + "<key>Properties</key>\n" + in + "<dict>\n" +
		in2 + "<key>ConnectionSpeed</key>\n" + in2 + "<integer>480000000</integer>\n" +
		in2 + "<key>ConnectionType</key>\n" + in2 + "<string>USB</string>\n" +
		in2 + "<key>DeviceID</key>\n" + in2 + fmt.Sprintf("<integer>%d</integer>\n", id) +
		in2 + "<key>LocationID</key>\n" + in2 + fmt.Sprintf("<integer>%d</integer>\n", 1<<16|id&0xffff) +
		in2 + "<key>ProductID</key>\n" + in2 + "<integer>4776</integer>\n" +
		in2 + "<key>SerialNumber</key>\n" + in2 + "<string>" + UDID(id) + "</string>\n" +
		in + "</dict>\n" + indent + "</dict>\n"
}
