// Command gen writes the .umockdev descriptions in testdata/usb.
//
// The descriptor blobs are built field by field here instead of being pasted
// as hex, so that every wTotalLength is right by construction and the layout
// (which config holds the usbmux interface) is readable. Run from the
// repository root:
//
//	go run ./testdata/usb/gen
package main

import (
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

const (
	pciPath = "/devices/pci0000:00/0000:00:14.0"
	hubPath = pciPath + "/usb1"
)

func u16(v int) []byte { return []byte{byte(v), byte(v >> 8)} }

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func deviceDesc(bcdUSB, class, maxPkt0, vid, pid, bcdDevice, nConfigs int) []byte {
	return cat([]byte{18, 1}, u16(bcdUSB), []byte{byte(class), 0, 0, byte(maxPkt0)},
		u16(vid), u16(pid), u16(bcdDevice), []byte{1, 2, 3, byte(nConfigs)})
}

// config wraps interface blobs in a configuration descriptor with the right
// wTotalLength.
func config(value, iConfig, nIfaces int, body ...[]byte) []byte {
	b := cat(body...)
	return cat([]byte{9, 2}, u16(9+len(b)), []byte{byte(nIfaces), byte(value), byte(iConfig), 0xC0, 0xFA}, b)
}

func iface(num, alt, nEP, class, sub, proto, iIface int) []byte {
	return []byte{9, 4, byte(num), byte(alt), byte(nEP), byte(class), byte(sub), byte(proto), byte(iIface)}
}

func ep(addr, attr, maxPkt, interval int) []byte {
	return cat([]byte{7, 5, byte(addr), byte(attr)}, u16(maxPkt), []byte{byte(interval)})
}

const (
	bulk = 2
	intr = 3
)

// iPhone in initial mode: four configurations, usbmux (FF/FE/02) only in 3
// and 4 (protocol.md §8). bulkPkt is 512 at high speed, 64 at full speed.
func iphoneDescriptors(pid, bulkPkt int) []byte {
	ptp := cat(iface(0, 0, 3, 0x06, 0x01, 0x01, 0x1B),
		ep(0x02, bulk, bulkPkt, 0), ep(0x81, bulk, bulkPkt, 0), ep(0x83, intr, 64, 10))
	usbmux := cat(iface(1, 0, 2, 0xFF, 0xFE, 0x02, 0x0F),
		ep(0x04, bulk, bulkPkt, 0), ep(0x85, bulk, bulkPkt, 0))
	ether := cat(iface(2, 0, 0, 0xFF, 0xFD, 0x01, 0x11),
		iface(2, 1, 2, 0xFF, 0xFD, 0x01, 0x11), ep(0x86, bulk, bulkPkt, 0), ep(0x05, bulk, bulkPkt, 0),
		iface(2, 2, 2, 0xFF, 0xFD, 0x01, 0x11), ep(0x86, bulk, bulkPkt, 0), ep(0x05, bulk, bulkPkt, 0))
	// Config 2, "iPod USB Interface": audio control + streaming + HID.
	acHeader := []byte{9, 0x24, 0x01, 0x00, 0x01, 30, 0x00, 0x01, 0x01}
	inTerm := []byte{12, 0x24, 0x02, 0x01, 0x01, 0x01, 0x00, 0x02, 0x03, 0x00, 0x00, 0x00}
	outTerm := []byte{9, 0x24, 0x03, 0x02, 0x01, 0x01, 0x00, 0x01, 0x00}
	asGeneral := []byte{7, 0x24, 0x01, 0x02, 0x01, 0x01, 0x00}
	format := []byte{11, 0x24, 0x02, 0x01, 0x02, 0x02, 0x10, 0x01, 0x44, 0xAC, 0x00}
	isoEP := []byte{9, 5, 0x81, 0x05, 0xC0, 0x00, 0x04, 0x00, 0x00}
	csEP := []byte{7, 0x25, 0x01, 0x01, 0x00, 0x00, 0x00}
	hid := []byte{9, 0x21, 0x11, 0x01, 0x00, 0x01, 0x22, 0x4B, 0x00}
	audio := cat(iface(0, 0, 0, 0x01, 0x01, 0x00, 0x00), acHeader, inTerm, outTerm,
		iface(1, 0, 0, 0x01, 0x02, 0x00, 0x00),
		iface(1, 1, 1, 0x01, 0x02, 0x00, 0x00), asGeneral, format, isoEP, csEP,
		iface(2, 0, 1, 0x03, 0x00, 0x00, 0x00), hid, ep(0x83, intr, 64, 4))
	return cat(deviceDesc(0x0200, 0, 64, 0x05AC, pid, 0x1005, 4),
		config(1, 5, 1, ptp),
		config(2, 6, 3, audio),
		config(3, 7, 2, ptp, usbmux),
		config(4, 8, 3, ptp, usbmux, ether))
}

// iBoot DFU: one config, a DFU interface (FE/01/00) with its functional
// descriptor and no endpoints.
func dfuDescriptors(pid int) []byte {
	dfuFunc := []byte{9, 0x21, 0x0B, 0xFF, 0x00, 0x00, 0x08, 0x10, 0x01}
	return cat(deviceDesc(0x0200, 0, 64, 0x05AC, pid, 0x0000, 1),
		config(1, 4, 1, iface(0, 0, 0, 0xFE, 0x01, 0x00, 0x00), dfuFunc))
}

// iBoot Recovery: interface 0 control-only, interface 1 with a bulk pair
// (the one irecovery uses for file uploads).
func recoveryDescriptors(pid int) []byte {
	return cat(deviceDesc(0x0200, 0, 64, 0x05AC, pid, 0x0000, 1),
		config(1, 4, 2,
			iface(0, 0, 0, 0xFF, 0xFF, 0x51, 0x00),
			iface(1, 0, 0, 0xFF, 0xFF, 0x51, 0x00),
			iface(1, 1, 2, 0xFF, 0xFF, 0x51, 0x00), ep(0x04, bulk, 512, 0), ep(0x85, bulk, 512, 0)))
}

type dev struct {
	file       string
	comment    string
	port       string // sysfs name below usb1, e.g. "1-1"
	addr       int
	vid, pid   int
	speed      string
	serial     string
	product    string
	manuf      string
	desc       []byte
	nConfigs   int
	activeCfg  int
	nIfaces    int // in the active configuration
	usbmux     bool
	extraProps []string
}

func hexUpper(b []byte) string { return strings.ToUpper(hex.EncodeToString(b)) }

func block(d dev) string {
	var s strings.Builder
	h := hexUpper(d.desc)
	w := func(format string, a ...any) { fmt.Fprintf(&s, format+"\n", a...) }
	w("P: %s/%s", hubPath, d.port)
	w("N: bus/usb/001/%03d=%s", d.addr, h)
	w("E: DEVNAME=/dev/bus/usb/001/%03d", d.addr)
	w("E: DEVTYPE=usb_device")
	w("E: DRIVER=usb")
	w("E: PRODUCT=%x/%x/%x", d.vid, d.pid, int(d.desc[12])|int(d.desc[13])<<8)
	w("E: TYPE=0/0/0")
	w("E: BUSNUM=001")
	w("E: DEVNUM=%03d", d.addr)
	w("E: MAJOR=189")
	w("E: MINOR=%d", d.addr-1)
	w("E: SUBSYSTEM=usb")
	w("E: ID_VENDOR=Apple_Inc.")
	w("E: ID_VENDOR_ENC=Apple\\x20Inc.")
	w("E: ID_VENDOR_ID=%04x", d.vid)
	w("E: ID_MODEL=%s", strings.ReplaceAll(d.product, " ", "_"))
	w("E: ID_MODEL_ID=%04x", d.pid)
	w("E: ID_REVISION=%04x", int(d.desc[12])|int(d.desc[13])<<8)
	w("E: ID_BUS=usb")
	if d.serial != "" && !strings.Contains(d.serial, " ") {
		w("E: ID_SERIAL=Apple_Inc._%s_%s", strings.ReplaceAll(d.product, " ", "_"), d.serial)
		w("E: ID_SERIAL_SHORT=%s", d.serial)
	}
	if d.usbmux {
		w("E: USBMUX_SUPPORTED=1")
	}
	for _, p := range d.extraProps {
		w("E: %s", p)
	}
	w("A: authorized=1\\n")
	w("A: avoid_reset_quirk=0\\n")
	w("A: bConfigurationValue=%d\\n", d.activeCfg)
	w("A: bDeviceClass=00\\n")
	w("A: bDeviceProtocol=00\\n")
	w("A: bDeviceSubClass=00\\n")
	w("A: bMaxPacketSize0=64\\n")
	w("A: bMaxPower=500mA\\n")
	w("A: bNumConfigurations=%d\\n", d.nConfigs)
	w("A: bNumInterfaces=%2d\\n", d.nIfaces)
	w("A: bcdDevice=%04x\\n", int(d.desc[12])|int(d.desc[13])<<8)
	w("A: bmAttributes=c0\\n")
	w("A: busnum=1\\n")
	w("A: devnum=%d\\n", d.addr)
	w("A: devpath=%s\\n", strings.TrimPrefix(d.port, "1-"))
	w("H: descriptors=%s", h)
	w("A: idProduct=%04x\\n", d.pid)
	w("A: idVendor=%04x\\n", d.vid)
	w("A: manufacturer=%s\\n", d.manuf)
	w("A: maxchild=0\\n")
	w("A: product=%s\\n", d.product)
	w("A: removable=removable\\n")
	if d.serial != "" {
		w("A: serial=%s\\n", d.serial)
	}
	w("A: speed=%s\\n", d.speed)
	w("A: version= 2.00\\n")
	return s.String()
}

// rootHub is the xHCI controller and its USB 2.0 root hub (1d6b:0002),
// the parents every device file needs.
func rootHub() string {
	hubDesc := cat(deviceDesc(0x0200, 9, 64, 0x1D6B, 0x0002, 0x0601, 1),
		config(1, 0, 1, iface(0, 0, 1, 0x09, 0x00, 0x00, 0x00), ep(0x81, intr, 4, 12)))
	h := hexUpper(hubDesc)
	return fmt.Sprintf(`P: %s
E: DRIVER=xhci_hcd
E: PCI_CLASS=C0330
E: PCI_ID=8086:A36D
E: PCI_SLOT_NAME=0000:00:14.0
E: SUBSYSTEM=pci
A: class=0x0c0330\n
A: device=0xa36d\n
A: vendor=0x8086\n

P: %s
N: bus/usb/001/001=%s
E: DEVNAME=/dev/bus/usb/001/001
E: DEVTYPE=usb_device
E: DRIVER=usb
E: PRODUCT=1d6b/2/601
E: TYPE=9/0/1
E: BUSNUM=001
E: DEVNUM=001
E: MAJOR=189
E: MINOR=0
E: SUBSYSTEM=usb
E: ID_VENDOR_ID=1d6b
E: ID_MODEL_ID=0002
E: ID_BUS=usb
A: authorized=1\n
A: bConfigurationValue=1\n
A: bDeviceClass=09\n
A: bMaxPacketSize0=64\n
A: bNumConfigurations=1\n
A: bNumInterfaces= 1\n
A: busnum=1\n
A: devnum=1\n
A: devpath=0\n
H: descriptors=%s
A: idProduct=0002\n
A: idVendor=1d6b\n
A: manufacturer=Linux 6.1.0 xhci-hcd\n
A: maxchild=6\n
A: product=xHCI Host Controller\n
A: serial=0000:00:14.0\n
A: speed=480\n
A: version= 2.00\n
`, pciPath, hubPath, h, h)
}

func main() {
	dir := "testdata/usb"
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	const ecid = "001A2B3C4D5E6F70"
	devs := []dev{
		{file: "iphone.umockdev", comment: "iPhone (05ac:12a8), high speed, bus 1 address 5 (LocationID 0x10005), 4 configurations, usbmux in 3 and 4",
			port: "1-1", addr: 5, vid: 0x05AC, pid: 0x12A8, speed: "480", serial: "00008030" + ecid,
			product: "iPhone", manuf: "Apple Inc.", desc: iphoneDescriptors(0x12A8, 512), nConfigs: 4, activeCfg: 4, nIfaces: 3, usbmux: true},
		{file: "iphone-fullspeed.umockdev", comment: "the same iPhone on a full-speed (12 Mb/s) link (USB 1.1 hub or bad cable)",
			port: "1-1", addr: 5, vid: 0x05AC, pid: 0x12A8, speed: "12", serial: "00008030" + ecid,
			product: "iPhone", manuf: "Apple Inc.", desc: iphoneDescriptors(0x12A8, 64), nConfigs: 4, activeCfg: 4, nIfaces: 3, usbmux: true},
		{file: "iphone2.umockdev", comment: "a second iPhone (05ac:12a8) on port 2, bus 1 address 6",
			port: "1-2", addr: 6, vid: 0x05AC, pid: 0x12A8, speed: "480", serial: "00008101000A1B2C3D4E5F60",
			product: "iPhone", manuf: "Apple Inc.", desc: iphoneDescriptors(0x12A8, 512), nConfigs: 4, activeCfg: 4, nIfaces: 3, usbmux: true},
		{file: "dfu.umockdev", comment: "an iPhone in DFU mode (05ac:1227) on port 3, bus 1 address 7",
			port: "1-3", addr: 7, vid: 0x05AC, pid: 0x1227, speed: "480",
			serial:  "CPID:8030 CPRV:11 CPFM:03 SCEP:01 BDID:0C ECID:" + ecid + " IBFL:3C SRTG:[iBoot-4513.0.0.0.3]",
			product: "Apple Mobile Device (DFU Mode)", manuf: "Apple Inc.", desc: dfuDescriptors(0x1227), nConfigs: 1, activeCfg: 1, nIfaces: 1},
		{file: "recovery.umockdev", comment: "an iPhone in Recovery mode (05ac:1281) on port 4, bus 1 address 8",
			port: "1-4", addr: 8, vid: 0x05AC, pid: 0x1281, speed: "480",
			serial:  "CPID:8030 CPRV:11 CPFM:03 SCEP:01 BDID:0C ECID:" + ecid + " IBFL:3D SRNM:[F2LZK0ABCDEF]",
			product: "Apple Mobile Device (Recovery Mode)", manuf: "Apple Inc.", desc: recoveryDescriptors(0x1281), nConfigs: 1, activeCfg: 1, nIfaces: 2},
	}
	write := func(name, body string) {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println("wrote", p)
	}
	write("roothub.umockdev", rootHub())
	for _, d := range devs {
		write(d.file, block(d))
	}
	// A non-Apple device (a USB keyboard) that must be ignored.
	kbd := cat(deviceDesc(0x0110, 0, 8, 0x046D, 0xC31C, 0x6400, 1),
		config(1, 0, 1, iface(0, 0, 1, 0x03, 0x01, 0x01, 0x00),
			[]byte{9, 0x21, 0x10, 0x01, 0x00, 0x01, 0x22, 0x41, 0x00}, ep(0x81, intr, 8, 10)))
	k := dev{port: "1-6", addr: 9, vid: 0x046D, pid: 0xC31C, speed: "1.5", product: "USB Keyboard",
		manuf: "Logitech", desc: kbd, nConfigs: 1, activeCfg: 1, nIfaces: 1}
	write("keyboard.umockdev",
		strings.ReplaceAll(block(k), "Apple_Inc.", "Logitech"))
}
