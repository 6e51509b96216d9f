//go:build linux || darwin || windows

package service

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The log file never passes its cap and keeps exactly one older file.
func TestCappedFileRotates(t *testing.T) {
	dir := tempDir(t)
	path := filepath.Join(dir, "logs", "trustwatch.log")
	w, err := openCappedFile(path, 1000)
	if err != nil {
		t.Fatal(err)
	}
	line := []byte(strings.Repeat("x", 99) + "\n")
	for i := 0; i < 35; i++ {
		if _, err := w.Write(line); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(path); err != nil || fi.Size() > 1000 {
			t.Fatalf("after %d writes: %v, size %d", i+1, err, fi.Size())
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(line); err == nil {
		t.Error("write after Close succeeded")
	}
	old, err := os.Stat(path + ".1")
	if err != nil || old.Size() != 1000 {
		t.Fatalf("rotated file: %v %v", old, err)
	}
	cur, _ := os.Stat(path)
	if cur.Size() != 500 { // 35 lines = 3 full files + 5 lines
		t.Errorf("current size %d, want 500", cur.Size())
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 2 {
		t.Errorf("%d files in the log folder, want 2", len(entries))
	}
	// Reopening appends and knows the size.
	w, err = openCappedFile(path, 1000)
	if err != nil || w.size != 500 {
		t.Fatalf("reopen: size %d, %v", w.size, err)
	}
	w.Close()
}

func TestLogRedactsSecrets(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, handlerOptions(slog.LevelInfo, true)))
	log.Info("paired", "EscrowBag", "c2VjcmV0ZXNjcm93", "HostPrivateKey", "-----BEGIN", slog.Group("record", "pair_record", "abc"), "udid", "00008030-001A2B3C4D5E6F70")
	s := buf.String()
	for _, secret := range []string{"c2VjcmV0ZXNjcm93", "BEGIN", "abc"} {
		if strings.Contains(s, secret) {
			t.Errorf("secret %q in log line %q", secret, s)
		}
	}
	if !strings.Contains(s, "00008030-001A2B3C4D5E6F70") || strings.Contains(s, "time=") {
		t.Errorf("log line %q: want the UDID and no time (journal mode)", s)
	}
}

// Without a terminal the tray logs to the per-OS file; a helper process has
// its stderr on a plain file, so it is not a terminal.
func TestSetupLoggingToFile(t *testing.T) {
	_, vars := testEnv(t)
	errFile, err := os.CreateTemp(tempDir(t), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer errFile.Close()
	cmd := helperCmd(t, "logging", append(vars, "JOURNAL_STREAM=")...)
	cmd.Stderr = errFile
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helper: %v %s", err, out)
	}
	where := strings.TrimSpace(strings.TrimPrefix(string(out), "where"))
	want := expectedLogPath(vars)
	if where != want {
		t.Fatalf("logs to %q, want %q", where, want)
	}
	b, err := os.ReadFile(where)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "hello from the helper") || strings.Contains(string(b), "c2VjcmV0") {
		t.Errorf("log file content %q", b)
	}
}

func envValue(vars []string, key string) string {
	for _, v := range vars {
		if k, val, ok := strings.Cut(v, "="); ok && k == key {
			return val
		}
	}
	return ""
}
