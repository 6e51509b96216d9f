// Package sessionbus keeps trustwatch from starting a D-Bus session bus of
// its own.
//
// godbus, which systray, beeep and notify use, runs dbus-launch when
// DBUS_SESSION_BUS_ADDRESS is unset and /run/user/UID has no bus: that is
// every start over ssh or from a bare console. dbus-launch forks a
// "dbus-daemon --session" that outlives trustwatch (one orphan per start),
// and the tray and notifications would then talk to a bus no desktop is
// on, and only seem to work. Guard, called before anything touches D-Bus,
// makes every such connection fail at once instead.
package sessionbus

import "os"

const envAddress = "DBUS_SESSION_BUS_ADDRESS"

// disabled is the address Guard sets when there is no bus. godbus rejects
// it as an unknown transport, without starting anything.
const disabled = "disabled:"

// Why is the reason Guard gives, in words for the log.
const Why = "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set, as over ssh), and trustwatch does not start one"

// Guard makes sure no D-Bus client in this process autolaunches a session
// bus. It returns "" when a session bus may be there, and Why when there
// is none (then every session-bus connection fails fast). Call it once,
// early; later calls return the same answer.
func Guard() string {
	if Missing() {
		return Why
	}
	if found() {
		return ""
	}
	os.Setenv(envAddress, disabled)
	return Why
}

// Missing reports whether Guard found no session bus.
func Missing() bool { return os.Getenv(envAddress) == disabled }
