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
)

// Level is the overall state the tray icon shows.
type Level int

// The tray icon levels.
const (
	Idle      Level = iota // no phone connected
	OK                     // every phone is ready (severity 0 with devices)
	Attention              // a phone needs the user's hand: trust or lock (severity 1)
	Problem                // cable, driver, recovery or diagnosis problem (severity 2)
)

// Levels lists every level.
var Levels = []Level{Idle, OK, Attention, Problem}

func (l Level) String() string {
	switch l {
	case Idle:
		return "idle"
	case OK:
		return "ok"
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
