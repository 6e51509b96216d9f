package bench

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// Machine describes where the numbers were taken.
type Machine struct {
	NProc     int    `json:"nproc"`
	CPU       string `json:"cpu"`
	RAM       string `json:"ram"`
	Kernel    string `json:"kernel"`
	GoVersion string `json:"go_version"`
	OS        string `json:"os"`
	// USBBus says whether /dev/bus/usb exists: without it trustwatch's USB
	// layer has nothing to watch, and its cost is not in the figures.
	USBBus string `json:"usb_bus,omitempty"`
}

// DescribeMachine reads /proc (Linux); fields it cannot find stay "unknown".
func DescribeMachine() Machine {
	m := Machine{NProc: runtime.NumCPU(), CPU: "unknown", RAM: "unknown", Kernel: "unknown",
		GoVersion: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH}
	if out, err := exec.Command("nproc").Output(); err == nil {
		fmt.Sscan(strings.TrimSpace(string(out)), &m.NProc)
	}
	if v := firstField("/proc/cpuinfo", "model name"); v != "" {
		m.CPU = v
	}
	if v := firstField("/proc/meminfo", "MemTotal"); v != "" {
		var kb int64
		if _, err := fmt.Sscanf(v, "%d kB", &kb); err == nil {
			m.RAM = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	m.USBBus = "absent (/dev/bus/usb missing: the USB layer watches nothing here)"
	if _, err := os.Stat("/dev/bus/usb"); err == nil {
		m.USBBus = "present"
	}
	if out, err := exec.Command("go", "version").Output(); err == nil {
		m.GoVersion = strings.TrimPrefix(strings.TrimSpace(string(out)), "go version ")
	}
	return m
}

func firstField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// LoadAverage is /proc/loadavg's first three fields ("" elsewhere).
func LoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// Now is the report's date format.
func Now() string { return time.Now().UTC().Format("2006-01-02 15:04 UTC") }

// DescribeBuild reports the repository's commit (with "+ local changes"
// when the work tree differs) and the usb/tray lines of `tw version`.
func DescribeBuild(tw string) []string {
	var out []string
	if rev, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output(); err == nil {
		c := "commit " + strings.TrimSpace(string(rev))
		if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(strings.TrimSpace(string(st))) > 0 {
			c += " + local changes"
		}
		out = append(out, c)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if v, err := exec.CommandContext(ctx, tw, "version").Output(); err == nil {
		for _, line := range strings.Split(string(v), "\n") {
			if strings.HasPrefix(line, "usb:") || strings.HasPrefix(line, "tray:") {
				out = append(out, strings.Join(strings.Fields(line), " "))
			}
		}
	}
	return out
}
