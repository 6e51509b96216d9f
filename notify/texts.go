package notify

import (
	"strings"

	"github.com/trustwatch/trustwatch/watcher/engine"
)

// NamePlaceholder is replaced by the device's display name in titles and bodies.
const NamePlaceholder = "{name}"

// Text is what one notification says about one device in one state.
// Title and Body may contain NamePlaceholder. Anchor is the guide anchor the
// "How to fix" action opens (taken from the engine, the single source).
type Text struct {
	State  engine.State
	Title  string
	Body   string
	Anchor string
	// When says when this text is used, for the closing note and docs.
	When string
}

// Render fills in the device's name.
func (t Text) Render(name string) (title, body string) {
	return strings.ReplaceAll(t.Title, NamePlaceholder, name), strings.ReplaceAll(t.Body, NamePlaceholder, name)
}

// The one table: state → words. Bodies say what to do, in the phone's terms,
// and stand on their own because macOS notifications carry no action.
var texts = map[engine.State]Text{
	engine.StateLocked: {
		Title: "{name} is locked",
		Body:  "Unlock it to use it with this computer.",
	},
	engine.StateLockedSinceRestart: {
		Title: "{name} restarted and is still locked",
		Body:  "Unlock it once with its passcode so this computer can reach it.",
	},
	engine.StateUntrusted: {
		Title: "{name} does not trust this computer",
		Body:  "Unlock it and tap Trust when it asks \"Trust This Computer?\".",
	},
	engine.StateUntrustedLocked: {
		Title: "{name} is locked",
		Body:  "Unlock it to see the \"Trust This Computer?\" prompt.",
	},
	engine.StateTrustPending: {
		Title: "{name} is asking to trust this computer",
		Body:  "Tap Trust on the iPhone, then enter its passcode.",
	},
	engine.StateTrustDenied: {
		Title: "\"Don't Trust\" was tapped on {name}",
		Body:  "Unplug it and plug it in again to get the question back, then tap Trust.",
	},
	engine.StateTrustRevoked: {
		Title: "{name} no longer trusts this computer",
		Body:  "Choose Fix trust in the trustwatch menu, then tap Trust on the iPhone.",
	},
	engine.StateNoData: {
		Title: "{name} is only charging",
		Body:  "No data connection came up. Use a data cable (not charge-only), a USB port on the computer itself rather than a hub, and unlock the iPhone.",
	},
	engine.StateUnstable: {
		Title: "{name} keeps disconnecting",
		Body:  "Try another cable, or another USB port on the computer itself.",
	},
	engine.StateRecovery: {
		Title: "{name} is in recovery mode",
		Body:  "Restart it normally, or restore it with Finder, iTunes or Apple Devices.",
	},
	engine.StateServiceUnavailable: {
		Title: "The Apple device service is not running",
		Body:  "{name} is plugged in, but usbmuxd (Apple Mobile Device Service on Windows) cannot be reached. Install or start it.",
	},
	engine.StateError: {
		Title: "trustwatch could not check {name}",
		Body:  "Unplug it and plug it in again. If that does not help, open the guide from the trustwatch menu.",
	},
	engine.StateReady: {
		Title: "{name} is ready",
		Body:  "It trusts this computer and is unlocked: syncing, backups and photo import work now.",
		When:  "after a lock or connection problem resolves",
	},
}

// resolvedTrust is the quiet notice after a trust problem (untrusted, pending,
// denied, revoked) ends in ready.
var resolvedTrust = Text{
	State: engine.StateReady,
	Title: "{name} now trusts this computer",
	Body:  "Syncing, backups and photo import work now.",
	When:  "after a trust problem resolves",
}

func init() {
	for s, t := range texts {
		t.State = s
		t.Anchor = s.Anchor()
		if t.When == "" {
			t.When = "on a change into this state"
		}
		texts[s] = t
	}
	resolvedTrust.Anchor = engine.StateReady.Anchor()
}

// TextFor returns the text for a change into state s. ok is false for states
// that are never notified (probing, unknown strings).
func TextFor(s engine.State) (t Text, ok bool) {
	t, ok = texts[s]
	return t, ok
}

// ResolvedText is the quiet notice when a device becomes ready after the
// problem it was last notified about (prev).
func ResolvedText(prev engine.State) Text {
	if prev.TrustProblem() {
		return resolvedTrust
	}
	return texts[engine.StateReady]
}

// Texts lists every text in the contract's state order, the trust-resolved
// variant of ready right after ready, for docs and the closing note.
func Texts() []Text {
	var out []Text
	for _, s := range engine.AllStates {
		t, ok := texts[s]
		if !ok {
			continue
		}
		out = append(out, t)
		if s == engine.StateReady {
			out = append(out, resolvedTrust)
		}
	}
	return out
}
