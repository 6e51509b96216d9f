package notify

import (
	"log/slog"
	"testing"
	"time"
)

// The Windows default (beeep → go-toast) never blocks the caller and logs
// at most one line however often it fails (under Wine there is no WinRT,
// so every toast fails; on real Windows they show and nothing is logged).
func TestWindowsDefaultNeverBlocks(t *testing.T) {
	lr := &logRec{}
	n := New(Options{Logger: slog.New(lr), SendTimeout: 2 * time.Second})
	defer n.Close()
	start := time.Now()
	for range 20 {
		n.Tell("Tap Trust on your iPhone", "Then enter its passcode.", "step-3")
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Fatalf("20 Tell calls took %v", d)
	}
	time.Sleep(5 * time.Second) // let the sender work through the queue
	if l := lr.lines(); len(l) > 2 {
		t.Fatalf("want at most one failure line (plus a queue-full line), got %q", l)
	}
	t.Logf("log: %q", lr.lines())
}
