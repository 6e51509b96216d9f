package ledger

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trustwatch/trustwatch/watcher/engine"
)

var plug = Plug{Address: "unix:///var/run/usbmuxd", UDID: "00008030-001A2B3C4D5E6F70", DeviceID: 7}

// TestMain doubles as the claiming helper process.
func TestMain(m *testing.M) {
	if dir := os.Getenv("LEDGER_HELPER_DIR"); dir != "" {
		l, err := Open(dir)
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		ok, _, err := l.Claim(plug)
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		if ok {
			_ = l.Record(plug, engine.StateTrustPending)
			fmt.Println("claimed")
		} else {
			e := l.Wait(context.Background(), plug)
			fmt.Println("found", e.State)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// Three processes claim the same plug at once: exactly one wins, the
// others learn what its Pair found.
func TestThreeProcessesOneClaim(t *testing.T) {
	dir := t.TempDir()
	for round := 0; round < 5; round++ {
		os.RemoveAll(dir)
		var wg sync.WaitGroup
		outs := make([]string, 3)
		for i := range outs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cmd := exec.Command(os.Args[0], "-test.run=^$")
				cmd.Env = append(os.Environ(), "LEDGER_HELPER_DIR="+dir)
				out, err := cmd.CombinedOutput()
				if err != nil {
					t.Errorf("helper: %v %s", err, out)
				}
				outs[i] = strings.TrimSpace(string(out))
			}()
		}
		wg.Wait()
		claimed := 0
		for _, o := range outs {
			switch o {
			case "claimed":
				claimed++
			case "found trust-pending":
			default:
				t.Errorf("helper said %q", o)
			}
		}
		if claimed != 1 {
			t.Fatalf("round %d: %d processes claimed the plug: %v", round, claimed, outs)
		}
	}
}

func TestPruneAndForget(t *testing.T) {
	l, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	other := Plug{Address: "tcp://127.0.0.1:27015", UDID: "X", DeviceID: 1}
	for _, p := range []Plug{plug, other} {
		if ok, _, err := l.Claim(p); !ok || err != nil {
			t.Fatal(ok, err)
		}
	}
	if ok, prior, _ := l.Claim(plug); ok || prior.PID != os.Getpid() {
		t.Fatalf("second claim: %v %+v", ok, prior)
	}
	// usbmuxd lists plug still: kept; the other daemon's entry is young: kept.
	l.Prune(plug.Address, []Plug{plug})
	if ok, _, _ := l.Claim(plug); ok {
		t.Fatal("a listed plug was pruned")
	}
	// Not listed any more: unplugged, forgotten.
	l.Prune(plug.Address, nil)
	if ok, _, _ := l.Claim(plug); !ok {
		t.Fatal("an unplugged plug was kept")
	}
	l.Forget(plug)
	if ok, _, _ := l.Claim(plug); !ok {
		t.Fatal("Forget kept the plug")
	}
	if ok, _, _ := l.Claim(other); ok {
		t.Fatal("another daemon's plug was pruned")
	}
	// A claim whose process died before recording: Wait gives up with ctx.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if e := l.Wait(ctx, other); e.State != "" {
		t.Fatalf("%+v", e)
	}
}

// The Pair after an unlock is its own round: claimed apart from the plug's
// first, once across processes, and forgotten and pruned with the plug.
func TestRounds(t *testing.T) {
	l, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	first, afterUnlock := plug, plug
	afterUnlock.Round = 1
	if ok, _, err := l.Claim(first); !ok || err != nil {
		t.Fatal("first round:", ok, err)
	}
	if ok, _, err := l.Claim(afterUnlock); !ok || err != nil {
		t.Fatal("a claimed first round took the round after the unlock:", ok, err)
	}
	if err := l.Record(afterUnlock, engine.StateTrustPending); err != nil {
		t.Fatal(err)
	}
	ok, prior, _ := l.Claim(afterUnlock)
	if ok {
		t.Fatal("the round after the unlock was claimed twice")
	}
	if e := l.Wait(t.Context(), afterUnlock); e.State != engine.StateTrustPending || e.Round != 1 || prior.Round != 1 {
		t.Fatalf("round 1 reads %+v (prior %+v)", e, prior)
	}
	l.Prune(plug.Address, []Plug{plug}) // listed: every round stays
	if ok, _, _ := l.Claim(afterUnlock); ok {
		t.Fatal("Prune dropped a listed plug's later round")
	}
	l.Forget(plug)
	for _, p := range []Plug{first, afterUnlock} {
		if ok, _, _ := l.Claim(p); !ok {
			t.Fatalf("Forget kept round %d", p.Round)
		}
	}
	l.Prune(plug.Address, nil)
	if names, _ := os.ReadDir(l.Dir()); len(names) != 0 {
		t.Fatalf("Prune of an unplugged plug left %d files", len(names))
	}
}
