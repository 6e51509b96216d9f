//go:build linux || darwin

package service

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// Under systemd (JOURNAL_STREAM names stderr's device:inode) logs go to
// stderr for the journal; a stale JOURNAL_STREAM (not our stderr) is ignored.
func TestSetupLoggingJournal(t *testing.T) {
	_, vars := testEnv(t)
	errFile, err := os.CreateTemp(tempDir(t), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer errFile.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(errFile.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	for stream, want := range map[string]string{
		fmt.Sprintf("%d:%d", st.Dev, st.Ino):   "journal",
		fmt.Sprintf("%d:%d", st.Dev, st.Ino+1): expectedLogPath(vars),
	} {
		cmd := helperCmd(t, "logging", append(vars, "JOURNAL_STREAM="+stream)...)
		cmd.Stderr = errFile
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("helper: %v %s", err, out)
		}
		if got := strings.TrimSpace(strings.TrimPrefix(string(out), "where")); got != want {
			t.Errorf("JOURNAL_STREAM=%s: logs to %q, want %q", stream, got, want)
		}
	}
	b, _ := os.ReadFile(errFile.Name())
	if !strings.Contains(string(b), "hello from the helper") || strings.Contains(string(b), "time=") {
		t.Errorf("journal output %q: want the message without a timestamp", b)
	}
}
