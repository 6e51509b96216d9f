package bench

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/trustwatch/trustwatch/internal/sim"
)

// Rig is a simulated usbmuxd that also counts the usbmuxd requests its
// clients make (the sim's per-device request log only holds the requests
// that name a device; ListDevices, Listen and ReadBUID do not).
type Rig struct {
	*sim.Server
	muxRequests atomic.Int64
}

// StartRig starts a simulator on a fresh socket.
func StartRig() (*Rig, error) { return startRig(sim.Options{}) }

// startRig starts a simulator with opts (its Logf is the rig's).
func startRig(opts sim.Options) (*Rig, error) {
	r := &Rig{}
	opts.Logf = r.logf
	s, err := sim.Start(opts)
	if err != nil {
		return nil, err
	}
	r.Server = s
	return r, nil
}

// logf sees every sim log call; it only counts, never formats, because it
// runs under the sim's lock on hot paths.
func (r *Rig) logf(format string, args ...any) {
	if strings.HasPrefix(format, "sim: usbmuxd %s (tag") {
		r.muxRequests.Add(1)
	}
}

// MuxRequests is the number of usbmuxd requests served so far.
func (r *Rig) MuxRequests() int64 { return r.muxRequests.Load() }

// LockdownRequests counts the lockdown requests in a device's request log.
func LockdownRequests(d *sim.Device) int {
	n := 0
	for _, e := range d.Stats().Requests {
		if strings.HasPrefix(e, "lockdown ") {
			n++
		}
	}
	return n
}

// StateConfigs are the simulated phones behind each state the attach
// benchmark measures.
var StateConfigs = []struct {
	State string
	Cfg   sim.DeviceConfig
}{
	{"ready", sim.DeviceConfig{Trusted: true}},
	{"locked", sim.DeviceConfig{Trusted: true, Locked: true}},
	{"trust-pending", sim.DeviceConfig{}},
	{"untrusted-locked", sim.DeviceConfig{Locked: true}},
	{"trust-denied", sim.DeviceConfig{Denied: true}},
	{"trust-revoked", sim.DeviceConfig{Revoked: true}},
}

// UDIDs hands out distinct UDIDs; the base keeps them apart from the sim's
// own defaults.
type UDIDs struct {
	mu   sync.Mutex
	next uint64
}

// New returns a fresh UDID.
func (u *UDIDs) New() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.next++
	return fmt.Sprintf("00008110-%016X", uint64(0x00BE7C4000000000)+u.next)
}

// Take returns n fresh UDIDs.
func (u *UDIDs) Take(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = u.New()
	}
	return out
}

// WarmKeys makes the sim generate (and cache for this process) the device
// keys of these UDIDs now, so that 2048-bit RSA key generation (~50-200 ms
// each) never lands inside a measured window. It uses a scratch server:
// the key cache is per process, keyed by UDID.
func WarmKeys(udids []string) error {
	s, err := sim.Start(sim.Options{})
	if err != nil {
		return err
	}
	defer s.Close()
	var wg sync.WaitGroup
	ch := make(chan string)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for u := range ch {
				s.AddDevice(sim.DeviceConfig{UDID: u, Trusted: true, Detached: true})
			}
		}()
	}
	for _, u := range udids {
		ch <- u
	}
	close(ch)
	wg.Wait()
	return nil
}

// Add creates a device of cfg with this UDID and plugs it in, calling
// before() at the last moment before the simulator sends Attached. Denied
// devices must be created attached ("Don't Trust" only survives the first
// attach); every other config is created detached first so that pair
// record provisioning stays outside the measured window.
func (r *Rig) Add(cfg sim.DeviceConfig, udid string, before func()) *sim.Device {
	cfg.UDID = udid
	if cfg.Denied {
		before()
		return r.AddDevice(cfg)
	}
	cfg.Detached = true
	d := r.AddDevice(cfg)
	before()
	d.Attach()
	return d
}
