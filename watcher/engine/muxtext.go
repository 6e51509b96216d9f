package engine

import "strings"

// MuxEnv is what the words for usbmuxd's state depend on besides the state
// itself. The shell detects it once (watcher.DetectMuxEnv reads
// /etc/os-release); the engine only reads it.
type MuxEnv struct {
	GOOS string // "linux", "darwin", "windows"; "" counts as linux
	// Install is the command that installs usbmuxd on this Linux
	// distribution ("sudo apt install usbmuxd"); "" when unknown.
	Install string
	// USBVisible: a USB layer reports Apple devices, so "no device" means
	// none is plugged in (without one, trustwatch cannot tell).
	USBVisible bool
}

// MuxText is usbmuxd's state (Apple Mobile Device Service on Windows) as
// advice: what is the matter, and the next step. All three advices share
// one set of Args.
type MuxText struct {
	Headline Advice // "usbmuxd is not installed"
	Next     Advice // the next step; zero when there is nothing to do
	Anchor   string // the guide section that explains it; "" for none
	// Problem: something to fix before an iPhone can work. False when all
	// is well or the state is normal (usbmuxd idle while no phone is
	// plugged in) or passing (busy, starting): no alarm for those.
	Problem bool
	// Device is the summary for a phone on USB that the service leaves
	// unreachable (the service-unavailable state); zero when unknown.
	Device Advice
}

// ServiceName is what people know usbmuxd as on goos.
func ServiceName(goos string) string {
	if goos == "windows" {
		return "Apple Mobile Device Service"
	}
	return "usbmuxd"
}

// The commands, paths and names the advice about usbmuxd quotes: the same
// in every language, so never inside a translated text.
const (
	startCommand   = "sudo systemctl start usbmuxd"
	restartCommand = "sudo systemctl restart usbmuxd"
	servicesMsc    = "services.msc"
	socketMode     = "srw-rw-rw-" // as usbmuxd makes its socket, for every user
	socketVariable = "USBMUXD_SOCKET_ADDRESS"
)

// DescribeMux says what u means for the person at the computer, as
// message ids and their arguments (internal/say has the words). phoneOnUSB
// tells whether an Apple device is plugged in: usbmuxd not running is the
// normal state on Linux without one (udev starts it on plug-in), and a
// problem with one.
func DescribeMux(u Usbmux, env MuxEnv, phoneOnUSB bool) MuxText {
	goos := env.GOOS
	if goos == "" {
		goos = "linux"
	}
	a := Args{Service: ServiceName(goos), App: AppleDevicesApp}
	restart := "mux.restart.other"
	switch goos {
	case "linux":
		restart, a.Restart = "mux.restart.linux", restartCommand
	case "darwin":
		restart = "mux.restart.darwin"
	case "windows":
		restart, a.Console = "mux.restart.windows", servicesMsc
	}
	start := map[string]string{"linux": "mux.start.linux", "darwin": "mux.start.darwin", "windows": "mux.start.windows"}[goos]
	if start == "" {
		start = "mux.start.other"
	}
	// clause completes "The iPhone is on USB, but …" and is the headline
	// too, unless the headline says more.
	var clause, headline, next string
	var t MuxText
	switch u.State {
	case MuxRunning:
		return MuxText{Headline: Advice{ID: "mux.running", Args: a}}
	case MuxUnknown:
		if u.Reachable {
			return MuxText{Headline: Advice{ID: "mux.running", Args: a}}
		}
		if u.Error == "" {
			return MuxText{Headline: Advice{ID: "mux.checking", Args: a}}
		}
		// A failure nobody classified: say what is sure.
		clause, next = "mux.unreachable", restart
		t = MuxText{Anchor: "issue-drivers", Problem: true}
	case MuxNotInstalled:
		clause = "mux.not-installed"
		t = MuxText{Anchor: "issue-drivers", Problem: true}
		switch {
		case goos == "windows":
			next = "mux.install.windows"
		case goos == "darwin":
			next = "mux.install.darwin"
		case env.Install != "":
			next, a.Command = "mux.install.command", env.Install
		default:
			next = "mux.install.package"
		}
	case MuxNotRunning:
		clause, next = "mux.not-running", start
		if goos == "linux" {
			a.Command = startCommand
		}
		switch {
		case phoneOnUSB:
			t = MuxText{Anchor: "issue-drivers", Problem: true}
		case goos == "linux" && env.USBVisible:
			// The everyday case on Linux: no alarm.
			headline, next = "mux.not-running.idle", "mux.idle.starts-by-itself"
		case goos == "linux":
			next = "mux.idle.unsure"
			t = MuxText{Anchor: "issue-drivers"}
		default:
			t = MuxText{Anchor: "issue-drivers"}
		}
	case MuxDisabled:
		clause, next, a.Console = "mux.disabled", "mux.disabled.enable", servicesMsc
		t = MuxText{Anchor: "issue-drivers", Problem: true}
	case MuxStarting:
		clause, next = "mux.starting", "mux.starting.wait"
		t = MuxText{Anchor: "issue-drivers"}
	case MuxAppNotRunning:
		// The Microsoft Store's Apple Devices (or iTunes) runs its device
		// service as a process of the app, not as a Windows service.
		clause, next = "mux.app-not-running", "mux.app-not-running.open"
		t = MuxText{Anchor: "issue-drivers", Problem: true}
	case MuxPermissionDenied:
		clause = "mux.permission-denied"
		t = MuxText{Anchor: "issue-permissions", Problem: true}
		switch goos {
		case "windows":
			next, a.Path = "mux.permission-denied.windows", u.Address
		case "darwin":
			next = "mux.permission-denied.darwin"
		default:
			sock := socketPath(u.Address)
			next = "mux.permission-denied.socket"
			if goos != "linux" {
				next = "mux.permission-denied.socket-other"
			}
			a.Path, a.Mode, a.Command = sock, socketMode, "ls -l "+sock
		}
	case MuxUnreadable:
		clause = "mux.unreadable"
		t = MuxText{Anchor: "issue-drivers", Problem: true}
		if goos == "windows" {
			next, a.Path = "mux.unreadable.windows", u.Address
		} else {
			next, a.Path, a.Variable, a.Then = "mux.unreadable.socket", socketPath(u.Address), socketVariable, restart
		}
	case MuxNotResponding:
		clause, next, a.Then = "mux.not-responding", "mux.not-responding.next", restart
		t = MuxText{Anchor: "issue-drivers", Problem: true}
	case MuxBusy:
		clause, next, a.Then = "mux.busy", "mux.busy.next", restart
		t = MuxText{Anchor: "issue-drivers"}
	default:
		clause, next, a.State = "mux.unknown-state", restart, string(u.State)
		t = MuxText{Anchor: "issue-drivers", Problem: true}
	}
	// With a phone on USB the advice is the one for a phone, also when
	// the headline was written for the calm no-phone case.
	forPhone := next
	if u.State == MuxNotRunning && !phoneOnUSB {
		forPhone = start
	}
	if headline == "" {
		headline = clause
	}
	a.Clause, a.Next = clause, forPhone
	t.Device = Advice{ID: "mux.device", Args: a}
	a.Clause, a.Next = "", ""
	t.Headline = Advice{ID: headline, Args: a}
	if next != "" {
		t.Next = Advice{ID: next, Args: a}
	}
	return t
}

// socketPath shows a unix:// address as the path people type.
func socketPath(addr string) string {
	for _, p := range []string{"unix://", "UNIX://"} {
		if strings.HasPrefix(addr, p) {
			return strings.TrimPrefix(addr, p)
		}
	}
	if addr == "" {
		return "/var/run/usbmuxd"
	}
	return addr
}
