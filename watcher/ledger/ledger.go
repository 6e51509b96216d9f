// Package ledger is the cross-process record of "a Pair was sent for this
// plug". Every trustwatch process that may send the automatic Pair (tray,
// watch, status) claims the plug here first, so that whatever mix of
// processes runs, a phone sees at most one automatic Pair per plug: the
// others report what that one Pair found. A plug is a phone (UDID) under
// one usbmuxd DeviceID at one usbmuxd address; usbmuxd numbers every
// attach afresh, so a replug is a new plug.
package ledger

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/trustwatch/trustwatch/internal/rundir"
	"github.com/trustwatch/trustwatch/watcher/engine"
)

// DirName is the ledger's directory inside the runtime dir.
const DirName = rundir.Name + "-pairs"

// forgetAfter drops entries of a usbmuxd nobody has listed for a day (a
// daemon that went away for good, a test's simulator).
const forgetAfter = 24 * time.Hour

// Plug identifies one attach of one phone, and which of its automatic
// Pairs: Round 0 is the Pair at plug-in, Round n the n-th after an unlock
// (the one at plug-in was refused while the phone was locked and showed
// nothing).
type Plug struct {
	Address  string // usbmuxd's address
	UDID     string
	DeviceID int
	Round    int
}

// Entry is what the ledger holds about a plug.
type Entry struct {
	PID      int          `json:"pid"`
	At       time.Time    `json:"at"`
	Address  string       `json:"address"`
	UDID     string       `json:"udid"`
	DeviceID int          `json:"device_id"`
	Round    int          `json:"round,omitempty"`
	State    engine.State `json:"state,omitempty"` // what the Pair found; "" while it runs
}

// Ledger is a directory of entries, one file per plug.
type Ledger struct{ dir string }

// Open uses dir (created 0700 when missing).
func Open(dir string) (*Ledger, error) {
	if err := rundir.Ensure(dir); err != nil {
		return nil, fmt.Errorf("pair ledger: %w", err)
	}
	return &Ledger{dir: dir}, nil
}

// Default opens the ledger in the first usable runtime dir.
func Default() (*Ledger, error) {
	d, _, err := rundir.First(rundir.Default())
	if err != nil {
		return nil, fmt.Errorf("pair ledger: %w", err)
	}
	return Open(filepath.Join(d, DirName))
}

// Dir is where the entries are.
func (l *Ledger) Dir() string { return l.dir }

// plugName names a plug's files: <hash>.pair for round 0, <hash>.<n>.pair
// for the rounds after an unlock; the hash is the same for all rounds, so
// Forget and Prune take them together.
func plugName(p Plug) string {
	h := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%s\x00%d", p.Address, engine.NormalizeUDID(p.UDID), p.DeviceID)))
	return hex.EncodeToString(h[:16])
}

func (l *Ledger) path(p Plug) string {
	if p.Round > 0 {
		return filepath.Join(l.dir, fmt.Sprintf("%s.%d.pair", plugName(p), p.Round))
	}
	return filepath.Join(l.dir, plugName(p)+".pair")
}

// Claim takes the plug's one automatic Pair for this process. ok false
// means another process has it; prior is its entry (its State may still be
// empty: see Wait). Creating the file is atomic, so of several processes
// claiming at once exactly one wins.
func (l *Ledger) Claim(p Plug) (ok bool, prior Entry, err error) {
	f, err := os.OpenFile(l.path(p), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		e, rerr := l.read(p)
		return false, e, rerr
	}
	if err != nil {
		return false, Entry{}, fmt.Errorf("pair ledger: %w", err)
	}
	defer f.Close()
	e := Entry{PID: os.Getpid(), At: time.Now(), Address: p.Address, UDID: p.UDID, DeviceID: p.DeviceID, Round: p.Round}
	b, _ := json.Marshal(e)
	if _, err := f.Write(b); err != nil {
		return true, Entry{}, fmt.Errorf("pair ledger: %w", err)
	}
	return true, Entry{}, nil
}

// Record writes what the plug's Pair found (atomically: readers see the
// old entry or the new one, never half of one).
func (l *Ledger) Record(p Plug, s engine.State) error {
	e := Entry{PID: os.Getpid(), At: time.Now(), Address: p.Address, UDID: p.UDID, DeviceID: p.DeviceID, Round: p.Round, State: s}
	b, _ := json.Marshal(e)
	tmp, err := os.CreateTemp(l.dir, ".entry-*")
	if err != nil {
		return fmt.Errorf("pair ledger: %w", err)
	}
	_, werr := tmp.Write(b)
	cerr := tmp.Close()
	if werr != nil || cerr != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("pair ledger: %w", errors.Join(werr, cerr))
	}
	if err := os.Rename(tmp.Name(), l.path(p)); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("pair ledger: %w", err)
	}
	return nil
}

func (l *Ledger) read(p Plug) (Entry, error) {
	b, err := os.ReadFile(l.path(p))
	if err != nil {
		return Entry{}, fmt.Errorf("pair ledger: %w", err)
	}
	var e Entry
	if len(b) > 0 {
		if err := json.Unmarshal(b, &e); err != nil {
			return Entry{}, fmt.Errorf("pair ledger: unreadable entry: %w", err)
		}
	}
	return e, nil
}

// Wait returns the plug's entry once its Pair has an outcome, or what is
// known when ctx ends (a Pair takes milliseconds; its sender may have died).
func (l *Ledger) Wait(ctx context.Context, p Plug) Entry {
	for {
		e, err := l.read(p)
		if err == nil && e.State != "" {
			return e
		}
		select {
		case <-ctx.Done():
			return e
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Forget drops a plug that was unplugged, every round of it.
func (l *Ledger) Forget(p Plug) {
	names, _ := filepath.Glob(filepath.Join(l.dir, plugName(p)+"*.pair"))
	for _, n := range names {
		_ = os.Remove(n)
	}
}

// Prune forgets the plugs of address that usbmuxd no longer lists (they
// were unplugged) and entries of any usbmuxd older than a day.
func (l *Ledger) Prune(address string, listed []Plug) {
	keep := map[string]bool{} // plug names (every round of a listed plug stays)
	for _, p := range listed {
		keep[plugName(p)] = true
	}
	ents, err := os.ReadDir(l.dir)
	if err != nil {
		return
	}
	for _, de := range ents {
		name := de.Name()
		if !strings.HasSuffix(name, ".pair") || keep[strings.SplitN(name, ".", 2)[0]] {
			continue
		}
		b, err := os.ReadFile(filepath.Join(l.dir, name))
		if err != nil {
			continue
		}
		var e Entry
		if json.Unmarshal(b, &e) != nil {
			// Being written right now, or broken: only old ones go.
			if fi, err := de.Info(); err == nil && time.Since(fi.ModTime()) > forgetAfter {
				os.Remove(filepath.Join(l.dir, name))
			}
			continue
		}
		if e.Address == address || time.Since(e.At) > forgetAfter {
			os.Remove(filepath.Join(l.dir, name))
		}
	}
}
