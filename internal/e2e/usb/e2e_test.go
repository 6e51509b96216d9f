//go:build umockdev && cgo && linux

package usbe2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/trustwatch/trustwatch/internal/sim"
	"github.com/trustwatch/trustwatch/internal/simtest"
	"github.com/trustwatch/trustwatch/internal/umockdev"
)

const (
	hub      = "/sys/devices/pci0000:00/0000:00:14.0/usb1"
	iphoneSP = hub + "/1-1"
	dfuSP    = hub + "/1-3"
	recovSP  = hub + "/1-4"
	udid     = "00008030-001A2B3C4D5E6F70"
)

var (
	tb     *umockdev.Testbed
	binary string
)

func TestMain(m *testing.M) {
	if !umockdev.InWrapper() {
		msg := "*** USB end-to-end tests need umockdev-wrapper: go test -tags umockdev -exec umockdev-wrapper ./internal/e2e/usb/ (apt-get install umockdev libumockdev-dev libusb-1.0-0-dev) ***"
		if os.Getenv("CI") == "true" {
			fmt.Fprintln(os.Stderr, "FAIL:", msg)
			os.Exit(1)
		}
		fmt.Fprintln(os.Stderr, "SKIP:", msg)
		os.Exit(0)
	}
	os.Exit(run(m))
}

func run(m *testing.M) int {
	// TW_BINARY lets the script build once; otherwise build here, outside
	// the umockdev preload (the compiler has no business in the testbed).
	binary = os.Getenv("TW_BINARY")
	if binary == "" {
		dir, err := os.MkdirTemp("", "tw-e2e-usb")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		binary = filepath.Join(dir, "trustwatch")
		build := exec.Command("go", "build", "-o", binary, ".")
		build.Dir = filepath.Join("..", "..", "..")
		build.Env = withoutPreload(os.Environ())
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "building trustwatch:", err)
			return 1
		}
	}
	var err error
	if tb, err = umockdev.New(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer tb.Close()
	if err := tb.AddFromFile(fixture("roothub")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

func withoutPreload(env []string) []string {
	var out []string
	for _, e := range env {
		if !strings.HasPrefix(e, "LD_PRELOAD=") && !strings.HasPrefix(e, "UMOCKDEV_DIR=") {
			out = append(out, e)
		}
	}
	return out
}

func fixture(name string) string {
	return filepath.Join("..", "..", "..", "testdata", "usb", name+".umockdev")
}

func plug(t *testing.T, name, syspath string) {
	t.Helper()
	if err := tb.AddFromFile(fixture(name)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := os.Stat(tb.Root() + syspath); err == nil {
			tb.Unplug(syspath)
		}
	})
}

func startSim(t *testing.T, devs ...sim.DeviceConfig) *sim.Server {
	t.Helper()
	return startSimOpts(t, sim.Options{}, devs...)
}

func startSimOpts(t *testing.T, opts sim.Options, devs ...sim.DeviceConfig) *sim.Server {
	t.Helper()
	s := simtest.Start(t, opts)
	for _, d := range devs {
		s.AddDevice(d)
	}
	return s
}

// env is the child's environment: the testbed (the preload library comes
// with os.Environ under umockdev-wrapper; UMOCKDEV_DIR was set in C by the
// testbed, so Go's copy lacks it) and the usbmuxd address.
func env(muxAddr string) []string {
	return append(os.Environ(), "UMOCKDEV_DIR="+tb.Root(), "USBMUXD_SOCKET_ADDRESS="+muxAddr)
}

type status struct {
	Usbmux struct {
		Reachable bool   `json:"reachable"`
		Error     string `json:"error"`
	} `json:"usbmux"`
	Devices []device `json:"devices"`
}

type device struct {
	UDID      string `json:"udid"`
	Name      string `json:"name"`
	State     string `json:"state"`
	Guide     string `json:"guide"`
	Detail    string `json:"detail"`
	Summary   string `json:"summary"`
	LinkSpeed string `json:"link_speed"`
	USB       *struct {
		Bus       int `json:"bus"`
		Address   int `json:"address"`
		ProductID int `json:"product_id"`
		SpeedMbps int `json:"speed_mbps"`
	} `json:"usb"`
}

// statusJSON runs `trustwatch status --json` and returns the parsed
// object, the exit code and how long it took.
func statusJSON(t *testing.T, muxAddr string, args ...string) (status, int, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, append([]string{"status", "--json"}, args...)...)
	cmd.Env = env(muxAddr)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("trustwatch status: %v", err)
	}
	if strings.Contains(errb.String(), "panic") {
		t.Fatalf("trustwatch panicked:\n%s", errb.String())
	}
	var s status
	if err := json.Unmarshal([]byte(out.String()), &s); err != nil {
		t.Fatalf("status --json (exit %d) printed no JSON: %v\nstdout: %s\nstderr: %s", code, err, out.String(), errb.String())
	}
	t.Logf("status --json %v: exit %d in %v: %s", args, code, took.Round(time.Millisecond), strings.TrimSpace(out.String()))
	return s, code, took
}

func one(t *testing.T, s status) device {
	t.Helper()
	if len(s.Devices) != 1 {
		t.Fatalf("want exactly one device, got %d: %+v", len(s.Devices), s.Devices)
	}
	return s.Devices[0]
}

func checkUSB(t *testing.T, d device, addr, pid, speed int) {
	t.Helper()
	if d.USB == nil {
		t.Fatalf("device has no usb object: %+v", d)
	}
	if d.USB.Bus != 1 || d.USB.Address != addr || d.USB.ProductID != pid || d.USB.SpeedMbps != speed {
		t.Fatalf("usb = %+v, want bus 1 address %d product_id %d speed_mbps %d", *d.USB, addr, pid, speed)
	}
}

// On USB, usbmuxd up but silent about it: no-data after the window.
func TestNoData(t *testing.T) {
	plug(t, "iphone", iphoneSP)
	s := startSim(t)
	st, code, took := statusJSON(t, s.Address())
	d := one(t, st)
	if code != 0 || d.State != "no-data" || d.Guide != "issue-cable" {
		t.Fatalf("exit %d, state %q guide %q; want 0, no-data, issue-cable", code, d.State, d.Guide)
	}
	if d.UDID != udid {
		t.Errorf("udid = %q, want %q (from the USB serial)", d.UDID, udid)
	}
	checkUSB(t, d, 5, 0x12A8, 480)
	if took < 4*time.Second {
		t.Errorf("no-data after %v: before the window", took)
	}
}

// On USB, usbmuxd not there at all.
func TestServiceUnavailable(t *testing.T) {
	plug(t, "iphone", iphoneSP)
	st, code, _ := statusJSON(t, "UNIX://"+filepath.Join(t.TempDir(), "no-usbmuxd.sock"))
	d := one(t, st)
	if code != 3 || st.Usbmux.Reachable {
		t.Errorf("exit %d reachable %v; want 3, false", code, st.Usbmux.Reachable)
	}
	if d.State != "service-unavailable" || d.Guide != "issue-drivers" {
		t.Fatalf("state %q guide %q; want service-unavailable, issue-drivers", d.State, d.Guide)
	}
	checkUSB(t, d, 5, 0x12A8, 480)
	// usbmuxd installed but not running while an iPhone is on USB: that is
	// the problem (unlike without a phone), said with the next step.
	fakeBin := t.TempDir()
	if err := os.WriteFile(filepath.Join(fakeBin, "usbmuxd"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "status")
	cmd.Env = append(env("UNIX://"+filepath.Join(t.TempDir(), "no-usbmuxd.sock")), "PATH="+fakeBin+":"+os.Getenv("PATH"))
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	t.Logf("trustwatch status: %v\nstdout:\n%sstderr:\n%s", err, out.String(), errb.String())
	const says = "The iPhone is on USB, but usbmuxd is not running. Start it: sudo systemctl start usbmuxd (or unplug the iPhone and plug it in again)"
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 3 {
		t.Errorf("exit %v, want 3", err)
	}
	if !strings.Contains(out.String(), "  service-unavailable  "+says) {
		t.Errorf("stdout %q lacks %q", out.String(), says)
	}
	if errb.String() != "usbmuxd is not running.\n  More: trustwatch guide issue-drivers --print\n" {
		t.Errorf("stderr %q", errb.String())
	}
}

// USB and usbmuxd both see the phone: one device, the lockdown diagnosis,
// with the USB facts joined in (serial and LocationID both match).
func TestCorrelated(t *testing.T) {
	plug(t, "iphone", iphoneSP)
	for _, c := range []struct {
		cfg   sim.DeviceConfig
		args  []string
		state string
	}{
		{sim.DeviceConfig{}, []string{"--no-pair"}, "untrusted"},
		{sim.DeviceConfig{Trusted: true}, nil, "ready"},
	} {
		t.Run(c.state, func(t *testing.T) {
			s := startSim(t, c.cfg)
			st, code, _ := statusJSON(t, s.Address(), c.args...)
			d := one(t, st)
			if code != 0 || d.State != c.state || d.UDID != udid || d.Name != "Anna's iPhone" {
				t.Fatalf("exit %d device %+v; want state %s, udid %s, Anna's iPhone", code, d, c.state, udid)
			}
			checkUSB(t, d, 5, 0x12A8, 480)
			if d.LinkSpeed != "" {
				t.Errorf("link_speed %q on a high-speed link", d.LinkSpeed)
			}
		})
	}
}

// Full-speed link: the diagnosis plus a link-speed hint.
func TestFullSpeedHint(t *testing.T) {
	plug(t, "iphone-fullspeed", iphoneSP)
	s := startSim(t, sim.DeviceConfig{Trusted: true})
	st, _, _ := statusJSON(t, s.Address())
	d := one(t, st)
	if d.State != "ready" || d.LinkSpeed == "" {
		t.Fatalf("state %q link_speed %q; want ready and a hint", d.State, d.LinkSpeed)
	}
	checkUSB(t, d, 5, 0x12A8, 12)
}

func TestRecoveryMode(t *testing.T) {
	for _, c := range []struct {
		fixture, syspath string
		addr, pid        int
	}{
		{"dfu", dfuSP, 7, 0x1227},
		{"recovery", recovSP, 8, 0x1281},
	} {
		t.Run(c.fixture, func(t *testing.T) {
			plug(t, c.fixture, c.syspath)
			s := startSim(t)
			st, code, took := statusJSON(t, s.Address())
			d := one(t, st)
			if code != 0 || d.State != "recovery-mode" || d.Guide != "recovery" {
				t.Fatalf("exit %d state %q guide %q; want 0, recovery-mode, recovery", code, d.State, d.Guide)
			}
			checkUSB(t, d, c.addr, c.pid, 480)
			if took > 4*time.Second {
				t.Errorf("recovery-mode took %v; it needs no window", took)
			}
		})
	}
}

// watchLines runs `trustwatch watch --json` and streams its lines.
func watchLines(t *testing.T, muxAddr string) <-chan map[string]any {
	t.Helper()
	cmd := exec.Command(binary, "watch", "--json")
	cmd.Env = env(muxAddr)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan map[string]any, 256)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Errorf("watch --json line is not JSON: %q", sc.Text())
				continue
			}
			lines <- m
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGINT)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("watch exited with %v after SIGINT", err)
			}
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Errorf("watch did not exit within 5 s of SIGINT")
		}
	})
	return lines
}

func waitState(t *testing.T, lines <-chan map[string]any, state string, within time.Duration) map[string]any {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case m, ok := <-lines:
			if !ok {
				t.Fatalf("watch ended before state %s", state)
			}
			t.Logf("watch: %v", m)
			if m["state"] == state {
				return m
			}
		case <-deadline:
			t.Fatalf("no %s state within %v", state, within)
		}
	}
}

// A cable that keeps dropping: the phone comes and goes on the bus (and
// with it on usbmuxd).
func TestFlappingUnstable(t *testing.T) {
	s := startSim(t, sim.DeviceConfig{Trusted: true, Detached: true})
	phone := s.Devices()[0]
	lines := watchLines(t, s.Address())
	time.Sleep(500 * time.Millisecond)
	for i := 0; i < 4; i++ {
		if err := tb.AddFromFile(fixture("iphone")); err != nil {
			t.Fatal(err)
		}
		phone.Attach()
		time.Sleep(400 * time.Millisecond)
		phone.Detach()
		if err := tb.Unplug(iphoneSP); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
	}
	plug(t, "iphone", iphoneSP)
	phone.Attach()
	m := waitState(t, lines, "unstable-connection", 10*time.Second)
	if m["udid"] != udid || m["guide"] != "issue-cable" {
		t.Fatalf("unstable line %v: want udid %s, guide issue-cable", m, udid)
	}
}

// The same flapping seen on USB alone (usbmuxd never gets the phone).
func TestFlappingUSBOnly(t *testing.T) {
	s := startSim(t)
	lines := watchLines(t, s.Address())
	time.Sleep(500 * time.Millisecond)
	for i := 0; i < 4; i++ {
		if err := tb.AddFromFile(fixture("iphone")); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		if err := tb.Unplug(iphoneSP); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	plug(t, "iphone", iphoneSP)
	waitState(t, lines, "unstable-connection", 10*time.Second)
}

// Linux usbmuxd's preflight drops a phone whose lockdownd does not answer
// (usbmuxd#281): on USB, never listed, so no-data, not a lockdown error.
func TestPreflightDroppedIsNoData(t *testing.T) {
	plug(t, "iphone", iphoneSP)
	s := startSimOpts(t, sim.Options{Preflight: true}, sim.DeviceConfig{Fault: sim.FaultLockdownSilent})
	st, code, _ := statusJSON(t, s.Address())
	d := one(t, st)
	if code != 0 || d.State != "no-data" || d.UDID != udid {
		t.Fatalf("exit %d device %+v; want no-data for %s", code, d, udid)
	}
	checkUSB(t, d, 5, 0x12A8, 480)
}

// USB first, usbmuxd's attach a second later (preflight takes that long
// on a real phone): one device that goes probing → ready, never no-data and
// never a second entry.
func TestUSBThenAttach(t *testing.T) {
	s := startSim(t, sim.DeviceConfig{Trusted: true, Detached: true})
	phone := s.Devices()[0]
	lines := watchLines(t, s.Address())
	time.Sleep(300 * time.Millisecond)
	plug(t, "iphone", iphoneSP)
	time.Sleep(time.Second)
	phone.Attach()
	deadline := time.After(10 * time.Second)
	var states []string
	for {
		select {
		case m, ok := <-lines:
			if !ok {
				t.Fatal("watch ended")
			}
			if m["usbmux"] != nil {
				continue
			}
			t.Logf("watch: %v", m)
			if m["udid"] != udid {
				t.Fatalf("a second device entry: %v", m)
			}
			st, _ := m["state"].(string)
			if st == "" {
				t.Fatalf("the device went away: %v", m)
			}
			states = append(states, st)
			if st == "no-data" {
				t.Fatalf("no-data although usbmuxd attached within the window: %v", states)
			}
			if st == "ready" {
				if m["name"] != "Anna's iPhone" {
					t.Errorf("ready line without the phone's name: %v", m)
				}
				return
			}
		case <-deadline:
			t.Fatalf("no ready within 10 s; states %v", states)
		}
	}
}
