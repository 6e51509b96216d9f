package bench

import (
	"os"
	"runtime"
	"testing"
	"time"
)

func TestReadProcSelf(t *testing.T) {
	a, err := ReadProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// Burn some CPU and sleep a few times so both counters must move.
	deadline := time.Now().Add(30 * time.Millisecond)
	for x := 0; time.Now().Before(deadline); x++ {
		runtime.Gosched()
	}
	for range 5 {
		time.Sleep(time.Millisecond)
	}
	b, err := ReadProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if a.RSSKB <= 0 || a.AnonKB <= 0 || a.AnonKB > a.RSSKB || a.Threads < 1 || a.FDs < 3 {
		t.Errorf("implausible sample %+v", a)
	}
	if b.CPU <= a.CPU {
		t.Errorf("CPU did not advance: %v then %v", a.CPU, b.CPU)
	}
	if b.VolCtx <= a.VolCtx {
		t.Errorf("voluntary context switches did not advance: %d then %d", a.VolCtx, b.VolCtx)
	}
}

func TestReadProcGone(t *testing.T) {
	if _, err := ReadProc(1 << 30); err == nil {
		t.Error("no error for a process that does not exist")
	}
}

func TestStatTimes(t *testing.T) {
	// A command name with spaces and ')' must not shift the fields.
	stat := []byte("42 (a) b) S 1 42 42 0 -1 4194560 100 0 0 0 17 5 0 0 20 0 1 0 100 0 0")
	u, s, err := statTimes(stat)
	if err != nil || u != 17 || s != 5 {
		t.Errorf("statTimes = %d, %d, %v; want 17, 5", u, s, err)
	}
	if _, _, err := statTimes([]byte("garbage")); err == nil {
		t.Error("no error for garbage")
	}
}
