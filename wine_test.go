//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/trustwatch/trustwatch/internal/sim"
)

// The Windows GUI exe (-H=windowsgui), run under Wine against the simulator
// on TCP (Wine has no AF_UNIX). scripts/test-wine.sh builds the exe, makes a
// private Wine prefix and runs these with TRUSTWATCH_WINE_EXE set.

func wineExe(t *testing.T) (wine64, exe string) {
	t.Helper()
	exe = os.Getenv("TRUSTWATCH_WINE_EXE")
	if exe == "" {
		t.Skip("SKIPPED: run by scripts/test-wine.sh (TRUSTWATCH_WINE_EXE unset)")
	}
	wine64 = os.Getenv("WINE64")
	if wine64 == "" {
		wine64 = "/usr/lib/wine/wine64"
	}
	warmOnce.Do(func() {
		// Start the prefix's own processes (services, explorer) now, with
		// no pipes of ours to inherit: started by a test's first command,
		// they would hold its stdout open after it exits.
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if err := exec.CommandContext(ctx, wine64, "cmd", "/c", "exit").Run(); err != nil {
			t.Logf("warming up Wine: %v", err)
		}
	})
	return wine64, exe
}

var warmOnce sync.Once

// wineCmd runs the exe under Wine.
func wineCmd(t *testing.T) cmdFunc {
	wine64, exe := wineExe(t)
	return func(ctx context.Context, args ...string) *exec.Cmd {
		return exec.CommandContext(ctx, wine64, append([]string{exe}, args...)...)
	}
}

// winPath is how Wine names a Linux path (drive Z: is /).
func winPath(p string) string { return `Z:` + strings.ReplaceAll(p, "/", `\`) }

// tcpSim is a simulator that also listens on TCP.
func tcpSim(t *testing.T, addr string) (*sim.Server, string) {
	t.Helper()
	s, err := sim.Start(sim.Options{TCPAddr: addr, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, "tcp://" + s.TCPAddress()
}

func TestWineStatusEveryState(t *testing.T) {
	command := wineCmd(t)
	for _, c := range lockdownStates {
		t.Run(c.want+strings.Join(c.args, ""), func(t *testing.T) {
			t.Parallel()
			s, addr := tcpSim(t, "127.0.0.1:0")
			checkStatusState(t, s, command, addr, c.want, c.cfg, c.args, c.pairs)
		})
	}
	t.Run("error", func(t *testing.T) {
		t.Parallel()
		s, addr := tcpSim(t, "127.0.0.1:0")
		s.AddDevice(sim.DeviceConfig{Trusted: true, Fault: sim.FaultLockdownSilent})
		st, r := statusWith(t, command, addr, "--timeout", "8s")
		if r.code != 0 || len(st.Devices) != 1 || st.Devices[0]["state"] != "error" || st.Devices[0]["detail"] == "" {
			t.Fatalf("exit %d %+v\n%s", r.code, st, r.stderr)
		}
	})
	t.Run("no phone", func(t *testing.T) {
		t.Parallel()
		_, addr := tcpSim(t, "127.0.0.1:0")
		st, r := statusWith(t, command, addr)
		if r.code != 0 || !st.Usbmux.Reachable || st.Devices == nil || len(st.Devices) != 0 {
			t.Fatalf("exit %d %+v\n%s", r.code, st, r.stderr)
		}
	})
	t.Run("Apple service not installed", func(t *testing.T) {
		t.Parallel()
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		refusing := l.Addr().String()
		l.Close()
		r := twWith(t, command, "tcp://"+refusing, "status", "--json")
		if r.code != exitUnreachable || !strings.Contains(r.stdout, `"state":"not-installed"`) || !strings.Contains(r.stdout, `"reachable":false`) {
			t.Fatalf("exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
		}
		r = twWith(t, command, "tcp://"+refusing, "status")
		if r.code != exitUnreachable || !strings.Contains(r.stderr, "Install Apple Devices from the Microsoft Store") || strings.Contains(r.stderr, "usbmuxd") {
			t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
		}
	})
}

// listenDefault takes 127.0.0.1:27015, Windows' default, retrying while a
// parallel run holds it.
func listenDefault(t *testing.T) (*sim.Server, bool) {
	t.Helper()
	for try := 0; try < 20; try++ {
		s, err := sim.Start(sim.Options{TCPAddr: "127.0.0.1:27015", Logf: t.Logf})
		if err == nil {
			t.Cleanup(func() { s.Close() })
			return s, true
		}
		if !errors.Is(err, syscall.EADDRINUSE) {
			t.Fatal(err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	return nil, false
}

// The watch story, on the default address: locked and untrusted → unlocked
// → Trust prompt → Trust tapped → ready, one dialog, a saved record.
func TestWineWatchStory(t *testing.T) {
	command := wineCmd(t)
	s, ok := listenDefault(t)
	addr := "" // the default, 127.0.0.1:27015
	if !ok {
		t.Log("WARNING: 127.0.0.1:27015 stayed taken for 10 s (a parallel run?); using another port through USBMUXD_SOCKET_ADDRESS")
		s, addr = tcpSim(t, "127.0.0.1:0")
	}
	w := startWatchWith(t, command, false, addr)
	w.waitFor("usbmuxd reachable", 20*time.Second, muxReachable(true))
	d := s.AddDevice(sim.DeviceConfig{Name: "Anna's iPhone", Locked: true})
	w.waitFor("untrusted-locked", 5*time.Second, stateIs(d.UDID(), "untrusted-locked"))
	d.Unlock()
	w.waitFor("trust-pending", 5*time.Second, stateIs(d.UDID(), "trust-pending"))
	time.Sleep(200 * time.Millisecond)
	d.TapTrust()
	w.waitFor("ready", 5*time.Second, stateIs(d.UDID(), "ready"))
	if st := d.Stats(); st.DialogShows != 1 || st.DialogFlashes != 0 {
		t.Errorf("dialog shown %d times, flashed %d times", st.DialogShows, st.DialogFlashes)
	}
	if _, ok := s.PairRecord(d.UDID()); !ok {
		t.Fatal("the approved pairing was not saved through the Apple service")
	}
	if _, ok := s.PairRecord(d.UDID()); ok && addr == "" {
		t.Log("story ran on the default address 127.0.0.1:27015")
	}
}

// A toast's "Fix trust" button: Windows starts `trustwatch.exe
// "trustwatch:fix/<UDID>"` through the URL scheme the tray registered; that
// process hands the action to the running tray, which sends one Pair.
func TestWineURLProtocolReachesTray(t *testing.T) {
	wine64, exe := wineExe(t)
	s, addr := tcpSim(t, "127.0.0.1:0")
	d := s.AddDevice(sim.DeviceConfig{Name: "Anna's iPhone", Revoked: true})

	tray := exec.Command(wine64, exe, "--allow-root")
	tray.Env = append(os.Environ(), "USBMUXD_SOCKET_ADDRESS="+addr)
	var trayErr strings.Builder
	tray.Stdout, tray.Stderr = &trayErr, &trayErr
	if err := tray.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- tray.Wait() }()
	var once sync.Once
	stopTray := func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			out, err := exec.CommandContext(ctx, wine64, exe, "service", "stop").CombinedOutput()
			t.Logf("service stop: %v %s", err, out)
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
				tray.Process.Kill()
				<-exited
				t.Error("the tray did not exit after `service stop`")
			}
		})
	}
	t.Cleanup(stopTray)

	// The tray is up once it has diagnosed the phone (and so registered
	// the scheme and its action window before that).
	waitUntil(t, 30*time.Second, "the tray to diagnose the phone", func() bool { return d.Stats().StartSessions > 0 })
	time.Sleep(500 * time.Millisecond) // the snapshot reaches the tray
	reg := regQuery(t, wine64, `HKCU\Software\Classes\trustwatch\shell\open\command`)
	if !strings.Contains(reg, winPath(exe)) || !strings.Contains(reg, `"%1"`) {
		t.Fatalf("URL scheme not registered for the exe:\n%s", reg)
	}
	// Windows reads the scheme through HKEY_CLASSES_ROOT, which merges
	// HKCU\Software\Classes over HKLM's; Wine 8's does not merge, so the
	// tray's own per-user keys are copied to HKLM for its ShellExecute.
	mirrorClassesToMachine(t, wine64, `Software\Classes\trustwatch`)
	before := d.Stats().PairRequests
	// As Windows does for a toast button: ShellExecute on the URL.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	url := fmt.Sprintf("trustwatch:fix/%s", d.UDID())
	if out, err := exec.CommandContext(ctx, wine64, "start", "/wait", url).CombinedOutput(); err != nil {
		t.Fatalf("start %s: %v %s", url, err, out)
	}
	waitUntil(t, 15*time.Second, "Fix trust to send a Pair", func() bool { return d.Stats().PairRequests > before })
	time.Sleep(time.Second)
	if n := d.Stats().PairRequests - before; n != 1 {
		t.Errorf("Fix trust through the URL sent %d Pair requests, want exactly 1", n)
	}
	stopTray()
	if strings.Contains(trayErr.String(), "panic") {
		t.Errorf("tray output:\n%s", trayErr.String())
	}
}

func waitUntil(t *testing.T, within time.Duration, what string, ok func() bool) {
	t.Helper()
	for end := time.Now().Add(within); !ok(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("waited %v for %s", within, what)
		}
	}
}

func regQuery(t *testing.T, wine64, key string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, _ := exec.CommandContext(ctx, wine64, "reg", "query", key, "/s").CombinedOutput()
	return string(out)
}

// mirrorClassesToMachine copies an HKCU key to HKLM with reg export/import
// (the .reg text is UTF-16), and deletes the copy at the end.
func mirrorClassesToMachine(t *testing.T, wine64, key string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "tw-wine-reg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	file := filepath.Join(dir, "classes.reg")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, wine64, "reg", "export", `HKCU\`+key, winPath(file), "/y").CombinedOutput(); err != nil {
		t.Fatalf("reg export: %v %s", err, out)
	}
	raw, err := os.ReadFile(file)
	if err != nil || len(raw) < 2 || raw[0] != 0xFF || raw[1] != 0xFE {
		t.Fatalf("reg export wrote no UTF-16 file: %v", err)
	}
	u := make([]uint16, (len(raw)-2)/2)
	for i := range u {
		u[i] = uint16(raw[2+2*i]) | uint16(raw[3+2*i])<<8
	}
	text := strings.ReplaceAll(string(utf16.Decode(u)), "[HKEY_CURRENT_USER\\", "[HKEY_LOCAL_MACHINE\\")
	out := []byte{0xFF, 0xFE}
	for _, c := range utf16.Encode([]rune(text)) {
		out = append(out, byte(c), byte(c>>8))
	}
	if err := os.WriteFile(file, out, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.CommandContext(ctx, wine64, "reg", "import", winPath(file)).CombinedOutput(); err != nil {
		t.Fatalf("reg import: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command(wine64, "reg", "delete", `HKLM\`+key, "/f").Run() })
}

// The installer under Wine: msiexec /i puts the files, the shortcut and the
// keys in place and starts the tray; msiexec /x stops the tray and leaves
// none of it, the Run value and Task Manager's StartupApproved entry
// included.
func TestWineMSIInstallUninstall(t *testing.T) {
	wine64, _ := wineExe(t)
	msi := os.Getenv("TRUSTWATCH_WINE_MSI")
	if msi == "" {
		t.Skip("SKIPPED: run by scripts/test-wine.sh (TRUSTWATCH_WINE_MSI unset)")
	}
	run := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, wine64, args...)
		cmd.WaitDelay = 2 * time.Second
		out, err := cmd.CombinedOutput()
		if err != nil && !errors.Is(err, exec.ErrWaitDelay) {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(strings.ReplaceAll(string(out), "\r", ""))
	}
	unixPath := func(win string) string { return run("winepath", "-u", win) }
	lad := unixPath(run("cmd", "/c", "echo %LOCALAPPDATA%"))
	appdata := unixPath(run("cmd", "/c", "echo %APPDATA%"))
	dir := filepath.Join(lad, "Programs", "trustwatch")
	exeWin := run("cmd", "/c", `echo %LOCALAPPDATA%\Programs\trustwatch\trustwatch.exe`)
	lnk := filepath.Join(appdata, "Microsoft", "Windows", "Start Menu", "Programs", "trustwatch.lnk")
	const (
		runKey      = `HKCU\Software\Microsoft\Windows\CurrentVersion\Run`
		approvedKey = `HKCU\Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run`
	)
	keys := map[string][]string{ // key → what `reg query /s` must show
		`HKCU\Software\Classes\trustwatch`:                {"URL:trustwatch", "URL Protocol", `"` + exeWin + `" "%1"`},
		`HKCU\Software\Classes\AppUserModelId\trustwatch`: {"DisplayName", "IconUri", `Programs\trustwatch\trustwatch.png`},
		runKey: {"trustwatch", `"` + exeWin + `"`},
	}
	t.Cleanup(func() { run("msiexec", "/x", winPath(msi), "/qn") })

	run("msiexec", "/i", winPath(msi), "/qn")
	for _, f := range []string{filepath.Join(dir, "trustwatch.exe"), filepath.Join(dir, "trustwatch.png"), lnk} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("after install: %v", err)
		}
	}
	for k, want := range keys {
		got := regQuery(t, wine64, k)
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("after install, %s lacks %q:\n%s", k, w, got)
			}
		}
	}
	// STARTNOW=1 (the default) started the tray.
	waitUntil(t, 30*time.Second, "the installed tray to run", func() bool {
		return strings.Contains(run(exeWin, "service", "status"), "Running:    yes")
	})
	// Task Manager's record of the login item, as Windows writes it.
	run("reg", "add", approvedKey, "/v", "trustwatch", "/t", "REG_BINARY", "/d", "020000000000000000000000", "/f")

	run("msiexec", "/x", winPath(msi), "/qn")
	for _, f := range []string{dir, lnk} {
		if _, err := os.Stat(f); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("after uninstall, %s: %v", f, err)
		}
	}
	for k := range keys {
		if got := regQuery(t, wine64, k); strings.Contains(got, "trustwatch") {
			t.Errorf("after uninstall, %s still has:\n%s", k, got)
		}
	}
	if got := regQuery(t, wine64, approvedKey); strings.Contains(got, "trustwatch") {
		t.Errorf("after uninstall, the StartupApproved entry stays:\n%s", got)
	}
	if got := regQuery(t, wine64, `HKCU\Software\trustwatch`); strings.Contains(got, "InstallDir") {
		t.Errorf("after uninstall, HKCU\\Software\\trustwatch stays:\n%s", got)
	}
	if strings.Contains(run("cmd", "/c", "tasklist"), "trustwatch.exe") {
		t.Error("the tray still runs after uninstall")
	}
}
