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

// MuxText is usbmuxd's state (Apple Mobile Device Service on Windows) in
// plain words, with the next step.
type MuxText struct {
	Headline string // "usbmuxd is not installed"
	Advice   string // the next step; "" when there is nothing to do
	Anchor   string // the guide section that explains it; "" for none
	// Problem: something to fix before an iPhone can work. False when all
	// is well or the state is normal (usbmuxd idle while no phone is
	// plugged in) or passing (busy, starting): no alarm for those.
	Problem bool
	// Device is the summary for a phone on USB that the service leaves
	// unreachable (the service-unavailable state); "" when unknown.
	Device string
}

// Line is the headline and the advice as one text, for status and scripts.
func (m MuxText) Line() string {
	if m.Advice == "" {
		return m.Headline
	}
	return m.Headline + ". " + m.Advice
}

// ServiceName is what people know usbmuxd as on goos.
func ServiceName(goos string) string {
	if goos == "windows" {
		return "Apple Mobile Device Service"
	}
	return "usbmuxd"
}

// DescribeMux says what u means for the person at the computer. phoneOnUSB
// tells whether an Apple device is plugged in: usbmuxd not running is the
// normal state on Linux without one (udev starts it on plug-in), and a
// problem with one.
func DescribeMux(u Usbmux, env MuxEnv, phoneOnUSB bool) MuxText {
	goos := env.GOOS
	if goos == "" {
		goos = "linux"
	}
	svc := ServiceName(goos)
	restart := map[string]string{
		"linux":   "Restart it: sudo systemctl restart usbmuxd",
		"darwin":  "Restart the Mac if it does not come back by itself within a minute",
		"windows": "Restart Apple Mobile Device Service in Services (services.msc; needs an administrator)",
	}[goos]
	if restart == "" {
		restart = "Restart usbmuxd"
	}
	var t MuxText
	// clause completes "The iPhone is on USB, but …".
	var clause string
	switch u.State {
	case MuxRunning:
		return MuxText{Headline: svc + " is running"}
	case MuxUnknown:
		if u.Reachable {
			return MuxText{Headline: svc + " is running"}
		}
		if u.Error == "" {
			return MuxText{Headline: "Checking " + svc + "…"}
		}
		// A failure nobody classified: say what is sure.
		clause = svc + " cannot be reached"
		t = MuxText{Headline: clause, Advice: restart, Anchor: "issue-drivers", Problem: true}
	case MuxNotInstalled:
		clause = svc + " is not installed"
		t = MuxText{Headline: clause, Anchor: "issue-drivers", Problem: true}
		switch {
		case goos == "windows":
			t.Advice = "Install Apple Devices from the Microsoft Store, or iTunes; either brings it"
		case goos == "darwin":
			t.Advice = "It is part of macOS; restart the Mac"
		case env.Install != "":
			t.Advice = "Install it with: " + env.Install
		default:
			t.Advice = "Install the usbmuxd package with your distribution's package manager"
		}
	case MuxNotRunning:
		clause = svc + " is not running"
		start := map[string]string{
			"linux":   "Start it: sudo systemctl start usbmuxd (or unplug the iPhone and plug it in again)",
			"darwin":  "macOS starts it by itself; if it stays away, restart the Mac",
			"windows": "Start Apple Mobile Device Service in Services (services.msc), or reinstall Apple Devices or iTunes",
		}[goos]
		if start == "" {
			start = "Start usbmuxd"
		}
		switch {
		case phoneOnUSB:
			t = MuxText{Headline: clause, Advice: start, Anchor: "issue-drivers", Problem: true}
		case goos == "linux" && env.USBVisible:
			// The everyday case on Linux: no alarm.
			t = MuxText{Headline: clause + ", as usual while no iPhone is plugged in", Advice: "It starts by itself when one is"}
		case goos == "linux":
			t = MuxText{Headline: clause, Advice: "That is normal while no iPhone is plugged in: it starts by itself when one is. If one is plugged in: " + lowerFirst(start), Anchor: "issue-drivers"}
		default:
			t = MuxText{Headline: clause, Advice: start, Anchor: "issue-drivers"}
		}
	case MuxDisabled:
		clause = svc + " is disabled"
		t = MuxText{Headline: clause, Advice: "Open Services (services.msc), set Apple Mobile Device Service to Automatic and start it (needs an administrator)", Anchor: "issue-drivers", Problem: true}
	case MuxStarting:
		clause = svc + " is still starting"
		t = MuxText{Headline: clause, Advice: "Wait a few seconds; trustwatch checks again by itself", Anchor: "issue-drivers"}
	case MuxAppNotRunning:
		// The Microsoft Store's Apple Devices (or iTunes) runs its device
		// service as a process of the app, not as a Windows service.
		clause = "Apple Devices is installed, but its device service is not running"
		t = MuxText{Headline: clause, Advice: "Open Apple Devices from the Start menu once; that starts it", Anchor: "issue-drivers", Problem: true}
	case MuxPermissionDenied:
		clause = svc + " refuses this user (permission denied)"
		t = MuxText{Headline: clause, Anchor: "issue-permissions", Problem: true}
		switch goos {
		case "windows":
			t.Advice = "Security software or a firewall blocks " + u.Address + " for this user; allow trustwatch there"
		case "darwin":
			t.Advice = "Sandboxed apps and restricted accounts may not reach usbmuxd; run trustwatch as your own user, outside a sandbox"
		default:
			sock := socketPath(u.Address)
			t.Advice = "Its socket " + sock + " must be readable and writable by every user, as usbmuxd makes it (srw-rw-rw-); check with: ls -l " + sock + "; then " + lowerFirst(restart)
		}
	case MuxUnreadable:
		clause = svc + " answered something trustwatch cannot read"
		t = MuxText{Headline: clause, Anchor: "issue-drivers", Problem: true}
		if goos == "windows" {
			t.Advice = "Another program may be listening at " + u.Address + ". " + restart + ", or reinstall Apple Devices or iTunes"
		} else {
			t.Advice = "Another program may be listening at " + socketPath(u.Address) + " (check USBMUXD_SOCKET_ADDRESS if you set it), or usbmuxd is damaged. " + restart
		}
	case MuxNotResponding:
		clause = svc + " does not answer"
		t = MuxText{Headline: clause, Advice: "It took the connection but sent nothing back in time; it may be stuck. " + restart, Anchor: "issue-drivers", Problem: true}
	case MuxBusy:
		clause = svc + " is busy"
		t = MuxText{Headline: clause, Advice: "Too many programs are talking to it at once; trustwatch tries again by itself. If it lasts, close other iPhone tools. " + restart, Anchor: "issue-drivers"}
	default:
		clause = svc + " cannot be reached (" + string(u.State) + ")"
		t = MuxText{Headline: clause, Advice: restart, Anchor: "issue-drivers", Problem: true}
	}
	// With a phone on USB the advice is the one for a phone, also when
	// the headline was written for the calm no-phone case.
	forPhone := t.Advice
	if u.State == MuxNotRunning && !phoneOnUSB {
		forPhone = DescribeMux(u, env, true).Advice
	}
	t.Device = "The iPhone is on USB, but " + clause + "."
	if forPhone != "" {
		t.Device += " " + forPhone
	}
	t.Headline = upperFirst(t.Headline)
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

func lowerFirst(s string) string {
	if s == "" || strings.HasPrefix(s, "Apple") || strings.HasPrefix(s, "Services") {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// upperFirst capitalises a sentence; "usbmuxd" stays as it is spelled.
func upperFirst(s string) string {
	if s == "" || strings.HasPrefix(s, "usbmuxd") {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
