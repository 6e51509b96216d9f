package watcher

import (
	"bufio"
	"os"
	"os/exec"
	"runtime"
	"strings"

	"github.com/trustwatch/trustwatch/watcher/engine"
)

// DetectMuxEnv reads what the words for usbmuxd's state depend on: the OS
// and, on Linux, the command that installs usbmuxd on this distribution.
// usbVisible tells whether a USB layer reports Apple devices.
func DetectMuxEnv(usbVisible bool) engine.MuxEnv {
	env := engine.MuxEnv{GOOS: runtime.GOOS, USBVisible: usbVisible}
	if runtime.GOOS == "linux" {
		b, _ := os.ReadFile("/etc/os-release")
		if len(b) == 0 {
			b, _ = os.ReadFile("/usr/lib/os-release")
		}
		env.Install = InstallCommand(string(b), func(tool string) bool {
			_, err := exec.LookPath(tool)
			return err == nil
		})
	}
	return env
}

// packageManagers maps os-release IDs to the command that installs usbmuxd.
var packageManagers = []struct {
	ids     []string
	tool    string
	command string
}{
	{[]string{"debian", "ubuntu", "linuxmint", "pop", "raspbian", "elementary", "kali"}, "apt", "sudo apt install usbmuxd"},
	{[]string{"fedora", "rhel", "centos", "rocky", "almalinux", "nobara"}, "dnf", "sudo dnf install usbmuxd"},
	{[]string{"arch", "manjaro", "endeavouros", "garuda"}, "pacman", "sudo pacman -S usbmuxd"},
	{[]string{"opensuse", "suse", "sles", "opensuse-leap", "opensuse-tumbleweed"}, "zypper", "sudo zypper install usbmuxd"},
}

// InstallCommand picks the install command from an os-release file's text
// (ID first, then ID_LIKE), falling back to whichever package manager is
// installed (have reports a tool on PATH). "" when none fits.
func InstallCommand(osRelease string, have func(string) bool) string {
	fields := parseOSRelease(osRelease)
	ids := append([]string{fields["ID"]}, strings.Fields(fields["ID_LIKE"])...)
	for _, id := range ids {
		for _, pm := range packageManagers {
			for _, known := range pm.ids {
				if id != "" && (id == known || strings.HasPrefix(id, known+"-")) {
					return pm.command
				}
			}
		}
	}
	if have != nil {
		for _, pm := range packageManagers {
			if have(pm.tool) {
				return pm.command
			}
		}
	}
	return ""
}

// parseOSRelease reads KEY=value lines (values may be quoted).
func parseOSRelease(text string) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		v = strings.Trim(v, `"'`)
		out[k] = strings.ToLower(v)
	}
	return out
}

// OSName is the distribution's PRETTY_NAME on Linux ("" elsewhere or when unknown).
func OSName() string {
	if runtime.GOOS != "linux" {
		return ""
	}
	b, _ := os.ReadFile("/etc/os-release")
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "PRETTY_NAME="); ok {
			return strings.Trim(v, `"'`)
		}
	}
	return ""
}
