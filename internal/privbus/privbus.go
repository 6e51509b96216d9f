// Package privbus starts a private D-Bus session daemon for the tests and
// the bench, and ties helper processes' lives to ours.
package privbus

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// busConfig is a session bus with no service directories, so nothing
// (dunst, xfce4-notifyd) is ever auto-activated behind the back of the
// notification server a test or the bench starts itself.
const busConfig = `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=%s</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`

// Bus is a private dbus-daemon this process started.
type Bus struct {
	Addr string
	cmd  *exec.Cmd
	dir  string
	done chan struct{}
}

// Start starts dbus-daemon in the foreground and waits for its address.
func Start() (*Bus, error) {
	bin, err := exec.LookPath("dbus-daemon")
	if err != nil {
		return nil, fmt.Errorf("dbus-daemon not found (apt-get install dbus): %w", err)
	}
	dir, err := os.MkdirTemp("", "twbus")
	if err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "bus.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(busConfig, dir)), 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	cmd := exec.Command(bin, "--config-file="+conf, "--nofork", "--print-address=1")
	DieWithParent(cmd)
	out, err := cmd.StdoutPipe()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("dbus-daemon: %w", err)
	}
	b := &Bus{cmd: cmd, dir: dir, done: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			addr <- strings.TrimSpace(sc.Text())
		}
		close(addr)
		for sc.Scan() {
		}
		cmd.Wait()
		close(b.done)
	}()
	select {
	case a, ok := <-addr:
		if ok && a != "" {
			b.Addr = a
			return b, nil
		}
	case <-time.After(5 * time.Second):
	}
	b.Close()
	return nil, errors.New("dbus-daemon printed no address within 5 s")
}

// Close kills the daemon and waits for it.
func (b *Bus) Close() {
	if b == nil {
		return
	}
	b.cmd.Process.Kill()
	select {
	case <-b.done:
	case <-time.After(5 * time.Second):
	}
	os.RemoveAll(b.dir)
}
