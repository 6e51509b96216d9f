package main

// The real tray (`trustwatch --allow-root`) on a private desktop: a D-Bus
// session bus, Xvfb, xfce4-panel as the StatusNotifierItem host and a
// recording notification server. What a person sees in the menu when
// usbmuxd is away, and what "Copy support report" does.

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/trustwatch/trustwatch/internal/desktoptest"
	"github.com/trustwatch/trustwatch/internal/sim"
	"github.com/trustwatch/trustwatch/tray"
)

type trayDesktop struct {
	env    []string // DISPLAY, the bus, the panel's XDG dirs
	conn   *dbus.Conn
	notify *desktoptest.FakeServer
}

func startTrayDesktop(t *testing.T) trayDesktop {
	t.Helper()
	bus := desktoptest.StartBus(t)
	disp := desktoptest.StartXvfb(t)
	env := desktoptest.Env("DISPLAY="+disp, "DBUS_SESSION_BUS_ADDRESS="+bus)
	env = desktoptest.StartPanel(t, env)
	return trayDesktop{env: env, conn: desktoptest.Connect(t, bus), notify: desktoptest.FakeNotificationServer(t, bus)}
}

type trayProc struct {
	cmd    *exec.Cmd
	dest   string
	home   string
	stderr *lockedBuilder
}

// startTray runs the real binary as the tray, with its own home and
// runtime folder, and waits for its item on the bus.
func (d trayDesktop) startTray(t *testing.T, muxAddr string, extra ...string) *trayProc {
	t.Helper()
	home := t.TempDir()
	run := filepath.Join(home, "run")
	os.Mkdir(run, 0o700)
	cmd := exec.Command(binary, "--allow-root")
	cmd.Env = append(append([]string{}, d.env...), "HOME="+home, "XDG_RUNTIME_DIR="+run,
		"XDG_STATE_HOME="+filepath.Join(home, "state"), "XDG_CONFIG_HOME="+filepath.Join(home, "config"),
		"XDG_CACHE_HOME="+filepath.Join(home, "cache"), "USBMUXD_SOCKET_ADDRESS="+muxAddr)
	cmd.Env = append(cmd.Env, extra...)
	var errb strings.Builder
	lb := &lockedBuilder{mu: &sync.Mutex{}, b: &errb}
	cmd.Stderr = lb
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
			t.Error("the tray did not quit on SIGTERM")
		}
	})
	name := "org.kde.StatusNotifierItem-" + strconv.Itoa(cmd.Process.Pid) + "-1"
	deadline := time.Now().Add(15 * time.Second)
	for {
		owner, err := desktoptest.OwnerOf(d.conn, name)
		if err == nil && owner != "" {
			return &trayProc{cmd: cmd, dest: owner, home: home, stderr: lb}
		}
		select {
		case <-exited:
			t.Fatalf("the tray exited; stderr:\n%s", lb.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no tray item on the bus; stderr:\n%s", lb.String())
		}
		time.Sleep(30 * time.Millisecond)
	}
}

// menu waits until the tray's menu is complete and ok accepts it.
func (d trayDesktop) menu(t *testing.T, p *trayProc, what string, ok func(*desktoptest.MenuNode) bool) *desktoptest.MenuNode {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	var last *desktoptest.MenuNode
	for time.Now().Before(deadline) {
		m, err := desktoptest.MenuLayout(d.conn, p.dest)
		if err == nil && len(m.Children) > 0 && m.Children[len(m.Children)-1].Label() == tray.QuitLabel("linux") && ok(m) {
			return m
		}
		last = m
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the menu never showed %s; last:\n%v\nstderr:\n%s", what, last, p.stderr.String())
	return nil
}

// waitNotify waits for a Notify whose summary is summary.
func (d trayDesktop) waitNotify(t *testing.T, summary string, within time.Duration) desktoptest.NotifyCall {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		for _, c := range d.notify.Calls() {
			if c.Summary == summary {
				return c
			}
		}
		time.Sleep(30 * time.Millisecond)
	}
	t.Fatalf("no notification %q within %v; got %+v", summary, within, d.notify.Calls())
	return desktoptest.NotifyCall{}
}

func TestTrayUsbmuxdAndSupportReport(t *testing.T) {
	desktoptest.Need(t, "xclip", "xclip")
	d := startTrayDesktop(t)

	t.Run("usbmuxd idle, no phone: no alarm", func(t *testing.T) {
		fakeBin := t.TempDir()
		os.WriteFile(filepath.Join(fakeBin, "usbmuxd"), []byte("#!/bin/sh\n"), 0o755)
		p := d.startTray(t, "UNIX://"+filepath.Join(t.TempDir(), "usbmuxd"), "PATH="+fakeBin+":"+os.Getenv("PATH"))
		m := d.menu(t, p, "No iPhone connected", func(m *desktoptest.MenuNode) bool { return m.Children[0].Label() == "No iPhone connected" })
		if l := m.Children[1]; !l.Separator() {
			t.Errorf("an item under the status line where none belongs: %q", l.Label())
		}
		if tip, _ := desktoptest.ToolTip(d.conn, p.dest); !strings.HasPrefix(tip, "trustwatch: No iPhone connected") {
			t.Errorf("tooltip %q", tip)
		}
	})

	t.Run("usbmuxd answering garbage: said, with the next step", func(t *testing.T) {
		s := startSim(t)
		s.SetMuxFault(sim.MuxFaultJunk)
		p := d.startTray(t, s.Address())
		const h = "usbmuxd answered something trustwatch cannot read"
		m := d.menu(t, p, h, func(m *desktoptest.MenuNode) bool { return m.Find(h) != nil })
		if m.Children[0].Label() != "No iPhone connected" || m.Children[1].Label() != h {
			t.Errorf("menu %v", m.Labels())
		}
		item := m.Find(h)
		if item.Find("Restart it: sudo systemctl restart usbmuxd") == nil || item.Find(tray.LabelShowMeHow.String()) == nil {
			t.Errorf("submenu %v", item.Labels())
		}
	})

	t.Run("Copy support report: the clipboard", func(t *testing.T) {
		s := startSim(t)
		s.AddDevice(sim.DeviceConfig{Name: "Anna's iPhone", Trusted: true})
		p := d.startTray(t, s.Address())
		m := d.menu(t, p, "Anna ready", func(m *desktoptest.MenuNode) bool { return m.Children[0].Label() == "1 iPhone connected — ready" })
		item := m.Find(tray.LabelCopyReport.String())
		if item == nil {
			t.Fatalf("no %q in %v", tray.LabelCopyReport.String(), m.Labels())
		}
		clicked := time.Now()
		if err := desktoptest.MenuClick(d.conn, p.dest, item.ID); err != nil {
			t.Fatal(err)
		}
		n := d.waitNotify(t, "Support report copied", 10*time.Second)
		t.Logf("click → notification in %v: %q", time.Since(clicked).Round(time.Millisecond), n.Body)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, "xclip", "-o", "-selection", "clipboard")
		cmd.Env = d.env
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("xclip -o: %v", err)
		}
		for _, want := range []string{"trustwatch support report", "history of this tray, since ", "  Anna's iPhone\n", "state:         ready since", "Anna's iPhone: probing → ready", "  state:         running"} {
			if !strings.Contains(string(out), want) {
				t.Errorf("clipboard lacks %q:\n%s", want, out)
			}
		}
		if strings.Contains(string(out), "PRIVATE KEY") {
			t.Error("key material on the clipboard")
		}
	})

	t.Run("Copy support report: no clipboard, a file", func(t *testing.T) {
		s := startSim(t)
		s.AddDevice(sim.DeviceConfig{Name: "Ben's iPhone", Trusted: true, Locked: true})
		// No display for the tray: the menu works over D-Bus, the
		// clipboard does not.
		p := d.startTray(t, s.Address(), "DISPLAY=", "WAYLAND_DISPLAY=")
		m := d.menu(t, p, "Ben locked", func(m *desktoptest.MenuNode) bool {
			return m.Children[0].Label() == "1 iPhone connected — needs attention"
		})
		if err := desktoptest.MenuClick(d.conn, p.dest, m.Find(tray.LabelCopyReport.String()).ID); err != nil {
			t.Fatal(err)
		}
		n := d.waitNotify(t, "Support report saved", 10*time.Second)
		files, _ := filepath.Glob(filepath.Join(p.home, "trustwatch-report-*.txt"))
		if len(files) != 1 || !strings.Contains(n.Body, files[0]) {
			t.Fatalf("files %v, notification %q", files, n.Body)
		}
		b, _ := os.ReadFile(files[0])
		fi, _ := os.Stat(files[0])
		if !strings.Contains(string(b), "state:         locked since") || fi.Mode().Perm() != 0o600 {
			t.Errorf("file (%v):\n%s", fi.Mode(), b)
		}
	})
}
