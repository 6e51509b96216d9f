// Package catalog holds the words trustwatch shows people, per language,
// embedded in the binary: messages/<lang>/<area>.toml, one directory per
// language and one file per area of the product (tray, notify, cli…), so
// areas are edited apart. Adding a language is adding a directory (and its
// guide, guide/content/<lang>/); no Go code names the languages.
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
	"sync"

	"github.com/BurntSushi/toml"
	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"

	"github.com/trustwatch/trustwatch/internal/lang"
)

//go:embed messages
var files embed.FS

type loaded struct {
	bundle *goi18n.Bundle
	langs  []string
	ids    map[string][]string // language → message ids, sorted
}

// load parses the embedded files once. They are part of the binary, so an
// error is a defect the tests catch; Words then degrade to the message id.
var load = sync.OnceValues(func() (*loaded, error) { return loadFS(files) })

// loadFS reads every messages/<lang>/*.toml of fsys: the languages are
// whatever directories are there.
func loadFS(fsys fs.FS) (*loaded, error) {
	b := goi18n.NewBundle(language.English)
	b.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	dirs, err := fs.ReadDir(fsys, "messages")
	if err != nil {
		return nil, err
	}
	l := &loaded{bundle: b, ids: map[string][]string{}}
	for _, d := range dirs {
		tag := d.Name()
		if !d.IsDir() {
			return nil, fmt.Errorf("catalog: messages/%s: want one directory per language", tag)
		}
		if t, err := language.Parse(tag); err != nil || t.String() != tag {
			return nil, fmt.Errorf("catalog: messages/%s: directory name must be a base language code", tag)
		}
		seen := map[string]string{} // id → file, so an id is defined once
		files, err := fs.Glob(fsys, path.Join("messages", tag, "*.toml"))
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			data, err := fs.ReadFile(fsys, f)
			if err != nil {
				return nil, err
			}
			// go-i18n takes the language from the file name, so each
			// area file is handed over as <lang>.toml.
			mf, err := b.ParseMessageFileBytes(data, tag+".toml")
			if err != nil {
				return nil, fmt.Errorf("catalog %s: %w", f, err)
			}
			for _, m := range mf.Messages {
				if seen[m.ID] != "" {
					return nil, fmt.Errorf("catalog %s: %q is already in %s", f, m.ID, seen[m.ID])
				}
				seen[m.ID] = f
				l.ids[tag] = append(l.ids[tag], m.ID)
			}
		}
		l.langs = append(l.langs, tag)
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
	// reshape, when set, is applied to every rendered message (Reshaped).
	reshape func(string) string
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
	s := w.render(c)
	if w.reshape != nil {
		return w.reshape(s)
	}
	return s
}

func (w Words) render(c *goi18n.LocalizeConfig) string {
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

// Source is a language's files as written, joined (message ids are unique
// across a language's files, so the join is one valid TOML document), for
// tests that compare placeholders and plural forms across languages.
func Source(tag string) ([]byte, error) {
	return source(files, tag)
}

func source(fsys fs.FS, tag string) ([]byte, error) {
	names, err := fs.Glob(fsys, path.Join("messages", tag, "*.toml"))
	if err != nil || len(names) == 0 {
		return nil, fmt.Errorf("catalog: no messages for %q", tag)
	}
	var out []byte
	for _, n := range names {
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, err
		}
		out = append(append(out, b...), '\n')
	}
	return out, nil
}

// LoadError is the error loading the embedded catalog gave, if any.
func LoadError() error {
	_, err := load()
	return err
}
