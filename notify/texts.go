package notify

import (
	"github.com/trustwatch/trustwatch/internal/catalog"
	"github.com/trustwatch/trustwatch/watcher/engine"
)

// Text is what one notification says about one device in one state: its
// title and body as message ids of the catalog (notify.toml), filled with
// the phone's name ({{.Name}}). Anchor is the guide anchor the "How to fix"
// action opens (taken from the engine, the single source).
type Text struct {
	State  engine.State
	Title  string // message id
	Body   string // message id
	Anchor string
	// When says when this text is used, for the closing note and docs.
	When string
}

// Render is the text in w's language for the phone called name.
func (t Text) Render(w catalog.Words, name string) (title, body string) {
	data := textData(name)
	return w.T(t.Title, data), w.T(t.Body, data)
}

// textData is what a notification's message may fill in: the phone's name,
// and the device service's names (the service-unavailable body).
func textData(name string) map[string]any {
	return map[string]any{"Name": name, "Service": "usbmuxd", "WindowsService": "Apple Mobile Device Service"}
}

// notified are the states a change into which is told: every state that
// needs the user, and ready (the quiet notice after a problem). Probing is
// never told.
func notified(s engine.State) bool { return s.Known() && s.Final() }

// stateText is s's text: notify.<state>.title and .body.
func stateText(s engine.State) Text {
	return Text{State: s, Title: "notify." + string(s) + ".title", Body: "notify." + string(s) + ".body",
		Anchor: s.Anchor(), When: "on a change into this state"}
}

// resolvedTrust is the quiet notice after a trust problem (untrusted,
// pending, denied, revoked) ends in ready.
var resolvedTrust = Text{
	State: engine.StateReady, Title: "notify.trust-resolved.title", Body: "notify.trust-resolved.body",
	Anchor: engine.StateReady.Anchor(), When: "after a trust problem resolves",
}

// TextFor returns the text for a change into state s. ok is false for states
// that are never notified (probing, unknown strings).
func TextFor(s engine.State) (t Text, ok bool) {
	if !notified(s) {
		return Text{}, false
	}
	t = stateText(s)
	if s == engine.StateReady {
		t.When = "after a lock or connection problem resolves"
	}
	return t, true
}

// ResolvedText is the quiet notice when a device becomes ready after the
// problem it was last notified about (prev).
func ResolvedText(prev engine.State) Text {
	if prev.TrustProblem() {
		return resolvedTrust
	}
	t, _ := TextFor(engine.StateReady)
	return t
}

// Texts lists every text in the contract's state order, the trust-resolved
// variant of ready right after ready, for docs and the closing note.
func Texts() []Text {
	var out []Text
	for _, s := range engine.AllStates {
		t, ok := TextFor(s)
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

// ButtonLabels are a notification's buttons in the user's language; the
// backends fall back to English (ActionHowToFixLabel, ActionFixTrustLabel)
// for a message that carries none.
type ButtonLabels struct {
	HowToFix, FixTrust string
}

// Buttons are the button labels in w's language.
func Buttons(w catalog.Words) ButtonLabels {
	return ButtonLabels{HowToFix: w.T("notify.button.how_to_fix", nil), FixTrust: w.T("notify.button.fix_trust", nil)}
}

func (l ButtonLabels) howToFix() string { return or(l.HowToFix, ActionHowToFixLabel) }
func (l ButtonLabels) fixTrust() string { return or(l.FixTrust, ActionFixTrustLabel) }

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// GuideUnavailable is the notice shown when the guide cannot be opened.
func GuideUnavailable(w catalog.Words, anchor string) (title, body string) {
	cmd := "trustwatch guide --print"
	if anchor != "" {
		cmd = "trustwatch guide " + anchor + " --print"
	}
	return w.T("notify.guide_unavailable.title", nil), w.T("notify.guide_unavailable.body", map[string]any{"Command": cmd})
}

// Forgotten is the notice after "Forget this computer's pairing" for the
// phone called name (shown by the tray itself when there is no notifier).
func Forgotten(w catalog.Words, name string) (title, body string) {
	return Text{Title: ForgottenFeedback.Title, Body: ForgottenFeedback.Body}.Render(w, name)
}
