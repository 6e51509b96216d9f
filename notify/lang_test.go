package notify

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/trustwatch/trustwatch/internal/catalog"
	"github.com/trustwatch/trustwatch/internal/catalog/catalogtest"
	"github.com/trustwatch/trustwatch/watcher/engine"
)

// leakedID is a message id shown instead of its words.
var leakedID = regexp.MustCompile(`\b(tray|notify|state|say|cli|guide)\.[a-z_-]+(\.[a-z_-]+)*\b`)

// phones are n "key=state/iPhone" entries, all in state s.
func phones(n int, s engine.State) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("p%02d=%s/iPhone", i, s))
	}
	return out
}

// everyMessage drives a Core speaking w through every kind of message it
// composes: each state's own bubble, the quiet ready and trust-resolved
// notices, bubbles about several phones (n of them, problems and ready),
// and the answers to Fix trust and Forget; plus the guide notice and the
// buttons. It returns them as the sender gets them.
func everyMessage(t *testing.T, w catalog.Words, n int) []Message {
	t.Helper()
	var steps [][]step
	for _, s := range engine.AllStates {
		if _, ok := TextFor(s); ok && s != engine.StateReady {
			steps = append(steps, []step{at(0, "k="+string(s)+"/iPhone")})
		}
	}
	steps = append(steps,
		[]step{at(0, "k=no-data/iPhone"), at(time.Minute, "k=ready/iPhone")},       // ready
		[]step{at(0, "k=trust-pending/iPhone"), at(time.Minute, "k=ready/iPhone")}, // trust resolved
		[]step{at(0, phones(n, engine.StateTrustPending)...), at(time.Minute, phones(n, engine.StateReady)...)},
		[]step{at(0, "k=trust-revoked/iPhone"), act(time.Minute, func(c *Core, now time.Time) { c.FixTrustClicked("k", now) })},
		[]step{at(0, "k=ready/iPhone"), act(time.Minute, func(c *Core, now time.Time) { c.Forgot("k", now) })},
	)
	var out []Message
	for _, st := range steps {
		for _, op := range playIn(t, w, st, 2*time.Minute) {
			if !op.Withdraw {
				out = append(out, op.Message)
			}
		}
	}
	title, body := GuideUnavailable(w, "step-3")
	out = append(out, Message{Title: title, Body: body, Buttons: Buttons(w)})
	return out
}

// Every notification in every language: no empty title or body, no
// message id, no English in Russian; the buttons too.
func TestNotificationsInEveryLanguage(t *testing.T) {
	allowed := []string{"trustwatch", "guide", "step-3", "print"} // the command in the guide notice
	for _, tag := range catalog.Languages() {
		t.Run(tag, func(t *testing.T) {
			w := catalog.In(tag)
			msgs := everyMessage(t, w, 7)
			if len(msgs) < 18 {
				t.Fatalf("only %d messages", len(msgs))
			}
			for _, m := range msgs {
				for what, s := range map[string]string{"title": m.Title, "body": m.Body, "How to fix": m.Buttons.HowToFix, "Fix trust": m.Buttons.FixTrust} {
					if strings.TrimSpace(s) == "" {
						t.Errorf("%s %s empty in %+v", tag, what, m)
					}
					if id := leakedID.FindString(s); id != "" {
						t.Errorf("%s %s: message id %q in %q", tag, what, id, s)
					}
					if tag == "ru" {
						if ws := catalogtest.StrayLatin(s, allowed...); len(ws) > 0 {
							t.Errorf("ru %s: Latin words %q in %q", what, ws, s)
						}
					}
				}
			}
		})
	}
	en := 0
	for _, m := range everyMessage(t, catalog.In("en"), 7) {
		en += len(catalogtest.StrayLatin(m.Title + " " + m.Body))
	}
	if en < 100 {
		t.Errorf("English notifications yield only %d stray words: the check is blind", en)
	}
}

// English stays as it was, word for word: the catalog changed where the
// words live, not what they say.
func TestEnglishNotificationsUnchanged(t *testing.T) {
	msgs := everyMessage(t, catalog.In("en"), 7)
	var got []string
	for _, m := range msgs {
		got = append(got, m.Title+" | "+m.Body)
	}
	for _, want := range []string{
		"iPhone is locked | Unlock it to use it with this computer.",
		"iPhone does not trust this computer | Unlock it and tap Trust when it asks \"Trust This Computer?\".",
		"\"Don't Trust\" was tapped on iPhone | Unplug it and plug it in again to get the question back, then tap Trust.",
		"The Apple device service is not running | iPhone is plugged in, but usbmuxd (Apple Mobile Device Service on Windows) cannot be reached. Install or start it.",
		"trustwatch could not check iPhone | Unplug it and plug it in again. If that does not help, open the guide from the trustwatch menu.",
		"iPhone is ready | It trusts this computer and is unlocked: syncing, backups and photo import work now.",
		"iPhone now trusts this computer | Syncing, backups and photo import work now.",
		"7 iPhones need attention | iPhone: waiting for Trust\niPhone: waiting for Trust\niPhone: waiting for Trust\niPhone: waiting for Trust\niPhone: waiting for Trust\n…and 2 more.\nOpen the trustwatch menu to see what to do for each.",
		"7 iPhones are ready | iPhone: ready\niPhone: ready\niPhone: ready\niPhone: ready\niPhone: ready\n…and 2 more.",
		"Check your iPhone — tap Trust | iPhone should now ask \"Trust This Computer?\". Tap Trust, then enter its passcode.",
		"Pairing forgotten | iPhone will ask to trust this computer the next time it is plugged in.",
		"Could not open the guide | No browser could be started. Read the same steps in a terminal: trustwatch guide step-3 --print",
	} {
		if !contains(got, want) {
			t.Errorf("no %q among\n%s", want, strings.Join(got, "\n"))
		}
	}
	if b := msgs[0].Buttons; b.HowToFix != ActionHowToFixLabel || b.FixTrust != ActionFixTrustLabel {
		t.Errorf("English buttons %+v", b)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// The bubble about several phones counts them in each language's plural
// forms: 0, 1, 2, 5, 11, 21, 22, 25 phones.
func TestGroupBubblePlurals(t *testing.T) {
	want := map[string]map[int]string{
		"en": {0: "0 iPhones need attention", 1: "1 iPhone needs attention", 2: "2 iPhones need attention", 5: "5 iPhones need attention",
			11: "11 iPhones need attention", 21: "21 iPhones need attention", 22: "22 iPhones need attention", 25: "25 iPhones need attention"},
		"ru": {0: "0 iPhone требуют внимания", 1: "1 iPhone требует внимания", 2: "2 iPhone требуют внимания", 5: "5 iPhone требуют внимания",
			11: "11 iPhone требуют внимания", 21: "21 iPhone требует внимания", 22: "22 iPhone требуют внимания", 25: "25 iPhone требуют внимания"},
	}
	ready := map[string]map[int]string{
		"en": {2: "2 iPhones are ready", 5: "5 iPhones are ready", 11: "11 iPhones are ready", 21: "21 iPhones are ready", 22: "22 iPhones are ready", 25: "25 iPhones are ready"},
		"ru": {2: "2 iPhone готовы к работе", 5: "5 iPhone готовы к работе", 11: "11 iPhone готовы к работе", 21: "21 iPhone готов к работе", 22: "22 iPhone готовы к работе", 25: "25 iPhone готовы к работе"},
	}
	more := map[string]map[int]string{"en": {6: "…and 1 more.", 7: "…and 2 more.", 10: "…and 5 more."}, "ru": {6: "…и ещё 1.", 7: "…и ещё 2.", 10: "…и ещё 5."}}
	for tag, counts := range want {
		w := catalog.In(tag)
		for n, title := range counts {
			if n < 2 { // a bubble about one phone is that phone's own
				if got := w.N("notify.group.need_attention", n, nil); got != title {
					t.Errorf("%s %d: %q, want %q", tag, n, got, title)
				}
				continue
			}
			ops := playIn(t, w, []step{at(0, phones(n, engine.StateTrustPending)...), at(time.Minute, phones(n, engine.StateReady)...)}, 2*time.Minute)
			if len(ops) != 2 || ops[0].Message.Title != title || ops[1].Message.Title != ready[tag][n] {
				t.Errorf("%s, %d phones: %q, want %q then %q", tag, n, lines(ops), title, ready[tag][n])
			}
		}
		for n, line := range more[tag] {
			ops := playIn(t, w, []step{at(0, phones(n, engine.StateTrustPending)...)}, time.Minute)
			if len(ops) != 1 || !strings.Contains(ops[0].Message.Body, "\n"+line+"\n") {
				t.Errorf("%s, %d phones: body %q lacks %q", tag, n, ops[0].Message.Body, line)
			}
		}
	}
}
