// Package say gives the engine's identifiers their words in one language:
// a state's name for menus and lists, the advice the engine chose for a
// device, and usbmuxd's state. The engine decides; say only renders, from
// internal/catalog.
package say

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/trustwatch/trustwatch/internal/catalog"
	"github.com/trustwatch/trustwatch/watcher/engine"
)

// English is what the JSON output and the logs speak, whatever the
// user's language.
var English = catalog.In("en")

// StateWords is s in a few words ("waiting for Trust", «ждёт нажатия
// «Доверять»»); an unknown state is shown as it is spelled.
func StateWords(w catalog.Words, s engine.State) string {
	if !s.Known() {
		return string(s)
	}
	return w.T("state."+string(s)+".words", nil)
}

// StateSummary is s's default advice: one sentence, what is wrong and what
// to do.
func StateSummary(w catalog.Words, s engine.State) string {
	return Advice(w, engine.StateAdvice(s))
}

// Summary is the advice for one device: the one the engine chose (why
// usbmuxd cannot be reached, a Windows driver problem), else its state's.
func Summary(w catalog.Words, d engine.Device) string {
	if d.Advice.IsZero() {
		return StateSummary(w, d.State)
	}
	return Advice(w, d.Advice)
}

// Advice is a in words: its message filled with its arguments, the
// messages its Clause, Next and Then name said first (with the same
// arguments). "" for no advice.
func Advice(w catalog.Words, a engine.Advice) string {
	if a.IsZero() {
		return ""
	}
	g := a.Args
	data := map[string]any{
		"Service": g.Service, "Command": g.Command, "Restart": g.Restart, "Path": g.Path,
		"Mode": g.Mode, "Variable": g.Variable, "Console": g.Console, "App": g.App,
		"State": g.State, "Code": g.Code, "Mbps": g.Mbps,
	}
	part := func(id string) string {
		if id == "" {
			return ""
		}
		return w.T(id, data)
	}
	data["Then"] = part(g.Then) // a last step, inside the next one
	data["Clause"], data["Next"] = part(g.Clause), part(g.Next)
	return w.T(a.ID, data)
}

// MuxHeadline is what is the matter with usbmuxd ("usbmuxd is not
// installed"); "" before anything is known. The message is also a clause
// inside a sentence (mux.device), so it begins with a small letter where
// the language wants one there («служба usbmuxd не запущена»): a headline
// starts with a capital, unless it starts with the service's name as it
// is spelled.
func MuxHeadline(w catalog.Words, t engine.MuxText) string {
	h := Advice(w, t.Headline)
	if h == "" || (t.Headline.Args.Service != "" && strings.HasPrefix(h, t.Headline.Args.Service)) {
		return h
	}
	r, n := utf8.DecodeRuneInString(h)
	return string(unicode.ToUpper(r)) + h[n:]
}

// MuxNext is the next step about usbmuxd; "" when there is nothing to do.
func MuxNext(w catalog.Words, t engine.MuxText) string { return Advice(w, t.Next) }

// MuxLine is the headline and the next step as one text, for status and
// scripts (JSON's usbmux "advice" is its English).
func MuxLine(w catalog.Words, t engine.MuxText) string {
	h, n := MuxHeadline(w, t), MuxNext(w, t)
	if n == "" {
		return h
	}
	return h + ". " + n
}

// MuxAdvice is the JSON output's usbmux "advice": English, and only while
// usbmuxd cannot be reached.
func MuxAdvice(u engine.Usbmux) string {
	if u.Reachable {
		return ""
	}
	return MuxLine(English, u.Text)
}
