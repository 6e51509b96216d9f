package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// userHZ is the kernel's USER_HZ for /proc/<pid>/stat; 100 on every Linux
// architecture Go supports.
const userHZ = 100

// ReadProc samples /proc/<pid>. Threads that exit between listing and
// reading are skipped, not errors.
func ReadProc(pid int) (ProcSample, error) {
	s := ProcSample{At: time.Now()}
	dir := fmt.Sprintf("/proc/%d", pid)
	status, err := os.ReadFile(dir + "/status")
	if err != nil {
		return s, fmt.Errorf("process %d: %w", pid, err)
	}
	if v, ok := statusField(status, "VmRSS:"); ok {
		s.RSSKB = v
	}
	if v, ok := statusField(status, "RssAnon:"); ok {
		s.AnonKB = v
	}
	stat, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return s, fmt.Errorf("process %d: %w", pid, err)
	}
	if u, st, err := statTimes(stat); err == nil {
		s.CPUTicks = time.Duration(u+st) * time.Second / userHZ
	} else {
		return s, fmt.Errorf("process %d: %w", pid, err)
	}
	tasks, err := os.ReadDir(dir + "/task")
	if err != nil {
		return s, fmt.Errorf("process %d: %w", pid, err)
	}
	for _, t := range tasks {
		td := filepath.Join(dir, "task", t.Name())
		ts, err := os.ReadFile(td + "/status")
		if err != nil {
			continue // thread exited
		}
		s.Threads++
		if v, ok := statusField(ts, "voluntary_ctxt_switches:"); ok {
			s.VolCtx += v
		}
		if ss, err := os.ReadFile(td + "/schedstat"); err == nil {
			if f := strings.Fields(string(ss)); len(f) > 0 {
				if ns, err := strconv.ParseInt(f[0], 10, 64); err == nil {
					s.CPU += time.Duration(ns)
				}
			}
		}
	}
	if s.CPU == 0 {
		s.CPU = s.CPUTicks // kernel without schedstats
	}
	if fds, err := os.ReadDir(dir + "/fd"); err == nil {
		s.FDs = len(fds)
	}
	return s, nil
}

func statusField(status []byte, key string) (int64, bool) {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, key); ok {
			f := strings.Fields(rest)
			if len(f) == 0 {
				return 0, false
			}
			v, err := strconv.ParseInt(f[0], 10, 64)
			return v, err == nil
		}
	}
	return 0, false
}

// statTimes parses utime and stime (fields 14 and 15) from /proc/<pid>/stat.
// The command name (field 2) may hold spaces and parentheses, so fields are
// counted from the last ')'.
func statTimes(stat []byte) (utime, stime int64, err error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("malformed stat %q", stat)
	}
	f := strings.Fields(string(stat[i+1:]))
	// f[0] is field 3 (state), so field n is f[n-3].
	if len(f) < 13 {
		return 0, 0, fmt.Errorf("short stat %q", stat)
	}
	if utime, err = strconv.ParseInt(f[11], 10, 64); err != nil {
		return 0, 0, err
	}
	if stime, err = strconv.ParseInt(f[12], 10, 64); err != nil {
		return 0, 0, err
	}
	return utime, stime, nil
}
