package engine

// Advice is what the engine tells the person at the computer, as an
// identifier: a catalog message id and the values for its placeholders.
// internal/say gives it words in the user's language, and in English for
// the JSON output and the logs; the engine holds no words.
type Advice struct {
	ID   string `json:"id,omitempty"` // "state.trust-pending.summary", "mux.device", "usb.problem"
	Args Args   `json:"args,omitempty"`
}

// Args are the values an advice's words take: names, commands, paths and
// numbers, which read the same in every language and so are never part of
// a translated text. Clause, Next and Then name further messages, said with
// the same Args, that fill {{.Clause}}, {{.Next}} and {{.Then}}. A struct
// rather than a map so that snapshots stay comparable.
type Args struct {
	Service  string `json:"service,omitempty"`  // the Apple device service: "usbmuxd", "Apple Mobile Device Service"
	Command  string `json:"command,omitempty"`  // a command to run (install, start, check)
	Restart  string `json:"restart,omitempty"`  // the command that restarts the service
	Path     string `json:"path,omitempty"`     // a socket path or an address
	Mode     string `json:"mode,omitempty"`     // the socket's file mode as ls shows it
	Variable string `json:"variable,omitempty"` // an environment variable
	Console  string `json:"console,omitempty"`  // the Windows console to open ("services.msc")
	App      string `json:"app,omitempty"`      // the Windows app that brings the service (AppleDevicesApp)
	State    string `json:"state,omitempty"`    // a usbmuxd state no one classified, as it was named
	Code     int    `json:"code,omitempty"`     // a Windows Device Manager problem code
	Mbps     int    `json:"mbps,omitempty"`     // a USB link's speed

	Clause string `json:"clause,omitempty"` // message id: what is wrong, inside a sentence
	Next   string `json:"next,omitempty"`   // message id: the next step
	Then   string `json:"then,omitempty"`   // message id: a last step after the next one
}

// AppleDevicesApp is Apple's app for iPhones on Windows, from the Microsoft
// Store; it (or iTunes) brings the Apple Mobile Device Service and driver.
const AppleDevicesApp = "Apple Devices"

// IsZero reports whether there is no advice.
func (a Advice) IsZero() bool { return a.ID == "" }

// StateAdvice is a state's own advice: what is wrong and what to do; zero
// for a state that is not in the contract.
func StateAdvice(s State) Advice {
	if !s.Known() {
		return Advice{}
	}
	return Advice{ID: "state." + string(s) + ".summary"}
}
