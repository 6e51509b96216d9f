package desktoptest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// panelXML is one 40 px panel along the top of the screen: an expanding
// separator, the systray plugin (the StatusNotifierItem host) and a clock.
// Pre-seeding it skips the panel's first-run question.
const panelXML = `<?xml version="1.0" encoding="UTF-8"?>
<channel name="xfce4-panel" version="1.0">
  <property name="configver" type="int" value="2"/>
  <property name="panels" type="array"><value type="int" value="1"/>
    <property name="panel-1" type="empty">
      <property name="position" type="string" value="p=6;x=0;y=0"/>
      <property name="position-locked" type="bool" value="true"/>
      <property name="size" type="uint" value="40"/>
      <property name="icon-size" type="uint" value="32"/>
      <property name="length" type="uint" value="100"/>
      <property name="plugin-ids" type="array"><value type="int" value="1"/><value type="int" value="2"/><value type="int" value="3"/></property>
    </property></property>
  <property name="plugins" type="empty">
    <property name="plugin-1" type="string" value="separator"><property name="expand" type="bool" value="true"/></property>
    <property name="plugin-2" type="string" value="systray"><property name="square-icons" type="bool" value="true"/></property>
    <property name="plugin-3" type="string" value="clock"/>
  </property>
</channel>
`

// xfconfd is where Debian installs it; the private bus started by StartBus
// has no service directories, so the panel cannot D-Bus-activate it and
// StartPanel starts it itself.
var xfconfdPaths = []string{
	"/usr/lib/x86_64-linux-gnu/xfce4/xfconf/xfconfd",
	"/usr/lib/aarch64-linux-gnu/xfce4/xfconf/xfconfd",
	"/usr/lib/xfce4/xfconf/xfconfd",
}

// StartPanel starts xfce4-panel (a real StatusNotifierItem host) on the
// display and bus in env (DISPLAY, DBUS_SESSION_BUS_ADDRESS), with a fresh
// configuration, and waits until org.kde.StatusNotifierWatcher is owned. It
// returns env extended with the XDG directories the panel uses.
func StartPanel(t testing.TB, env []string) []string {
	t.Helper()
	bin := Need(t, "xfce4-panel", "xfce4-panel")
	addr := lookup(env, "DBUS_SESSION_BUS_ADDRESS")
	if addr == "" || lookup(env, "DISPLAY") == "" {
		t.Fatal("StartPanel: env needs DISPLAY and DBUS_SESSION_BUS_ADDRESS")
	}
	xfconfd := ""
	for _, p := range xfconfdPaths {
		if _, err := os.Stat(p); err == nil {
			xfconfd = p
			break
		}
	}
	if xfconfd == "" {
		Need(t, "xfconfd", "xfconf") // skips, or fails under CI=true
	}
	root := t.TempDir()
	cfg := filepath.Join(root, "config")
	chdir := filepath.Join(cfg, "xfce4", "xfconf", "xfce-perchannel-xml")
	run := filepath.Join(root, "run")
	for _, d := range []string{chdir, filepath.Join(root, "cache")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(run, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(chdir, "xfce4-panel.xml"), []byte(panelXML), 0o644); err != nil {
		t.Fatal(err)
	}
	penv := append(append([]string{}, env...),
		"XDG_CONFIG_HOME="+cfg, "XDG_CACHE_HOME="+filepath.Join(root, "cache"), "XDG_RUNTIME_DIR="+run,
		"XDG_CONFIG_DIRS="+cfg, "XDG_DATA_DIRS=/usr/local/share:/usr/share")

	xc := exec.Command(xfconfd)
	xc.Env = penv
	xp := start(t, xc)
	WaitForName(t, addr, "org.xfce.Xfconf", 10*time.Second, exitedErr(xp, "xfconfd"))

	cmd := exec.Command(bin, "--disable-wm-check")
	cmd.Env = penv
	// Its own process group: the systray plugin runs in a wrapper child,
	// and stopping the group stops exactly the processes this test started.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p := start(t, cmd)
	t.Cleanup(func() { stopGroup(p) }) // runs before start's SIGKILL
	WaitForName(t, addr, "org.kde.StatusNotifierWatcher", 15*time.Second, exitedErr(p, "xfce4-panel"))
	return penv
}

func exitedErr(p *proc, name string) func() error {
	return func() error {
		select {
		case <-p.exited:
			return fmt.Errorf("%s exited (%v); stderr: %s", name, p.err, p.stderr)
		default:
			return nil
		}
	}
}

// stopGroup asks the panel and its plugin wrappers to quit, then kills
// what is left of that group.
func stopGroup(p *proc) {
	pgid := p.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(3 * time.Second):
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL) // wrappers that outlived the panel
}
