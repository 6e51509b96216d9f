package notify

import (
	"strings"
	"testing"

	"github.com/trustwatch/trustwatch/internal/say"
	"github.com/trustwatch/trustwatch/watcher/engine"
)

func TestEveryStateThatNeedsTheUserHasAText(t *testing.T) {
	for _, s := range engine.AllStates {
		tx, ok := TextFor(s)
		if s.NeedsUser() != (ok && s != engine.StateReady) && s != engine.StateReady {
			t.Errorf("%s: NeedsUser=%v but has text=%v", s, s.NeedsUser(), ok)
		}
		if !ok {
			continue
		}
		if tx.State != s || tx.Anchor != s.Anchor() || tx.Anchor == "" {
			t.Errorf("%s: state %q anchor %q (engine says %q)", s, tx.State, tx.Anchor, s.Anchor())
		}
		title, body := tx.Render(say.English, "Anna's iPhone")
		if strings.Contains(title+body, "{") || strings.Contains(title+body, "notify.") || !strings.Contains(title+body, "Anna's iPhone") {
			t.Errorf("%s: rendered %q / %q", s, title, body)
		}
		if !strings.HasSuffix(body, ".") {
			t.Errorf("%s: body is not a sentence: %q", s, body)
		}
	}
	if _, ok := TextFor(engine.StateProbing); ok {
		t.Error("probing must never be notified")
	}
	if _, ok := TextFor("nonsense"); ok {
		t.Error("unknown state has a text")
	}
}

func TestTextsListsEveryRowOnce(t *testing.T) {
	all := Texts()
	if len(all) != len(engine.AllStates)-1+1 { // minus probing, plus resolved-trust
		t.Fatalf("%d texts", len(all))
	}
	seen := map[string]bool{}
	for _, tx := range all {
		title, body := tx.Render(say.English, "X")
		if seen[title+body] {
			t.Errorf("duplicate text %q %q", title, body)
		}
		seen[title+body] = true
		if tx.When == "" {
			t.Errorf("%s: no When", tx.State)
		}
	}
	if all[0].State != engine.StateReady || all[1] != ResolvedText(engine.StateTrustPending) {
		t.Errorf("ready rows first, got %+v %+v", all[0], all[1])
	}
}

func TestResolvedText(t *testing.T) {
	if got, _ := ResolvedText(engine.StateTrustPending).Render(say.English, "X"); got != "X now trusts this computer" {
		t.Error(got)
	}
	if got, _ := ResolvedText(engine.StateNoData).Render(say.English, "X"); got != "X is ready" {
		t.Error(got)
	}
}
