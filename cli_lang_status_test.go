package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/trustwatch/trustwatch/internal/catalog"
	"github.com/trustwatch/trustwatch/internal/catalog/catalogtest"
	speak "github.com/trustwatch/trustwatch/internal/say"
	"github.com/trustwatch/trustwatch/internal/sim"
	"github.com/trustwatch/trustwatch/watcher/engine"
)

// status's human line speaks the language asked for, for every state a
// phone on usbmuxd can be in: the real binary against the simulator, in
// Russian and in English, one fresh phone each (a status may send a Pair).
func TestStatusLineInEveryLanguage(t *testing.T) {
	for _, c := range lockdownStates {
		for _, tag := range catalog.Languages() {
			t.Run(tag+"/"+c.want+strings.Join(c.args, ""), func(t *testing.T) {
				t.Parallel()
				s := startSim(t)
				cfg := c.cfg
				cfg.Name = "Anna's iPhone"
				d := s.AddDevice(cfg)
				r := tw(t, s.Address(), append([]string{"--lang", tag, "status"}, c.args...)...)
				w := catalog.In(tag)
				summary := terminalSummary(w, engine.Device{UDID: d.UDID(), State: engine.State(c.want)})
				if want := "Anna's iPhone  " + c.want + "  " + summary + "\n"; r.code != 0 || r.stdout != want {
					t.Fatalf("exit %d\n got %q\nwant %q\nstderr: %s", r.code, r.stdout, want, r.stderr)
				}
				if tag == "en" {
					return
				}
				english := terminalSummary(speak.English, engine.Device{UDID: d.UDID(), State: engine.State(c.want)})
				if summary == english {
					t.Errorf("%s: the English advice %q", tag, summary)
				}
				if ws := catalogtest.StrayLatin(summary, "fix"); len(ws) > 0 { // "trustwatch fix <UDID>" is a command
					t.Errorf("%s: Latin words %q in %q", tag, ws, summary)
				}
			})
		}
	}
	// The English line, word for word as it has always been.
	s := startSim(t)
	s.AddDevice(sim.DeviceConfig{Name: "Anna's iPhone", Trusted: true, Locked: true})
	if r := tw(t, s.Address(), "--lang", "en", "status"); r.stdout != "Anna's iPhone  locked  Trusted, but the screen is locked. Unlock your iPhone to use it with this computer.\n" {
		t.Errorf("English: %q", r.stdout)
	}
}

// usbmuxd's state on stderr speaks the language asked for too: a usbmuxd
// that answers garbage, and one that answers nothing. The raw error (the
// last line, in parentheses) is the system's and stays as it is.
func TestStatusUsbmuxdLinesInRussian(t *testing.T) {
	ru := catalog.In("ru")
	for _, c := range []struct {
		fault  sim.MuxFault
		state  engine.MuxState
		anchor string
	}{
		{sim.MuxFaultJunk, engine.MuxUnreadable, "issue-drivers"},
		{sim.MuxFaultSilent, engine.MuxNotResponding, "issue-drivers"},
	} {
		t.Run(string(c.state), func(t *testing.T) {
			t.Parallel()
			s := startSim(t)
			s.SetMuxFault(c.fault)
			r := tw(t, s.Address(), "--lang", "ru", "status")
			if r.code != exitUnreachable || r.stdout != ru.T("cli.no_iphone", nil)+"\n" || r.stdout == "No iPhone connected.\n" {
				t.Fatalf("exit %d stdout %q", r.code, r.stdout)
			}
			m := engine.DescribeMux(engine.Usbmux{Address: s.Address(), State: c.state, Error: "x"}, engine.MuxEnv{GOOS: "linux"}, false)
			if m.Headline.ID != "mux."+string(c.state) {
				t.Fatalf("the table changed: %+v", m)
			}
			lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
			want := []string{
				speak.MuxHeadline(ru, m) + ".",
				"  " + speak.MuxNext(ru, m),
				"  " + ru.T("cli.mux.more", map[string]any{"Anchor": c.anchor}),
			}
			if len(lines) != len(want)+1 || !strings.HasPrefix(lines[len(want)], "  (") {
				t.Fatalf("stderr:\n%s\nwant:\n%s\n  (the error)", r.stderr, strings.Join(want, "\n"))
			}
			for i, l := range want {
				if lines[i] != l {
					t.Errorf("line %d: %q, want %q", i+1, lines[i], l)
				}
			}
			said := strings.Join(lines[:len(want)], "\n")
			extra := append(catalogtest.StrayLatin(s.SocketPath()), "sudo", "systemctl", "restart", "USBMUXD", "guide", "print", c.anchor)
			if ws := catalogtest.StrayLatin(said, extra...); len(ws) > 0 {
				t.Errorf("Latin words %q in:\n%s", ws, said)
			}
			if catalogtest.LatinWords(said) > 0 && !strings.Contains(said, "служба usbmuxd") && !strings.Contains(said, "Служба usbmuxd") {
				t.Errorf("not Russian:\n%s", said)
			}
		})
	}
}

// watch's human lines speak the language asked for: usbmuxd reachable,
// and a phone's state with its advice.
func TestWatchLinesInRussian(t *testing.T) {
	s := startSim(t)
	s.AddDevice(sim.DeviceConfig{Name: "Anna's iPhone", Trusted: true})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "watch", "--lang", "ru")
	cmd.Env = append(os.Environ(), "USBMUXD_SOCKET_ADDRESS="+s.Address())
	cmd.WaitDelay = 2 * time.Second
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Signal(os.Interrupt)
	ru := catalog.In("ru")
	want := []string{
		ru.T("watch.mux.reachable", map[string]any{"Service": "usbmuxd", "Address": "unix://" + s.SocketPath()}), // as the address is shown: scheme in small letters
		"Anna's iPhone: ready — " + speak.StateSummary(ru, engine.StateReady),
	}
	var got []string
	sc := bufio.NewScanner(out)
	for len(want) > 0 && sc.Scan() {
		line := sc.Text()
		got = append(got, line)
		if strings.HasSuffix(line, " "+want[0]) {
			want = want[1:]
		}
	}
	if len(want) > 0 {
		t.Fatalf("watch never printed %q; it printed:\n%s", want[0], strings.Join(got, "\n"))
	}
}
