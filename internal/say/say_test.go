package say

import (
	"strings"
	"testing"

	"github.com/trustwatch/trustwatch/internal/catalog"
	"github.com/trustwatch/trustwatch/internal/catalog/catalogtest"
	"github.com/trustwatch/trustwatch/watcher/engine"
)

// Every state has words and advice in every language: not empty, not a
// message id, and different from English outside English.
func TestEveryStateInEveryLanguage(t *testing.T) {
	for _, tag := range catalog.Languages() {
		w := catalog.In(tag)
		for _, s := range engine.AllStates {
			for kind, text := range map[string]string{"words": StateWords(w, s), "summary": StateSummary(w, s)} {
				switch {
				case strings.TrimSpace(text) == "":
					t.Errorf("%s %s %s: empty", tag, s, kind)
				case strings.HasPrefix(text, "state."):
					t.Errorf("%s %s %s: message id %q shown", tag, s, kind, text)
				case tag != "en" && text == map[string]string{"words": StateWords(English, s), "summary": StateSummary(English, s)}[kind]:
					t.Errorf("%s %s %s: untranslated %q", tag, s, kind, text)
				}
				if tag == "ru" {
					if ws := catalogtest.StrayLatin(text); len(ws) > 0 {
						t.Errorf("ru %s %s: Latin words %q in %q", s, kind, ws, text)
					}
				}
			}
		}
	}
}

// The words the Russian guide uses for states are the tray's words.
func TestRussianWordsMatchTheGuide(t *testing.T) {
	ru := catalog.In("ru")
	for s, want := range map[engine.State]string{
		engine.StateReady:        "готов к работе",
		engine.StateTrustRevoked: "доверие сброшено",
	} {
		if got := StateWords(ru, s); got != want {
			t.Errorf("%s: %q, want the guide's %q", s, got, want)
		}
	}
}

func TestSummaryOfADevice(t *testing.T) {
	ru := catalog.In("ru")
	d := engine.Device{State: engine.StateTrustPending, Summary: engine.StateTrustPending.Summary()}
	if got := Summary(ru, d); !strings.Contains(got, "«Доверять»") {
		t.Errorf("Russian summary %q", got)
	}
	if got := Summary(English, d); got != engine.StateTrustPending.Summary() {
		t.Errorf("English summary %q, want the engine's %q", got, engine.StateTrustPending.Summary())
	}
	if got := StateWords(ru, "no-such-state"); got != "no-such-state" {
		t.Errorf("unknown state: %q", got)
	}
}

// Until the engine hands out only identifiers, its English and the
// catalog's must be the same words.
func TestEngineEnglishMatchesCatalog(t *testing.T) {
	for _, s := range engine.AllStates {
		if got, want := StateSummary(English, s), s.Summary(); got != want {
			t.Errorf("%s summary: catalog %q, engine %q", s, got, want)
		}
		if got, want := StateWords(English, s), s.Words(); got != want {
			t.Errorf("%s words: catalog %q, engine %q", s, got, want)
		}
	}
}
