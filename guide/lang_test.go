package guide

import (
	"bytes"
	"github.com/trustwatch/trustwatch/internal/catalog/catalogtest"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/trustwatch/trustwatch/internal/catalog"
	"github.com/trustwatch/trustwatch/internal/lang"
)

// Every language of the guide is a language of the catalog and the other
// way round: a new language is a messages file and a guide folder.
func TestGuideLanguagesMatchCatalog(t *testing.T) {
	if g, c := Languages(), catalog.Languages(); !slices.Equal(g, c) {
		t.Errorf("guide languages %v, catalog languages %v", g, c)
	}
}

// Anchors are the same, in the same order and at the same heading levels,
// in every language, so a link from the tray, a notification or the
// language switch lands on the same section.
func TestSameAnchorsInEveryLanguage(t *testing.T) {
	en, err := loadIn("en")
	if err != nil {
		t.Fatal(err)
	}
	for _, tag := range Languages() {
		p, err := loadIn(tag)
		if err != nil {
			t.Fatalf("%s: %v", tag, err)
		}
		if p.lang != tag {
			t.Fatalf("loadIn(%s) gave the %s guide", tag, p.lang)
		}
		if len(p.sections) != len(en.sections) {
			t.Errorf("%s has %d sections, English %d", tag, len(p.sections), len(en.sections))
			continue
		}
		for i, s := range p.sections {
			if s.id != en.sections[i].id || s.level != en.sections[i].level {
				t.Errorf("%s section %d is %s (level %d), English has %s (level %d)", tag, i, s.id, s.level, en.sections[i].id, en.sections[i].level)
			}
		}
		if strings.Count(string(p.html), "<svg ") != strings.Count(string(en.html), "<svg ") {
			t.Errorf("%s has a different number of drawings than English", tag)
		}
		if !strings.Contains(string(p.html), `<html lang="`+tag+`">`) {
			t.Errorf("%s page does not declare its language", tag)
		}
	}
}

// The package-level functions follow the process's language; a language
// the guide lacks gives English.
func TestGuideFollowsLanguage(t *testing.T) {
	defer lang.Set(lang.Current())
	lang.Set(lang.Choice{Tag: "ru", Source: "test"})
	if got := Title("step-6"); got != "Шаг 6. Сбросьте доверие" {
		t.Errorf("ru Title(step-6) = %q", got)
	}
	if txt, err := Text("step-3"); err != nil || !strings.Contains(txt, "[Рисунок: Нажмите «Доверять»") {
		t.Errorf("ru Text(step-3) = %q, %v", txt, err)
	}
	if PageName("ru") != "guide.ru.html" || PageName("en") != "guide.html" || PageName("xx") != "guide.html" {
		t.Error("PageName")
	}
	lang.Set(lang.Choice{Tag: "de", Source: "test"})
	if got := Title("step-6"); got != "Step 6: Reset the trust" {
		t.Errorf("de (no guide) Title(step-6) = %q, want English", got)
	}
}

// Apple's own Russian words, where the reader must find them on the iPhone.
func TestRussianUsesApplesWords(t *testing.T) {
	txt, err := TextIn("ru", "")
	if err != nil {
		t.Fatal(err)
	}
	page := string(HTMLIn("ru"))
	txt = strings.Join(strings.Fields(txt), " ")
	for _, w := range []string{
		"«Доверять этому компьютеру?»", "«Доверять»", "«Не доверять»",
		"Настройки ▸ Основные ▸ Перенос или сброс iPhone ▸ Сброс", "«Сбросить геонастройки»",
		"Сброс ▸ Сбросить настройки сети", "Настройки ▸ Основные ▸ Обновление ПО",
		"«Стереть контент и настройки»",
	} {
		if !strings.Contains(txt, w) {
			t.Errorf("the Russian guide lacks %q", w)
		}
	}
	for _, w := range []string{">Сбросить геонастройки<", ">Перенос или сброс iPhone<", ">Доверять<", ">Не доверять<", ">Сброс<", ">Основные<", ">Настройки<"} {
		if !strings.Contains(page, w) {
			t.Errorf("the Russian drawings lack the label %q", w)
		}
	}
}

// commands are typed as they are, also where a drawing shows them.
var commands = strings.NewReplacer("trustwatch fix", "trustwatch", "\u2011", "-") // and USB‑C's non-breaking hyphen

// visibleText is what a reader sees on the page: every text node outside
// <code>, <style> and <script> (commands, paths and file names stay as
// they are typed), plus attribute text people meet (aria-label, title).
func visibleText(t *testing.T, page []byte) string {
	t.Helper()
	root, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "code", "style", "script":
				return
			}
			for _, a := range n.Attr {
				if a.Key == "aria-label" || a.Key == "title" {
					b.WriteString(a.Val + "\n")
				}
			}
			if n.Data == "nav" && hasClass(n, "langs") {
				return // each language names itself in its own script
			}
		}
		if n.Type == html.TextNode {
			b.WriteString(n.Data + "\n")
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(root)
	return b.String()
}

func hasClass(n *html.Node, class string) bool {
	for _, a := range n.Attr {
		if a.Key == "class" && slices.Contains(strings.Fields(a.Val), class) {
			return true
		}
	}
	return false
}

// The Russian page — text, headings, drawings' labels, captions, the page
// around them — has no English left in it: every Latin word is a name on
// the allowed list. (The catalog's own test holds its Russian messages to
// the same rule.)
func TestRussianHasNoEnglish(t *testing.T) {
	check := func(where, text string) {
		text = commands.Replace(text)
		for _, w := range catalogtest.StrayLatin(text) {
			i := strings.Index(text, w)
			t.Errorf("%s: Latin word %q in %q", where, w, text[max(0, i-40):min(len(text), i+40)])
		}
	}
	check("guide.ru.html", visibleText(t, HTMLIn("ru")))
	// The check can fail: English text is caught.
	if n := catalogtest.LatinWords(visibleText(t, HTMLIn("en"))); n < 1000 {
		t.Errorf("the English page yields only %d Latin words; the check is blind", n)
	}
}

// `trustwatch guide` opens the page in the user's language: Open writes
// every language's page and opens the one in the process's language.
func TestOpenInUsersLanguage(t *testing.T) {
	defer lang.Set(lang.Current())
	withCache(t)
	opened := recordOpener(t, nil)
	lang.Set(lang.Choice{Tag: "ru", Source: "test"})
	if err := Open("step-3"); err != nil {
		t.Fatal(err)
	}
	lang.Set(lang.Choice{Tag: "en", Source: "test"})
	if err := Open("step-3"); err != nil {
		t.Fatal(err)
	}
	if len(*opened) != 2 || !strings.HasSuffix((*opened)[0], "/trustwatch/guide.ru.html#step-3") || !strings.HasSuffix((*opened)[1], "/trustwatch/guide.html#step-3") {
		t.Errorf("opened %q", *opened)
	}
}
