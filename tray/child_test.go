package tray

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/trustwatch/trustwatch/notify"
	"github.com/trustwatch/trustwatch/watcher/engine"
)

// wireDevice and wireMsg carry snapshots from the test to the child on
// stdin (engine.Device's JSON omits Key).
type wireDevice struct {
	Key, Name, UDID string
	State           engine.State
	Detail          string
}

type wireMsg struct {
	Reachable bool
	MuxState  engine.MuxState // why usbmuxd is unreachable, described as on Debian
	Devices   []wireDevice
	// FixTrustFromNotification, when set, is a click on a notification's
	// Fix trust button for that device key (Options.Actions).
	FixTrustFromNotification string `json:",omitempty"`
}

func (m wireMsg) snapshot() engine.Snapshot {
	s := engine.Snapshot{Time: time.Now(), Usbmux: engine.Usbmux{Reachable: m.Reachable, Address: "unix:///test", State: m.MuxState}, Devices: []engine.Device{}}
	if m.MuxState != "" {
		env := engine.MuxEnv{GOOS: "linux", Install: "sudo apt install usbmuxd", USBVisible: true}
		s.Usbmux.Text = engine.DescribeMux(s.Usbmux, env, len(m.Devices) > 0)
	}
	for _, d := range m.Devices {
		s.Devices = append(s.Devices, engine.Device{
			Key: d.Key, UDID: d.UDID, Name: d.Name, State: d.State,
			Guide: d.State.Anchor(), Detail: d.Detail,
		})
	}
	return s
}

// event is one thing the child reports on stdout.
type event struct {
	Ev     string `json:"ev"`
	Key    string `json:"key,omitempty"`
	Title  string `json:"title,omitempty"`
	Body   string `json:"body,omitempty"`
	Anchor string `json:"anchor,omitempty"`
	On     bool   `json:"on,omitempty"`
	Err    string `json:"err,omitempty"`
}

// childContext ends on SIGINT/SIGTERM, as main's does for the app.
func childContext() context.Context {
	ctx, _ := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	return ctx
}

var outMu sync.Mutex

func report(e event) {
	outMu.Lock()
	defer outMu.Unlock()
	b, _ := json.Marshal(e)
	fmt.Fprintf(os.Stdout, "%s\n", b)
}

// fakeController is a latest-value snapshot feed from stdin that records
// FixTrust and Forget calls.
type fakeController struct {
	ch chan engine.Snapshot
}

func (f *fakeController) Subscribe() (<-chan engine.Snapshot, func()) {
	report(event{Ev: "Subscribe"})
	return f.ch, func() { report(event{Ev: "Unsubscribe"}) }
}
func (f *fakeController) FixTrust(key string) { report(event{Ev: "FixTrust", Key: key}) }
func (f *fakeController) Forget(key string)   { report(event{Ev: "Forget", Key: key}) }

func (f *fakeController) publish(s engine.Snapshot) {
	for {
		select {
		case f.ch <- s:
			return
		default:
		}
		select { // drop the stale one, as the real watcher does
		case <-f.ch:
		default:
		}
	}
}

// fakeNotifications is the notifier as the tray sees it, reporting calls.
type fakeNotifications struct {
	mu    sync.Mutex
	mode  notify.Mode
	muted map[string]bool
}

func (f *fakeNotifications) Mode() notify.Mode { f.mu.Lock(); defer f.mu.Unlock(); return f.mode }
func (f *fakeNotifications) SetMode(m notify.Mode) error {
	f.mu.Lock()
	f.mode = m
	f.mu.Unlock()
	report(event{Ev: "SetMode", Title: string(m)})
	return nil
}
func (f *fakeNotifications) Muted(udid string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.muted[udid]
}
func (f *fakeNotifications) SetMuted(udid string, on bool) error {
	f.mu.Lock()
	f.muted[udid] = on
	f.mu.Unlock()
	report(event{Ev: "SetMuted", Key: udid, On: on})
	return nil
}
func (f *fakeNotifications) FixTrustClicked(key string) {
	report(event{Ev: "FixTrustClicked", Key: key})
}
func (f *fakeNotifications) Forgot(key string) { report(event{Ev: "Forgot", Key: key}) }
func (f *fakeNotifications) Answer(key string, fb notify.Feedback) {
	report(event{Ev: "Answer", Key: key, Title: words().T(fb.Title, nil), Anchor: fb.Anchor})
}

type fakeLogin struct {
	mu sync.Mutex
	on bool
}

func (l *fakeLogin) Enabled() (bool, error) { l.mu.Lock(); defer l.mu.Unlock(); return l.on, nil }
func (l *fakeLogin) SetEnabled(on bool) error {
	l.mu.Lock()
	l.on = on
	l.mu.Unlock()
	report(event{Ev: "Login", On: on})
	return nil
}

// feed reads the test's messages from stdin: snapshots go to every
// controller in to, clicks on a notification's Fix trust to actions.
func feed(actions chan<- Action, to ...*fakeController) {
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m wireMsg
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			report(event{Ev: "BadInput", Err: err.Error()})
			continue
		}
		if m.FixTrustFromNotification != "" {
			actions <- Action{Op: OpFixTrust, Key: m.FixTrustFromNotification}
			continue
		}
		for _, fc := range to {
			fc.publish(m.snapshot())
		}
	}
}

// childModes are extra child modes registered by per-OS test files.
var childModes = map[string]func() int{}

// runChild is the tray app used by the desktop tests: modes "fake" and
// "nologin" feed snapshots from stdin; others come from childModes.
func runChild(mode string) int {
	if f, ok := childModes[mode]; ok {
		return f()
	}
	lg := slog.New(slog.NewTextHandler(os.Stderr, nil))
	fc := &fakeController{ch: make(chan engine.Snapshot, 1)}
	actions := make(chan Action, 4)
	go feed(actions, fc)
	opts := Options{
		Controller: fc,
		Tell:       func(title, body, anchor string) { report(event{Ev: "Tell", Title: title, Body: body, Anchor: anchor}) },
		OpenGuide:  func(anchor string) error { report(event{Ev: "Guide", Anchor: anchor}); return nil },
		LoginItem:  &fakeLogin{},
		Start: func(ctx context.Context) {
			report(event{Ev: "Start"})
			<-ctx.Done()
			report(event{Ev: "Stop"})
		},
		Logger: lg,
		About: About{Version: "v0.0.0-test", Commit: "0123456789abcdef", Built: "2026-11-30", Licence: "test licence",
			Log: os.Getenv("TRUSTWATCH_TEST_LOG"), Home: os.Getenv("HOME")},
		OpenFolder: func(dir string) error { report(event{Ev: "OpenFolder", Anchor: dir}); return nil },
	}
	switch mode {
	case "nologin":
		opts.LoginItem = nil
	case "notify":
		opts.Notifications = &fakeNotifications{mode: notify.ModeAll, muted: map[string]bool{}}
		opts.Actions = actions
	case "stopping": // the watcher gives up on its own
		opts.Start = func(ctx context.Context) {
			report(event{Ev: "Start"})
			time.Sleep(200 * time.Millisecond)
			report(event{Ev: "Stop"})
		}
	}
	if err := Run(childContext(), opts); err != nil {
		lg.Error("tray.Run", "err", err)
		return 1
	}
	report(event{Ev: "Exit"})
	return 0
}
