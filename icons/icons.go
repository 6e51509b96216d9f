// Package icons holds trustwatch's tray and app icons, generated from Go
// drawing code (internal/art) by `go generate` and embedded per OS: PNG on
// Linux and other Unix desktops, ICO on Windows, PNG plus a monochrome
// template image on macOS. icns/app.icns is the macOS .app bundle's icon
// (scripts/release.sh puts it in the bundle; it is not embedded).
package icons

//go:generate go run ./gen -out .

import (
	_ "embed"
	"fmt"

	"github.com/trustwatch/trustwatch/watcher/engine"
)

// Level is the overall state the tray icon shows. Levels are ordered: of
// several phones, the one with the highest level decides the icon.
type Level int

// The tray icon levels.
const (
	Idle      Level = iota // no phone connected, or still being checked
	OK                     // every phone is ready
	Waiting                // the phone waits for the user: unlock it, tap Trust
	Attention              // trust needs fixing from this computer: Fix trust, re-plug
	Problem                // cable, driver, recovery or diagnosis problem
)

// Levels lists every level, in order.
var Levels = []Level{Idle, OK, Waiting, Attention, Problem}

// StateLevel is the icon for one phone in state s, for the tray and for
// notifications alike. Probing is Idle: no premature verdict.
func StateLevel(s engine.State) Level {
	switch s.Severity() {
	case engine.SeverityNone:
		return Idle
	case engine.SeverityOK:
		return OK
	case engine.SeverityWaiting:
		return Waiting
	case engine.SeverityAttention:
		return Attention
	}
	return Problem
}

func (l Level) String() string {
	switch l {
	case Idle:
		return "idle"
	case OK:
		return "ok"
	case Waiting:
		return "waiting"
	case Attention:
		return "attention"
	case Problem:
		return "problem"
	}
	return fmt.Sprintf("Level(%d)", int(l))
}

// appPNG is large enough for notification servers, which scale it down.
//
//go:embed png/app-128.png
var appPNG []byte

// AppPNG is the app icon as a 128 px PNG, on every OS (for notifications).
func AppPNG() []byte { return appPNG }

// For is the tray icon for level in the platform's format (see the
// per-OS files). An unknown level gets the Problem icon, never nil.
func For(level Level) []byte { return forLevel(level) }

// App is the app icon in the platform's format.
func App() []byte { return app() }

// index maps a level to its slot in the per-OS tables; anything unknown
// is shown as a problem rather than as nothing.
func index(level Level) int {
	if level < Idle || level > Problem {
		return int(Problem)
	}
	return int(level)
}
