// Package say gives the engine's identifiers their words in one language:
// a state's name for menus and lists, and the advice the engine chose for a
// device. The engine decides; say only renders, from internal/catalog.
package say

import (
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
	if !s.Known() {
		return ""
	}
	return w.T("state."+string(s)+".summary", nil)
}

// Summary is the advice for one device. The engine composes a more precise
// sentence in a few cases (why usbmuxd cannot be reached, a Windows driver
// problem); those are still English and are shown as they are.
func Summary(w catalog.Words, d engine.Device) string {
	if d.Summary != "" && d.Summary != d.State.Summary() {
		return d.Summary
	}
	return StateSummary(w, d.State)
}
