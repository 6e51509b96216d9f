package engine

// MuxWords is what a MuxState means to a person, in one OS's terms: a short
// line for the tray, the problem, and the next step.
type MuxWords struct {
	Short   string // tray status line: "Apple Mobile Device Service is stopped"
	Problem string // a sentence
	Fix     string // what to do, as an instruction; "" when there is nothing to do
}

// windowsMuxWords: Windows users know Apple Mobile Device Service, iTunes
// and the Apple Devices app, never "usbmuxd".
var windowsMuxWords = map[MuxState]MuxWords{
	MuxRunning: {Short: "Apple Mobile Device Service is running", Problem: "Apple Mobile Device Service answers."},
	MuxNotInstalled: {
		Short:   "Apple Mobile Device Support is not installed",
		Problem: "Apple Mobile Device Support is not installed, so Windows cannot talk to an iPhone.",
		Fix:     "Install Apple Devices from the Microsoft Store (or iTunes), then plug the iPhone in again.",
	},
	MuxNotRunning: {
		Short:   "Apple Mobile Device Service is stopped",
		Problem: "Apple Mobile Device Service is installed but not running.",
		Fix:     "Start Apple Mobile Device Service: open Services (services.msc), right-click Apple Mobile Device Service and choose Start, or restart the computer.",
	},
	MuxDisabled: {
		Short:   "Apple Mobile Device Service is disabled",
		Problem: "Apple Mobile Device Service is disabled.",
		Fix:     "Open Services (services.msc), double-click Apple Mobile Device Service, set Startup type to Automatic, then click Start.",
	},
	MuxStarting: {
		Short:   "Apple Mobile Device Service is starting",
		Problem: "Apple Mobile Device Service is starting.",
		Fix:     "Wait a moment: trustwatch connects as soon as it answers.",
	},
	MuxAppNotRunning: {
		Short:   "Apple Devices is not running",
		Problem: "Apple Devices (or iTunes) from the Microsoft Store is installed, but its device service is not running.",
		Fix:     "Open Apple Devices from the Start menu once, then plug the iPhone in again.",
	},
	MuxPermissionDenied: {
		Short:   "Apple Mobile Device Service refused trustwatch",
		Problem: "Windows refused the connection to Apple Mobile Device Service (127.0.0.1:27015).",
		Fix:     "Allow trustwatch in the firewall or security software that blocks local connections.",
	},
	MuxUnreadable: {
		Short:   "Another program answers on port 27015",
		Problem: "Something answers on 127.0.0.1:27015, but not as Apple Mobile Device Service.",
		Fix:     "Close the program that uses port 27015, or reinstall Apple Devices.",
	},
	MuxBusy: {
		Short:   "Apple Mobile Device Service is busy",
		Problem: "Apple Mobile Device Service is busy.",
		Fix:     "Wait a moment: trustwatch retries.",
	},
}

// WindowsMuxWords says what s means on Windows. An unknown state (or
// MuxUnknown) reads as "not reachable".
func WindowsMuxWords(s MuxState) MuxWords {
	if w, ok := windowsMuxWords[s]; ok {
		return w
	}
	return MuxWords{
		Short:   "Apple Mobile Device Service is not reachable",
		Problem: "Apple Mobile Device Service (127.0.0.1:27015) is not reachable.",
		Fix:     "Install or start it: Apple Devices from the Microsoft Store, or iTunes.",
	}
}
