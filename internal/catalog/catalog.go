// Package catalog holds the words trustwatch shows people, per language,
// embedded in the binary: messages/<lang>.toml, one file per language.
// Adding a language is adding a file (and its guide, guide/content/<lang>/);
// no Go code names the languages.
//
// It uses go-i18n v2 rather than golang.org/x/text/message: go-i18n reads
// plain TOML files at start, with CLDR plural rules for every language
// (Russian one/few/many), so a translator edits one file and nothing is
// generated; x/text/message's catalogs are Go code produced by gotext,
// which makes every new language or changed string a code change and a
// generator run.
package catalog

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/BurntSushi/toml"
	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"

	"github.com/trustwatch/trustwatch/internal/lang"
)

//go:embed messages/*.toml
var files embed.FS

type loaded struct {
	bundle *goi18n.Bundle
	langs  []string
	ids    map[string][]string // language → message ids, sorted
}

// load parses the embedded files once. They are part of the binary, so an
// error is a defect the tests catch; Words then degrade to the message id.
var load = sync.OnceValues(func() (*loaded, error) { return loadFS(files) })

// loadFS reads every messages/*.toml of fsys: the languages are whatever
// files are there.
func loadFS(fsys fs.FS) (*loaded, error) {
	b := goi18n.NewBundle(language.English)
	b.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	entries, err := fs.ReadDir(fsys, "messages")
	if err != nil {
		return nil, err
	}
	l := &loaded{bundle: b, ids: map[string][]string{}}
	for _, e := range entries {
		if path.Ext(e.Name()) != ".toml" {
			continue
		}
		mf, err := b.LoadMessageFileFS(fsys, path.Join("messages", e.Name()))
		if err != nil {
			return nil, fmt.Errorf("catalog %s: %w", e.Name(), err)
		}
		tag := strings.TrimSuffix(e.Name(), ".toml")
		if base, _ := mf.Tag.Base(); base.String() != tag {
			return nil, fmt.Errorf("catalog %s: file name must be a base language code", e.Name())
		}
		l.langs = append(l.langs, tag)
		for _, m := range mf.Messages {
			l.ids[tag] = append(l.ids[tag], m.ID)
		}
		sort.Strings(l.ids[tag])
	}
	sort.Slice(l.langs, func(i, j int) bool { // English first, then by code
		return l.langs[i] == lang.Default || (l.langs[j] != lang.Default && l.langs[i] < l.langs[j])
	})
	return l, nil
}

// Languages are the languages the catalog has, English first.
func Languages() []string {
	l, err := load()
	if err != nil {
		return []string{lang.Default}
	}
	return append([]string(nil), l.langs...)
}

// Words speaks one language. The zero value speaks English.
type Words struct {
	tag string
	loc *goi18n.Localizer
}

// In is the catalog in language tag (falling back message by message to
// English, which the tests keep from happening).
func In(tag string) Words {
	l, err := load()
	if err != nil {
		return Words{tag: tag}
	}
	return Words{tag: tag, loc: goi18n.NewLocalizer(l.bundle, tag, lang.Default)}
}

// Current is the catalog in the process's language (lang.Current).
func Current() Words { return In(lang.Current().Tag) }

// Lang is the language these Words speak.
func (w Words) Lang() string {
	if w.tag == "" {
		return lang.Default
	}
	return w.tag
}

// T is message id filled with data (a map or struct for its {{.Fields}}).
func (w Words) T(id string, data any) string {
	return w.localize(&goi18n.LocalizeConfig{MessageID: id, TemplateData: data})
}

// N is message id in the plural form for count; {{.Count}} is count unless
// data says otherwise.
func (w Words) N(id string, count int, data map[string]any) string {
	d := map[string]any{"Count": count}
	for k, v := range data {
		d[k] = v
	}
	return w.localize(&goi18n.LocalizeConfig{MessageID: id, PluralCount: count, TemplateData: d})
}

func (w Words) localize(c *goi18n.LocalizeConfig) string {
	if w.loc == nil {
		if w.tag != "" {
			return c.MessageID
		}
		w = In(lang.Default)
		if w.loc == nil {
			return c.MessageID
		}
	}
	s, err := w.loc.Localize(c)
	if err != nil || s == "" {
		return c.MessageID // a missing message shows its id: visible, and caught by the tests
	}
	return s
}

// IDs are the message ids of a language's file, sorted (for the tests and
// the message count).
func IDs(tag string) []string {
	l, err := load()
	if err != nil {
		return nil
	}
	return append([]string(nil), l.ids[tag]...)
}

// Source is the raw file of a language, for tests that compare
// placeholders and plural forms across languages.
func Source(tag string) ([]byte, error) {
	return files.ReadFile(path.Join("messages", tag+".toml"))
}

// LoadError is the error loading the embedded catalog gave, if any.
func LoadError() error {
	_, err := load()
	return err
}
