package service

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// nastyDir is a folder name with everything the .desktop quoting must
// survive: spaces, %, $, both quotes, a backslash and braces. systemd refuses
// quotes and backslashes in an executable path outright, so unit tests use
// unitDir's subset.
const (
	nastyDir = `trust watch 100% $HOME 'q' "dq" a\b {x}`
	unitSafe = `trust watch 100% $HOME {x}`
)

// fakeTray writes an executable that plays the tray (the test binary as
// TW_SERVICE_HELPER=tray) with vars exported, in a folder named nastyDir.
func fakeTray(t *testing.T, root string, vars []string) string {
	return fakeTrayIn(t, root, nastyDir, vars)
}

func fakeTrayIn(t *testing.T, root, name string, vars []string) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "opt", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("#!/bin/sh\n")
	for _, v := range append([]string{"TW_SERVICE_HELPER=tray"}, vars...) {
		k, val, _ := strings.Cut(v, "=")
		b.WriteString("export " + k + "=" + shQuote(val) + "\n")
	}
	b.WriteString("exec " + shQuote(self) + " \"$@\"\n")
	exe := filepath.Join(dir, "trustwatch")
	if err := os.WriteFile(exe, []byte(b.String()), 0o755); err != nil {
		t.Fatal(err)
	}
	return exe
}

func shQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// leftovers lists files and symlinks under dir (empty folders do not count).
func leftovers(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			out = append(out, p)
		}
		return nil
	})
	return out
}

func runVerb(t *testing.T, e *env, verb string, json bool) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := e.main(verb, false, json, &out, &errb)
	return out.String(), errb.String(), code
}

// XDG autostart (no systemd user manager): install, validate, re-install,
// user switch-off, start, stop, uninstall; nothing is left behind.
func TestAutostartRoundTrip(t *testing.T) {
	validate := needTool(t, "desktop-file-validate")
	e, vars := testEnv(t)
	exe := fakeTray(t, filepath.Dir(e.home), vars)
	e.exe = func() (string, error) { return exe, nil }

	out, errs, code := runVerb(t, e, "install", false)
	if code != 0 {
		t.Fatalf("install: %d %s %s", code, out, errs)
	}
	path := filepath.Join(e.configHome, "autostart", "trustwatch.desktop")
	if !strings.Contains(out, path) {
		t.Errorf("install output %q does not name %s", out, path)
	}
	if vout, err := exec.Command(validate, path).CombinedOutput(); err != nil || len(bytes.TrimSpace(vout)) > 0 {
		b, _ := os.ReadFile(path)
		t.Fatalf("desktop-file-validate: %v\n%s\n--- file:\n%s", err, vout, b)
	}
	b, _ := os.ReadFile(path)
	kv := desktopGroup(string(b))
	if args := desktopExecUnquote(desktopUnescape(kv["Exec"])); len(args) != 1 || args[0] != exe {
		t.Fatalf("Exec %q parses to %q, want [%q]", kv["Exec"], args, exe)
	}
	if got := desktopUnescape(kv["TryExec"]); got != exe {
		t.Errorf("TryExec = %q, want %q", got, exe)
	}

	st, err := e.status()
	if err != nil || !st.Installed || !st.Enabled || st.Stale || st.Mechanism != MechAutostart || st.Running || st.Command != exe {
		t.Fatalf("status after install = %+v, %v", st, err)
	}
	if out, _, _ := runVerb(t, e, "install", false); !strings.Contains(out, "already installed") {
		t.Errorf("second install: %q, want already installed", out)
	}

	// The user switched it off in their desktop's startup settings.
	if err := os.WriteFile(path, append(b, []byte("Hidden=true\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	if st, _ := e.status(); st.Enabled || !strings.Contains(st.Note, "Hidden=true") {
		t.Fatalf("status of a hidden entry = %+v", st)
	}
	if out, _, code := runVerb(t, e, "install", false); code != 0 || strings.Contains(out, "already") {
		t.Fatalf("install over a hidden entry: %d %q", code, out)
	}
	if st, _ := e.status(); !st.Enabled {
		t.Fatalf("install did not re-enable: %+v", st)
	}

	// start launches the tray (detached) and waits for its lock.
	out, errs, code = runVerb(t, e, "start", false)
	if code != 0 {
		t.Fatalf("start: %d %s %s", code, out, errs)
	}
	in, _ := e.probeLock()
	t.Cleanup(func() {
		if in, _ := e.probeLock(); in.running && in.pid > 0 {
			_ = forceKill(in.pid)
		}
	})
	if !in.running || in.pid <= 0 {
		t.Fatalf("after start: %+v (%s)", in, out)
	}
	if out, _, _ := runVerb(t, e, "start", false); !strings.Contains(out, "already running") {
		t.Errorf("second start: %q", out)
	}
	jout, _, _ := runVerb(t, e, "status", true)
	var js Status
	if err := json.Unmarshal([]byte(jout), &js); err != nil || !js.Running || !js.Installed {
		t.Fatalf("status --json = %s (%v)", jout, err)
	}
	out, errs, code = runVerb(t, e, "stop", false)
	if code != 0 || !strings.Contains(out, "stopped") {
		t.Fatalf("stop: %d %q %q", code, out, errs)
	}
	if in, _ := e.probeLock(); in.running {
		t.Fatal("tray still running after stop")
	}
	if out, _, code := runVerb(t, e, "stop", false); code != 0 || !strings.Contains(out, "not running") {
		t.Errorf("second stop: %d %q", code, out)
	}

	out, errs, code = runVerb(t, e, "uninstall", false)
	if code != 0 || !strings.Contains(out, "removed") {
		t.Fatalf("uninstall: %d %q %q", code, out, errs)
	}
	if out, _, code := runVerb(t, e, "uninstall", false); code != 0 || !strings.Contains(out, "not installed") {
		t.Errorf("second uninstall: %d %q", code, out)
	}
	if st, _ := e.status(); st.Installed {
		t.Fatalf("status after uninstall: %+v", st)
	}
	if left := leftovers(t, e.configHome); len(left) > 0 {
		t.Fatalf("left behind: %q", left)
	}
}

// offlineSystemctl is the command prefix for systemctl working on unit files
// only: plain systemctl when systemd is not running here, or (as root) one in
// a mount namespace where /run/systemd/system is hidden.
func offlineSystemctl(t *testing.T) []string {
	t.Helper()
	sc := needTool(t, "systemctl")
	if _, err := os.Stat("/run/systemd/system"); err != nil {
		return []string{sc}
	}
	if os.Geteuid() != 0 {
		t.Skip("SKIPPED LOUDLY: systemd runs here and hiding it needs root (unshare -m)")
	}
	return []string{needUnshare(t), "-m", "sh", "-c", `mount -t tmpfs tmpfs /run/systemd && exec systemctl "$@"`, "sh"}
}

// The unit passes systemd-analyze verify, and an offline enable wires it
// into default.target (not the user manager's non-existent multi-user.target).
func TestSystemdUnitVerifyAndEnable(t *testing.T) {
	analyze := needTool(t, "systemd-analyze")
	sc := offlineSystemctl(t)
	e, vars := testEnv(t)
	exe := fakeTrayIn(t, filepath.Dir(e.home), unitSafe, vars)
	if err := os.MkdirAll(e.unitDir(), 0o755); err != nil {
		t.Fatal(err)
	}
	unit := systemdUnitText(exe)
	if err := os.WriteFile(e.unitPath(), []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	verify := func(path string) ([]byte, error) {
		cmd := exec.Command(analyze, "verify", "--user", path)
		cmd.Env = append(os.Environ(), vars...)
		return cmd.CombinedOutput()
	}
	if out, err := verify(e.unitPath()); err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s\n--- unit:\n%s", err, out, unit)
	}
	// The check can fail: the same unit for a missing binary is rejected,
	// so ExecStart's quoting really did resolve to the nasty path above.
	bad := filepath.Join(filepath.Dir(e.home), "bad", unitName)
	_ = os.MkdirAll(filepath.Dir(bad), 0o755)
	_ = os.WriteFile(bad, []byte(systemdUnitText(exe+"-missing")), 0o644)
	if out, err := verify(bad); err == nil {
		t.Fatalf("verify accepted a unit for a missing binary:\n%s", out)
	}

	ctl := func(args ...string) (string, error) {
		full := append(append([]string{}, sc...), append([]string{"--user"}, args...)...)
		cmd := exec.Command(full[0], full[1:]...)
		cmd.Env = append(os.Environ(), vars...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := ctl("enable", unitName)
	if err != nil || strings.Contains(out, "non-existent") {
		t.Fatalf("systemctl --user enable: %v\n%s", err, out)
	}
	link := filepath.Join(e.unitDir(), "default.target.wants", unitName)
	if target, err := os.Readlink(link); err != nil || target != e.unitPath() {
		t.Fatalf("enable made %s -> %q (%v)", link, target, err)
	}
	link2 := filepath.Join(e.unitDir(), "graphical-session.target.wants", unitName)
	if target, err := os.Readlink(link2); err != nil || target != e.unitPath() {
		t.Fatalf("enable made %s -> %q (%v)", link2, target, err)
	}
	if out, _ := ctl("is-enabled", unitName); strings.TrimSpace(out) != "enabled" {
		t.Fatalf("is-enabled = %q", out)
	}
	for _, want := range []string{"WantedBy=default.target graphical-session.target", "Restart=on-failure", "PartOf=graphical-session.target", "After=graphical-session.target"} {
		if !strings.Contains(unit, want) {
			t.Errorf("unit lacks %q", want)
		}
	}
	if strings.Contains(unit, "multi-user.target") || strings.Contains(unit, "Restart=always") {
		t.Errorf("unit still has kardianos's defaults:\n%s", unit)
	}
}

// The real path through kardianos/service, in a helper process whose HOME is
// a temporary folder and whose systemctl is a recording wrapper around an
// offline systemctl (no user manager runs in CI): install renders our
// template exactly, enables it, is idempotent, and uninstall leaves nothing.
func TestSystemdKardianosRoundTrip(t *testing.T) {
	analyze := needTool(t, "systemd-analyze")
	sc := offlineSystemctl(t)
	e, vars := testEnv(t)
	root := filepath.Dir(e.home)
	exe := fakeTrayIn(t, root, unitSafe, vars)

	bin := filepath.Join(root, "bin")
	_ = os.MkdirAll(bin, 0o755)
	logf := filepath.Join(root, "systemctl.log")
	var real strings.Builder
	for _, a := range sc {
		real.WriteString(shQuote(a) + " ")
	}
	fake := "#!/bin/sh\n" +
		"echo \"$*\" >> " + shQuote(logf) + "\n" +
		"case \" $* \" in\n" +
		"  *\" daemon-reload \"*) exit 0 ;;\n" + // needs a running manager
		"  *\" is-active \"*) echo inactive; exit 3 ;;\n" +
		"esac\n" +
		"exec " + real.String() + "\"$@\"\n"
	if err := os.WriteFile(filepath.Join(bin, "systemctl"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	verb := func(v string, asJSON bool) (string, string, int) {
		t.Helper()
		extra := append(append([]string{}, vars...),
			"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
			"TW_TEST_EXE="+exe, "TW_TEST_SYSTEMD=1", "TW_TEST_VERB="+v)
		if asJSON {
			extra = append(extra, "TW_TEST_JSON=1")
		}
		cmd := helperCmd(t, "verb", extra...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		if err != nil {
			code = cmd.ProcessState.ExitCode()
		}
		return out.String(), errb.String(), code
	}

	out, errs, code := verb("install", false)
	if code != 0 || !strings.Contains(out, "installed systemd user unit") {
		calls, _ := os.ReadFile(logf)
		t.Fatalf("install: %d\n%s\n%s\nsystemctl calls:\n%s", code, out, errs, calls)
	}
	got, err := os.ReadFile(e.unitPath())
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != systemdUnitText(exe) {
		t.Fatalf("kardianos rendered:\n%s\nwant:\n%s", got, systemdUnitText(exe))
	}
	if _, err := os.Readlink(filepath.Join(e.unitDir(), "default.target.wants", unitName)); err != nil {
		t.Fatalf("not enabled: %v", err)
	}
	vcmd := exec.Command(analyze, "verify", "--user", e.unitPath())
	vcmd.Env = append(os.Environ(), vars...)
	if vout, err := vcmd.CombinedOutput(); err != nil || len(bytes.TrimSpace(vout)) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, vout)
	}
	calls, _ := os.ReadFile(logf)
	for _, want := range []string{"enable --user " + unitName, "daemon-reload --user"} {
		if !strings.Contains(string(calls), want) {
			t.Errorf("systemctl calls lack %q:\n%s", want, calls)
		}
	}

	jout, _, code := verb("status", true)
	var st Status
	if err := json.Unmarshal([]byte(jout), &st); err != nil || code != 0 {
		t.Fatalf("status --json: %d %q %v", code, jout, err)
	}
	if !st.Installed || !st.Enabled || st.Stale || st.Mechanism != MechSystemd || st.Location != e.unitPath() || st.Running {
		t.Fatalf("status = %+v", st)
	}
	if out, _, _ := verb("status", false); !strings.Contains(out, "systemd user unit") || !strings.Contains(out, "systemd: inactive") {
		t.Errorf("status text:\n%s", out)
	}
	if out, _, code := verb("install", false); code != 0 || !strings.Contains(out, "already installed") {
		t.Errorf("second install: %d %q", code, out)
	}

	out, errs, code = verb("uninstall", false)
	if code != 0 || !strings.Contains(out, "removed systemd user unit") {
		t.Fatalf("uninstall: %d %q %q", code, out, errs)
	}
	if left := leftovers(t, e.home); len(left) > 0 {
		t.Fatalf("left behind: %q", left)
	}
	if out, _, _ := verb("status", false); !strings.Contains(out, "not installed") {
		t.Errorf("status after uninstall:\n%s", out)
	}
}

// Where systemd is PID 1 but no user manager answers (containers, SSH-only
// sessions), kardianos writes the unit and then fails at `systemctl --user
// enable`, leaving the file behind. install must clean that up and fall back
// to XDG autostart. Simulated as root in a mount namespace with a
// /run/systemd/system, so the real systemctl believes systemd runs.
func TestSystemdUnreachableFallsBackToAutostart(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("SKIPPED LOUDLY: needs root for unshare -m (CI runs as root)")
	}
	unshare := needUnshare(t)
	needTool(t, "systemctl")
	e, vars := testEnv(t)
	exe := fakeTrayIn(t, filepath.Dir(e.home), unitSafe, vars)
	// Our own detection wants the manager's private socket; fake its presence.
	_ = os.MkdirAll(filepath.Join(e.runtimeDir, "systemd"), 0o700)
	_ = os.WriteFile(filepath.Join(e.runtimeDir, "systemd", "private"), nil, 0o600)

	self, _ := os.Executable()
	cmd := exec.Command(unshare, "-m", "sh", "-c",
		`mount -t tmpfs tmpfs /run/systemd && mkdir /run/systemd/system && exec "$0"`, self)
	cmd.Env = append(os.Environ(), vars...)
	cmd.Env = append(cmd.Env, "TW_SERVICE_HELPER=verb", "TW_TEST_VERB=install", "TW_TEST_EXE="+exe)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("install: %v\n%s\n%s", err, out.String(), errb.String())
		}
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("install hung")
	}
	if !strings.Contains(out.String(), "using XDG autostart instead") {
		t.Errorf("no fallback note in:\n%s", out.String())
	}
	if _, err := os.Stat(e.unitPath()); err == nil {
		t.Errorf("the half-installed unit %s was left behind", e.unitPath())
	}
	if _, err := os.Stat(e.autostartPath()); err != nil {
		t.Errorf("no autostart entry: %v", err)
	}
}

// needUnshare returns unshare if this process may make a private mount
// namespace and mount a tmpfs in it. A container without CAP_SYS_ADMIN may
// not; that is a property of the sandbox, not a missing package, so it skips
// (loudly) even under CI=true.
func needUnshare(t *testing.T) string {
	t.Helper()
	u := needTool(t, "unshare")
	if out, err := exec.Command(u, "-m", "sh", "-c", "mount -t tmpfs tmpfs /mnt").CombinedOutput(); err != nil {
		t.Skipf("SKIPPED LOUDLY: this sandbox does not allow a private mount namespace (%v: %s)", err, bytes.TrimSpace(out))
	}
	return u
}

func TestSystemdQuote(t *testing.T) {
	for in, want := range map[string]string{
		"/usr/bin/trustwatch":     `"/usr/bin/trustwatch"`,
		"/opt/a b/tw":             `"/opt/a b/tw"`,
		"/opt/100%/$HOME/x":       `"/opt/100%%/$HOME/x"`,
		"/opt/{{x}}/tw":           `"/opt/\x7b\x7bx\x7d\x7d/tw"`,
		"/opt/ünïcode/trustwatch": `"/opt/ünïcode/trustwatch"`,
	} {
		if got := systemdQuote(in); got != want {
			t.Errorf("systemdQuote(%q) = %s, want %s", in, got, want)
		}
	}
	// A path with {{ would open a template action: no Condition line then,
	// and ExecStart carries it escaped.
	s := systemdScript("/opt/{{Name}}/tw")
	if strings.Contains(s, "ConditionFileIsExecutable") || strings.Contains(s, "{{Name}}") {
		t.Errorf("template for a {{ path:\n%s", s)
	}
}

func TestSystemdExecOK(t *testing.T) {
	for in, want := range map[string]bool{
		"/usr/bin/trustwatch":         true,
		"/opt/trust watch 100% $X/tw": true,
		`/opt/a\b/tw`:                 false,
		`/opt/"q"/tw`:                 false,
		"/opt/'q'/tw":                 false,
		"/opt/tab\t/tw":               false,
	} {
		if got := systemdExecOK(in); got != want {
			t.Errorf("systemdExecOK(%q) = %v, want %v", in, got, want)
		}
	}
}

// A path systemd cannot start goes to XDG autostart even when a user
// manager is there (decided before kardianos is involved).
func TestUnitUnsafePathUsesAutostart(t *testing.T) {
	e, vars := testEnv(t)
	exe := fakeTray(t, filepath.Dir(e.home), vars)
	e.exe = func() (string, error) { return exe, nil }
	e.systemdUser = func() bool { return true }
	e.systemctl = "/nonexistent/systemctl"
	msg, err := e.install()
	if err != nil || !strings.Contains(msg, "using XDG autostart instead") {
		t.Fatalf("install: %q, %v", msg, err)
	}
	if _, err := os.Stat(e.autostartPath()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(e.unitPath()); err == nil {
		t.Fatal("a unit was written")
	}
}

// A tray that ignores SIGTERM is killed after the polite wait, and stop says
// it had to force it.
func TestStopForcesStubbornTray(t *testing.T) {
	e, vars := testEnv(t)
	exe := fakeTrayIn(t, filepath.Dir(e.home), "stubborn", append(vars, "TW_SERVICE_HELPER=stubborn-tray"))
	e.exe = func() (string, error) { return exe, nil }
	e.stopWait = 300 * time.Millisecond
	if out, errs, code := runVerb(t, e, "start", false); code != 0 {
		t.Fatalf("start: %d %q %q", code, out, errs)
	}
	t.Cleanup(func() {
		if in, _ := e.probeLock(); in.running && in.pid > 0 {
			_ = forceKill(in.pid)
		}
	})
	start := time.Now()
	out, errs, code := runVerb(t, e, "stop", false)
	if code != 0 || !strings.Contains(out, "forced") {
		t.Fatalf("stop: %d %q %q", code, out, errs)
	}
	if d := time.Since(start); d < e.stopWait {
		t.Errorf("forced after %s, before the polite wait of %s", d, e.stopWait)
	}
	if in, _ := e.probeLock(); in.running {
		t.Fatal("still running")
	}
}

// `service start --allow-root` as root hands --allow-root to the tray, which
// would otherwise refuse to run; without root it passes nothing.
func TestStartPassesAllowRootOnlyAsRoot(t *testing.T) {
	for _, tc := range []struct {
		euid int
		want string
	}{{0, "--allow-root"}, {1000, ""}} {
		e, vars := testEnv(t)
		argsFile := filepath.Join(filepath.Dir(e.home), "args")
		exe := fakeTrayIn(t, filepath.Dir(e.home), "tw", append(vars, "TW_TEST_ARGS_FILE="+argsFile))
		e.exe = func() (string, error) { return exe, nil }
		e.euid = func() int { return tc.euid }
		var out, errb bytes.Buffer
		if code := e.main("start", true, false, &out, &errb); code != 0 {
			t.Fatalf("start: %d %q %q", code, out.String(), errb.String())
		}
		b, _ := os.ReadFile(argsFile)
		if got := strings.TrimSpace(string(b)); got != tc.want {
			t.Errorf("euid %d: tray args %q, want %q", tc.euid, got, tc.want)
		}
		if _, err := e.stopInstance(); err != nil {
			t.Fatal(err)
		}
	}
}
