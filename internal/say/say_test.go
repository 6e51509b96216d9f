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
	d := engine.Device{State: engine.StateTrustPending, Advice: engine.StateAdvice(engine.StateTrustPending)}
	if got := Summary(ru, d); !strings.Contains(got, "«Доверять»") {
		t.Errorf("Russian summary %q", got)
	}
	// The contract's example, word for word.
	if got, want := Summary(English, d), "Tap Trust on your iPhone, then enter its passcode."; got != want {
		t.Errorf("English summary %q, want %q", got, want)
	}
	// A device without advice of its own says its state's.
	if got := Summary(ru, engine.Device{State: engine.StateTrustPending}); got != StateSummary(ru, engine.StateTrustPending) {
		t.Errorf("no advice: %q", got)
	}
	if got := StateWords(ru, "no-such-state"); got != "no-such-state" {
		t.Errorf("unknown state: %q", got)
	}
	if got := Summary(ru, engine.Device{State: "no-such-state"}); got != "" {
		t.Errorf("unknown state's advice: %q", got)
	}
}

// The slow-link hint carries its speed into every language, and English
// keeps the sentence the JSON's link_speed has always had.
func TestLinkSpeedHint(t *testing.T) {
	a := engine.Advice{ID: "usb.link_slow", Args: engine.Args{Mbps: 12}}
	want := "The USB link runs at 12 Mb/s, below high speed (480 Mb/s): the cable or port may be worn; try another cable or a port on the computer itself."
	if got := Advice(English, a); got != want {
		t.Errorf("English: %q", got)
	}
	ru := Advice(catalog.In("ru"), a)
	if !strings.Contains(ru, "12 Мбит/с") || len(catalogtest.StrayLatin(ru)) > 0 {
		t.Errorf("Russian: %q", ru)
	}
}
