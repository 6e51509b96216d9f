package say

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/trustwatch/trustwatch/internal/catalog"
	"github.com/trustwatch/trustwatch/internal/catalog/catalogtest"
	"github.com/trustwatch/trustwatch/watcher/engine"
	"github.com/trustwatch/trustwatch/watcher/usb"
)

var debian = engine.MuxEnv{GOOS: "linux", Install: "sudo apt install usbmuxd", USBVisible: true}

// Every usbmuxd state in English words, on each OS, with and without a
// phone on USB: the headline, the next step, and the summary of a phone
// the service leaves unreachable. These are the words `status`, the JSON's
// usbmux "advice" and the docs have always said.
func TestDescribeMuxInEnglish(t *testing.T) {
	addr := "unix:///var/run/usbmuxd"
	cases := []struct {
		name     string
		state    engine.MuxState
		env      engine.MuxEnv
		phone    bool
		headline string
		advice   string // a fragment
	}{
		{"running", engine.MuxRunning, debian, false, "usbmuxd is running", ""},
		{"not installed, debian", engine.MuxNotInstalled, debian, false, "usbmuxd is not installed", "Install it with: sudo apt install usbmuxd"},
		{"not installed, fedora", engine.MuxNotInstalled, engine.MuxEnv{GOOS: "linux", Install: "sudo dnf install usbmuxd"}, true, "usbmuxd is not installed", "sudo dnf install usbmuxd"},
		{"not installed, unknown distribution", engine.MuxNotInstalled, engine.MuxEnv{GOOS: "linux"}, false, "usbmuxd is not installed", "Install the usbmuxd package with your distribution's package manager"},
		{"not installed, windows", engine.MuxNotInstalled, engine.MuxEnv{GOOS: "windows"}, false, "Apple Mobile Device Service is not installed", "Install Apple Devices from the Microsoft Store, or iTunes"},
		{"not running, no phone: no alarm", engine.MuxNotRunning, debian, false, "usbmuxd is not running, as usual while no iPhone is plugged in", "It starts by itself when one is"},
		{"not running, no USB layer: no alarm", engine.MuxNotRunning, engine.MuxEnv{GOOS: "linux"}, false, "usbmuxd is not running", "That is normal while no iPhone is plugged in: it starts by itself when one is. If one is plugged in: start it: sudo systemctl start usbmuxd (or unplug the iPhone and plug it in again)"},
		{"not running, phone on USB", engine.MuxNotRunning, debian, true, "usbmuxd is not running", "Start it: sudo systemctl start usbmuxd (or unplug the iPhone and plug it in again)"},
		{"not running, mac, phone", engine.MuxNotRunning, engine.MuxEnv{GOOS: "darwin"}, true, "usbmuxd is not running", "restart the Mac"},
		{"not running, windows, phone", engine.MuxNotRunning, engine.MuxEnv{GOOS: "windows"}, true, "Apple Mobile Device Service is not running", "Start Apple Mobile Device Service in Services (services.msc), or reinstall Apple Devices or iTunes"},
		{"disabled", engine.MuxDisabled, engine.MuxEnv{GOOS: "windows"}, true, "Apple Mobile Device Service is disabled", "Open Services (services.msc), set Apple Mobile Device Service to Automatic and start it (needs an administrator)"},
		{"starting", engine.MuxStarting, engine.MuxEnv{GOOS: "windows"}, true, "Apple Mobile Device Service is still starting", "Wait a few seconds"},
		{"Store app not running", engine.MuxAppNotRunning, engine.MuxEnv{GOOS: "windows"}, true, "Apple Devices is installed, but its device service is not running", "Open Apple Devices from the Start menu"},
		{"permission denied", engine.MuxPermissionDenied, debian, false, "usbmuxd refuses this user (permission denied)", "Its socket /var/run/usbmuxd must be readable and writable by every user, as usbmuxd makes it (srw-rw-rw-); check with: ls -l /var/run/usbmuxd; then restart it: sudo systemctl restart usbmuxd"},
		{"permission denied, mac", engine.MuxPermissionDenied, engine.MuxEnv{GOOS: "darwin"}, false, "usbmuxd refuses this user (permission denied)", "sandbox"},
		{"unreadable", engine.MuxUnreadable, debian, false, "usbmuxd answered something trustwatch cannot read", "Another program may be listening at /var/run/usbmuxd (check USBMUXD_SOCKET_ADDRESS if you set it), or usbmuxd is damaged. Restart it: sudo systemctl restart usbmuxd"},
		{"unreadable, windows", engine.MuxUnreadable, engine.MuxEnv{GOOS: "windows"}, false, "Apple Mobile Device Service answered something trustwatch cannot read", "Another program may be listening at " + addr + ". Restart Apple Mobile Device Service in Services (services.msc; needs an administrator), or reinstall Apple Devices or iTunes"},
		{"not responding", engine.MuxNotResponding, debian, false, "usbmuxd does not answer", "It took the connection but sent nothing back in time; it may be stuck. Restart it: sudo systemctl restart usbmuxd"},
		{"busy", engine.MuxBusy, debian, true, "usbmuxd is busy", "tries again by itself"},
		{"a state nobody named", "weird", engine.MuxEnv{GOOS: "freebsd"}, true, "usbmuxd cannot be reached (weird)", "Restart usbmuxd"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := engine.DescribeMux(engine.Usbmux{Address: addr, State: c.state}, c.env, c.phone)
			h, next, dev := MuxHeadline(English, m), MuxNext(English, m), Advice(English, m.Device)
			if h != c.headline || !strings.Contains(next, c.advice) {
				t.Fatalf("headline %q, next %q", h, next)
			}
			if want := h + ". " + next; next != "" && MuxLine(English, m) != want {
				t.Errorf("line %q, want %q", MuxLine(English, m), want)
			}
			if c.state != engine.MuxRunning {
				if !strings.HasPrefix(dev, "The iPhone is on USB, but ") || strings.Contains(dev, "no iPhone") {
					t.Errorf("device summary %q", dev)
				}
			}
			for _, s := range []string{h, next, dev} {
				if strings.Contains(s, "..") || strings.Contains(s, "  ") || strings.Contains(s, "<no value>") {
					t.Errorf("sloppy text %q", s)
				}
			}
		})
	}
	m := engine.DescribeMux(engine.Usbmux{Address: addr, State: engine.MuxNotRunning}, debian, true)
	if got, want := Advice(English, m.Device), "The iPhone is on USB, but usbmuxd is not running. Start it: sudo systemctl start usbmuxd (or unplug the iPhone and plug it in again)"; got != want {
		t.Errorf("device summary %q, want %q", got, want)
	}
}

// envs are the systems usbmuxd's words differ on.
var envs = []engine.MuxEnv{debian, {GOOS: "linux"}, {GOOS: "darwin"}, {GOOS: "windows"}, {GOOS: "freebsd"}}

// Every usbmuxd state on every system, with and without a phone, in every
// language: not empty, no message id or template left, and in a language
// other than English no English word (the names and commands in the
// placeholders aside) and not the English text.
func TestDescribeMuxInEveryLanguage(t *testing.T) {
	states := append([]engine.MuxState{engine.MuxUnknown, "weird"}, engine.AllMuxStates...)
	checked := 0
	for _, tag := range catalog.Languages() {
		w := catalog.In(tag)
		for _, env := range envs {
			for _, st := range states {
				for _, phone := range []bool{false, true} {
					for _, errText := range []string{"", "refused"} {
						u := engine.Usbmux{Address: "unix:///var/run/usbmuxd", State: st, Error: errText}
						if env.GOOS == "windows" {
							u.Address = "127.0.0.1:27015"
						}
						m := engine.DescribeMux(u, env, phone)
						texts := map[string]string{"headline": MuxHeadline(w, m), "next": MuxNext(w, m), "line": MuxLine(w, m), "device": Advice(w, m.Device)}
						if m.Headline.IsZero() {
							t.Errorf("%s %+v %q: no headline", tag, env, st)
						}
						for kind, text := range texts {
							if (kind == "next" && m.Next.IsZero()) || (kind == "device" && m.Device.IsZero()) {
								if text != "" {
									t.Errorf("%s %s: %q from no advice", tag, kind, text)
								}
								continue
							}
							checked++
							checkWords(t, tag, string(st)+" "+env.GOOS+" "+kind, text, Advice(English, adviceOf(m, kind)), m.Headline.Args)
						}
					}
				}
			}
		}
	}
	if checked < 500 {
		t.Fatalf("only %d texts checked", checked)
	}
}

func adviceOf(m engine.MuxText, kind string) engine.Advice {
	switch kind {
	case "next":
		return m.Next
	case "device":
		return m.Device
	}
	return m.Headline
}

// checkWords fails on an empty text, a message id or template left in it,
// and, outside English, English: the English text itself, or a Latin word
// that is neither an allowed name nor one of the placeholder values.
func checkWords(t *testing.T, tag, what, text, english string, a engine.Args) {
	t.Helper()
	switch {
	case strings.TrimSpace(text) == "":
		t.Errorf("%s %s: empty", tag, what)
	case strings.Contains(text, "mux.") || strings.Contains(text, "usb.") || strings.Contains(text, "state.") ||
		strings.Contains(text, "{{") || strings.Contains(text, "<no value>"):
		t.Errorf("%s %s: id or template left in %q", tag, what, text)
	}
	if tag == "en" {
		return
	}
	if english != "" && text == english {
		t.Errorf("%s %s: untranslated %q", tag, what, text)
	}
	var allowed []string
	for _, v := range []string{a.Service, a.Command, a.Restart, a.Path, a.Mode, a.Variable, a.Console, a.App, a.State} {
		allowed = append(allowed, latinWords(v)...)
	}
	if ws := catalogtest.StrayLatin(text, allowed...); len(ws) > 0 {
		t.Errorf("%s %s: Latin words %q in %q", tag, what, ws, text)
	}
}

// latinWords are the Latin words of a placeholder value that are not
// allowed names anyway ("sudo", "systemctl" in a command).
func latinWords(v string) []string { return catalogtest.StrayLatin(v) }

// Every Windows driver problem, in every language: English as it always
// was, others translated, with the problem code in the text.
func TestDriverProblemsInEveryLanguage(t *testing.T) {
	english := map[int]string{
		28: "The iPhone is on USB, but Windows has no driver for it (Device Manager problem code 28). Install Apple Devices from the Microsoft Store (or iTunes), then unplug the iPhone and plug it in again.",
		22: "The iPhone is on USB, but it is disabled in Device Manager (problem code 22). Enable it in Device Manager (Portable Devices or Universal Serial Bus devices).",
		10: "The iPhone is on USB, but its driver could not start (Device Manager problem code 10). Install Apple Devices from the Microsoft Store (or iTunes), then unplug the iPhone and plug it in again.",
		43: "The iPhone is on USB, but Windows stopped it after it reported a problem (Device Manager problem code 43). Unplug it, restart the computer and plug it in again; if it stays, try another cable.",
	}
	codes := 0
	for code := 0; code < 64; code++ {
		problem, next := usb.Device{Problem: code}.DriverProblem()
		if problem == "" {
			continue
		}
		codes++
		a := engine.Advice{ID: "usb.problem", Args: engine.Args{Code: code, App: engine.AppleDevicesApp, Clause: problem, Next: next}}
		if want, ok := english[code]; ok && Advice(English, a) != want {
			t.Errorf("code %d: %q, want %q", code, Advice(English, a), want)
		}
		for _, tag := range catalog.Languages() {
			text := Advice(catalog.In(tag), a)
			checkWords(t, tag, "driver problem "+problem, text, Advice(English, a), a.Args)
			if !regexp.MustCompile(`\D` + strconv.Itoa(code) + `\D`).MatchString(text) {
				t.Errorf("%s code %d: the code is not in %q", tag, code, text)
			}
		}
	}
	if codes != 9 {
		t.Errorf("%d driver problems, want 9", codes)
	}
}
