package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/trustwatch/trustwatch/internal/report"
	"github.com/trustwatch/trustwatch/service"
	"github.com/trustwatch/trustwatch/watcher"
	"github.com/trustwatch/trustwatch/watcher/engine"
	"github.com/trustwatch/trustwatch/watcher/usbmux"
)

// logTailLines is how much of the log a report carries.
const logTailLines = 40

// runReport prints the support report. It never sends a Pair and never
// writes a record; it exits 0 whatever it finds.
func runReport(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("report")
	redact := fs.Bool("redact")
	addr, _, code, ok := fs.parseAddr(args, 0, stdout, stderr)
	if !ok {
		return code
	}
	ctx, signalled, stop := interruptible()
	defer stop()
	started := time.Now()
	link, snap := openPhones(ctx, addr, forReport)
	hist := link.History()
	link.Close()
	if c := signalled(); c != 0 {
		say(stderr, "cli.report.interrupted", nil)
		return c
	}
	of := fmt.Sprintf("this report's own look at the phones, %s–%s", started.Format("15:04:05"), time.Now().Format("15:04:05"))
	in := gatherReport(context.Background(), addr, snap, hist, of)
	if err := report.Write(stdout, in, *redact); err != nil {
		say(stderr, "cli.report.failed", map[string]any{"Error": err})
	}
	return exitOK
}

// gatherReport collects what the support report shows besides the phones:
// versions, usbmuxd's socket, the USB layer, the login item, the
// notification server and the log. Each part is bounded in time; a part
// that cannot be read says so instead of failing the report.
func gatherReport(ctx context.Context, addr usbmux.Address, snap engine.Snapshot, hist []watcher.Entry, historyOf string) report.Info {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	exe, _ := os.Executable()
	bi := readBuildInfo()
	commit := bi.Commit
	if bi.Modified {
		commit += " (modified)"
	}
	if bi.Built != "" {
		commit += ", built " + bi.Built
	}
	in := report.Info{
		Time:      time.Now(),
		Version:   bi.Version,
		Commit:    commit,
		GoVersion: runtime.Version(),
		OS:        runtime.GOOS, Arch: runtime.GOARCH, OSName: watcher.OSName(),
		Language:   language(),
		Executable: exe,
		Usbmux:     snap.Usbmux,
		Socket:     socketFacts(addr),
		Devices:    snap.Devices,
		History:    hist,
		HistoryOf:  historyOf,
		TrayHost:   trayHost(ctx),
	}
	if in.Usbmux.Address == "" {
		in.Usbmux.Address = addr.String()
	}
	if runtime.GOOS == "linux" {
		in.Daemon = watcher.DaemonPath()
		if in.Daemon == "" {
			in.Daemon = "no usbmuxd program found (PATH, /usr/sbin, /sbin, /usr/local/sbin)"
		}
	}
	onUSB := 0
	for _, d := range snap.Devices {
		if d.USB != nil {
			onUSB++
		}
	}
	if _, ok, why := watcher.NewUSBBus(); ok {
		in.USB = fmt.Sprintf("available (libusb through gousb); %d Apple device(s) on USB", onUSB)
	} else {
		in.USB = "unavailable (" + why + "); diagnosing from usbmuxd alone"
	}
	if st, err := service.LoginItemStatus(); err != nil {
		in.LoginItem = []string{"cannot be read: " + err.Error()}
	} else {
		for _, l := range nonEmptyLines(st.String()) {
			in.LoginItem = append(in.LoginItem, strings.Join(strings.Fields(strings.TrimPrefix(l, "Login item:")), " "))
		}
	}
	in.Notifications = notificationServer(ctx)
	in.LogWhere, in.LogTail = logTail(ctx)
	return in
}

// language is the language trustwatch speaks, where that choice came from
// (the flag, TRUSTWATCH_LANG, which locale variable, the OS), and the
// locale variables as set, which tell a helper more than the choice alone.
func language() string {
	line := languageLine()
	var vars []string
	for _, k := range []string{"LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG", "TRUSTWATCH_LANG"} {
		if v := os.Getenv(k); v != "" {
			vars = append(vars, k+"="+v)
		}
	}
	if len(vars) > 0 {
		line += "; " + strings.Join(vars, " ")
	}
	return line
}

func nonEmptyLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimRight(l, " "); strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

// logTail is the end of the tray's log: its file when it writes one, else
// the journal of its systemd user unit.
func logTail(ctx context.Context) (where string, lines []string) {
	path := service.LogLocation()
	if path != "" {
		if ls, err := tailFile(path, logTailLines); err == nil && len(ls) > 0 {
			return path, ls
		}
	}
	if runtime.GOOS == "linux" {
		if jc, err := exec.LookPath("journalctl"); err == nil {
			cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			defer cancel()
			out, err := exec.CommandContext(cctx, jc, "--user", "-u", "trustwatch", "-n", fmt.Sprint(logTailLines), "--no-pager", "-q", "-o", "short-iso").Output()
			if err == nil && len(bytes.TrimSpace(out)) > 0 {
				return "journalctl --user -u trustwatch", nonEmptyLines(string(out))
			}
		}
	}
	if path == "" {
		return "no log found", nil
	}
	return path + " (empty or missing; under systemd the log is in the journal)", nil
}

// tailFile reads the last n lines of path, looking at its last 64 KiB at most.
func tailFile(path string, n int) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	const window = 64 << 10
	if fi, err := f.Stat(); err == nil && fi.Size() > window {
		if _, err := f.Seek(fi.Size()-window, io.SeekStart); err != nil {
			return nil, err
		}
	}
	var lines []string
	sc := bufio.NewScanner(io.LimitReader(f, window))
	sc.Buffer(make([]byte, 0, 4096), window)
	for sc.Scan() {
		l := sc.Text()
		if len(l) > 400 {
			l = l[:400] + "…"
		}
		lines = append(lines, l)
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines, nil
}
