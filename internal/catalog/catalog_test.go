package catalog

import (
	"github.com/trustwatch/trustwatch/internal/catalog/catalogtest"
	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/BurntSushi/toml"
	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
)

func TestLoads(t *testing.T) {
	if err := LoadError(); err != nil {
		t.Fatal(err)
	}
	langs := Languages()
	if len(langs) < 2 || langs[0] != "en" {
		t.Fatalf("Languages() = %v, want English first and at least one more", langs)
	}
	for _, l := range langs {
		t.Logf("%s: %d messages", l, len(IDs(l)))
	}
}

var placeholder = regexp.MustCompile(`\{\{\s*\.(\w+)\s*\}\}`)

// raw is one language's file as written: id → form → text.
func raw(t *testing.T, tag string) map[string]map[string]string {
	t.Helper()
	b, err := Source(tag)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]map[string]string
	if err := toml.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s.toml: %v", tag, err)
	}
	return m
}

func fields(s string) []string {
	set := map[string]bool{}
	for _, m := range placeholder.FindAllStringSubmatch(s, -1) {
		set[m[1]] = true
	}
	var out []string
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// pluralForms are the forms CLDR gives a language's cardinals: those its
// whole numbers take, and "other" (fractions, and the catch-all go-i18n
// falls back to). They come from x/text's CLDR tables, so a new language
// needs no entry here.
func pluralForms(tag string) ([]string, error) {
	t, err := language.Parse(tag)
	if err != nil {
		return nil, err
	}
	names := map[plural.Form]string{plural.Other: "other", plural.Zero: "zero", plural.One: "one",
		plural.Two: "two", plural.Few: "few", plural.Many: "many"}
	set := map[string]bool{"other": true}
	for n := 0; n <= 1000; n++ {
		set[names[plural.Cardinal.MatchPlural(t, n, 0, 0, 0, 0)]] = true
	}
	var out []string
	for f := range set {
		out = append(out, f)
	}
	sort.Strings(out)
	return out, nil
}

// The derivation gives the forms the languages we ship are known to have.
func TestPluralFormsFromCLDR(t *testing.T) {
	for tag, want := range map[string][]string{
		"en": {"one", "other"},
		"ru": {"few", "many", "one", "other"},
		"ar": {"few", "many", "one", "other", "two", "zero"},
		"ja": {"other"},
	} {
		if got, err := pluralForms(tag); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %v %v, want %v", tag, got, err, want)
		}
	}
}

// Every language has every message, with the same placeholders in every
// form, no empty text, and all of its plural forms where English has a
// plural.
func TestEveryMessageInEveryLanguage(t *testing.T) {
	en := raw(t, "en")
	for _, tag := range Languages() {
		m := raw(t, tag)
		if !reflect.DeepEqual(IDs(tag), IDs("en")) {
			t.Errorf("%s.toml ids differ from en.toml:\n got %v\nwant %v", tag, IDs(tag), IDs("en"))
		}
		forms, err := pluralForms(tag)
		if err != nil {
			t.Errorf("%s: %v", tag, err)
		}
		for id, enForms := range en {
			want := fields(enForms["other"])
			got := m[id]
			for form, text := range got {
				if form == "description" {
					continue
				}
				if strings.TrimSpace(text) == "" {
					t.Errorf("%s %s.%s is empty", tag, id, form)
				}
				if f := fields(text); !reflect.DeepEqual(f, want) {
					t.Errorf("%s %s.%s has placeholders %v, English has %v", tag, id, form, f, want)
				}
			}
			if _, plural := enForms["one"]; plural {
				for _, f := range forms {
					if got[f] == "" {
						t.Errorf("%s %s lacks plural form %q", tag, id, f)
					}
				}
			}
		}
	}
}

// Russian device counts: one for 1, 21; few for 2, 22; many for 0, 5, 11, 25.
func TestRussianPlurals(t *testing.T) {
	ru := In("ru")
	want := map[int]string{
		0:   "0 iPhone подключено",
		1:   "1 iPhone подключён",
		2:   "2 iPhone подключены",
		5:   "5 iPhone подключено",
		11:  "11 iPhone подключено",
		21:  "21 iPhone подключён",
		22:  "22 iPhone подключены",
		25:  "25 iPhone подключено",
		111: "111 iPhone подключено",
		101: "101 iPhone подключён",
	}
	for n, w := range want {
		if got := ru.N("tray.status.connected", n, nil); got != w {
			t.Errorf("ru %d: %q, want %q", n, got, w)
		}
	}
	need := map[int]string{1: "1 требует внимания", 2: "2 требуют внимания", 5: "5 требуют внимания", 21: "21 требует внимания"}
	for n, w := range need {
		if got := ru.N("tray.status.some_need_attention", n, nil); got != w {
			t.Errorf("ru need %d: %q, want %q", n, got, w)
		}
	}
	en := In("en")
	for n, w := range map[int]string{0: "0 iPhones connected", 1: "1 iPhone connected", 2: "2 iPhones connected", 21: "21 iPhones connected"} {
		if got := en.N("tray.status.connected", n, nil); got != w {
			t.Errorf("en %d: %q, want %q", n, got, w)
		}
	}
}

// A language the catalog does not have speaks English; a missing id shows
// itself rather than an empty string.
func TestFallbacks(t *testing.T) {
	if got := In("xx").T("tray.status.none", nil); got != "No iPhone connected" {
		t.Errorf("unknown language: %q", got)
	}
	if got := (Words{}).T("tray.status.none", nil); got != "No iPhone connected" {
		t.Errorf("zero Words: %q", got)
	}
	if got := In("ru").T("no.such.id", nil); got != "no.such.id" {
		t.Errorf("missing id: %q", got)
	}
}

// A third language is a directory: the loader takes whatever
// messages/<lang>/ holds. Add a German one beside the real ones and speak it.
func TestThirdLanguageIsADirectory(t *testing.T) {
	fsys := fstest.MapFS{
		"messages/de/tray.toml": {Data: []byte("[\"tray.status.connected\"]\none = \"{{.Count}} iPhone verbunden\"\nother = \"{{.Count}} iPhones verbunden\"\n")},
	}
	for _, tag := range Languages() {
		b, err := Source(tag)
		if err != nil {
			t.Fatal(err)
		}
		fsys["messages/"+tag+"/all.toml"] = &fstest.MapFile{Data: b}
	}
	l, err := openShelf(fsys)
	if err != nil {
		t.Fatal(err)
	}
	if want := append(Languages(), "de"); len(l.langs) != len(want) || l.langs[1] != "de" {
		t.Errorf("languages %v, want en, de, then the rest", l.langs)
	}
	loc := l.localizer("de")
	got, err := loc.Localize(&goi18n.LocalizeConfig{MessageID: "tray.status.connected", PluralCount: 3, TemplateData: map[string]any{"Count": 3}})
	if err != nil || got != "3 iPhones verbunden" {
		t.Errorf("de: %q, %v", got, err)
	}
}

// An id defined in two files of one language is refused: which one wins
// would depend on file order.
func TestDuplicateIDRefused(t *testing.T) {
	msg := []byte("[\"tray.status.none\"]\nother = \"x\"\n")
	l, err := openShelf(fstest.MapFS{
		"messages/en/a.toml": {Data: msg},
		"messages/en/b.toml": {Data: msg},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.book("en").err; err == nil || !strings.Contains(err.Error(), "already in") {
		t.Fatalf("reading en = %v, want a duplicate-id error", err)
	}
}

// Russian messages have no English left in them: every Latin word in every
// form, placeholders aside, is a name on the allowed list. Commands, paths
// and flags belong in placeholders, not in the text a translator edits.
func TestRussianHasNoEnglish(t *testing.T) {
	for id, forms := range raw(t, "ru") {
		if strings.HasPrefix(id, "cli.") {
			// The command line's words name the verbs, flags, anchors and
			// paths people type; TestEveryRussianCLIMessage (package main)
			// holds them to this rule with those allowed too.
			continue
		}
		for form, text := range forms {
			if form == "description" {
				continue
			}
			if ws := catalogtest.StrayLatin(placeholder.ReplaceAllString(text, "")); len(ws) > 0 {
				t.Errorf("ru %s (%s): Latin words %q in %q", id, form, ws, text)
			}
		}
	}
	// the check can fail: English is caught
	en := 0
	for _, forms := range raw(t, "en") {
		en += len(catalogtest.StrayLatin(forms["other"]))
	}
	if en < 50 {
		t.Errorf("English messages yield only %d stray words; the check is blind", en)
	}
}

// A process reads only the languages it speaks: English alone for an
// English user (the JSON output and the fallback need it anyway), English
// and the user's language otherwise.
func TestReadsOnlyWhatItSpeaks(t *testing.T) {
	s, err := openShelf(files)
	if err != nil {
		t.Fatal(err)
	}
	if s.localizer("en") == nil || len(s.books) != 1 {
		t.Fatalf("speaking English read %d languages", len(s.books))
	}
	if s.localizer("ru") == nil || len(s.books) != 2 {
		t.Fatalf("adding Russian read %d languages", len(s.books))
	}
	if s.localizer("xx") != nil || len(s.books) != 2 {
		t.Fatalf("an unknown language was read (%d books)", len(s.books))
	}
}
