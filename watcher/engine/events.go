package engine

// Event is an input to the engine. Every event is plain data.
type Event interface{ event() }

// MuxDevice is what usbmuxd says about an attached USB device.
type MuxDevice struct {
	DeviceID   int
	UDID       string // as usbmuxd reports it (hyphenated on A12+)
	LocationID uint32
	ProductID  int
	SpeedBps   int
}

// MuxUp: the usbmuxd connection is (re)established; Devices is the full
// list of USB devices it reports right now (ListDevices).
type MuxUp struct {
	Address string
	Devices []MuxDevice
	// More: the listing continues in further MuxUp events (a long list is
	// handed over in parts, so probes of the first phones start at once);
	// devices that were not listed are settled after the last part.
	More bool
}

// MuxDown: usbmuxd cannot be reached (absent, restarting, or it hung up).
type MuxDown struct {
	Address string
	Err     string
	State   MuxState // why, as classified by the source
}

// MuxAttached, MuxDetached, MuxPaired are usbmuxd Listen events.
type MuxAttached struct{ Device MuxDevice }
type MuxDetached struct{ DeviceID int }
type MuxPaired struct{ DeviceID int }

// USBKind classifies an Apple USB product ID.
type USBKind int

const (
	USBMobile   USBKind = iota // iPhone/iPad/iPod in normal mode (0x1290–0x12AF)
	USBRecovery                // 0x1280–0x1283
	USBDFU                     // 0x1227, 0x1222
)

// USBDevice is an Apple device seen on the USB bus (never opened).
type USBDevice struct {
	Bus, Address int
	ProductID    int
	SpeedMbps    int
	Serial       string // may be empty when it cannot be read without opening
	Kind         USBKind
	// DriverProblem says, with the next step, why the OS will not hand the
	// device to the Apple service (Windows: a devnode problem code such as
	// 28, no driver); zero when there is none. It becomes the advice of the
	// device's service-unavailable state.
	DriverProblem Advice
}

// LocationID is how Linux usbmuxd names the same device. Bus 0 means the
// platform numbers no buses (Windows), and then there is none.
func (u USBDevice) LocationID() uint32 { return uint32(u.Bus)<<16 | uint32(u.Address) }

// USBAdded and USBRemoved come from the USB hotplug watcher.
type USBAdded struct{ Device USBDevice }
type USBRemoved struct{ Device USBDevice }

// ProbeDone carries the result of a Probe, Pair, CompletePair or Forget command.
type ProbeDone struct {
	Key    string
	Epoch  uint64
	Result ProbeResult
}

// ProbeResult is what the lockdown executor found.
type ProbeResult struct {
	State  State
	Detail string
	// Lockdown is the lockdownd error name behind State ("InvalidHostID",
	// "PasswordProtected", "UserDeniedPairing"…), "" when none: support
	// reports list it.
	Lockdown    string
	Name        string
	ProductType string
	IOSVersion  string
	// OurPair is true when the Pair that is now waiting on the phone's
	// dialog was sent by trustwatch (so trustwatch must complete it).
	OurPair bool
	// PairReached is true when a Pair request reached the phone's dialog
	// logic in this command (pending or denied), false when it was refused
	// before any dialog (locked) or no Pair was sent.
	PairReached bool
}

// TrustSeen: the user tapped Trust (request_pair relayed) or a pair record
// appeared in usbmuxd.
type TrustSeen struct {
	Key   string
	Epoch uint64
	Via   TrustSignal
}

// TrustSignal names how trustwatch learned that the phone now trusts a host.
type TrustSignal int

const (
	ViaRequestPair TrustSignal = iota // insecure_notification_proxy relayed request_pair
	ViaRecord                         // ReadPairRecord turned from "missing" into data
)

// Unlocked: an untrusted phone that was locked can now show the Trust prompt.
type Unlocked struct {
	Key   string
	Epoch uint64
}

// LockChanged: a trusted phone's lockstate observer saw the lock change
// (Relayed: the phone relayed com.apple.springboard.lockstate), or read a
// lock state on (re)opening that differs from what the engine believes.
// DeviceID names the attach the observer belongs to.
type LockChanged struct {
	Key      string
	DeviceID int
	Relayed  bool
}

// FixTrust and Forget are the user's tray actions.
type FixTrust struct{ Key string }
type Forget struct{ Key string }

// Tick only lets time pass (timers).
type Tick struct{}

func (MuxUp) event()       {}
func (MuxDown) event()     {}
func (MuxAttached) event() {}
func (MuxDetached) event() {}
func (MuxPaired) event()   {}
func (USBAdded) event()    {}
func (USBRemoved) event()  {}
func (ProbeDone) event()   {}
func (TrustSeen) event()   {}
func (Unlocked) event()    {}
func (LockChanged) event() {}
func (FixTrust) event()    {}
func (Forget) event()      {}
func (Tick) event()        {}
