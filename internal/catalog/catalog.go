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
	"slices"
	"sort"
	"sync"

	"github.com/BurntSushi/toml"
	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"

	"github.com/trustwatch/trustwatch/internal/lang"
)

//go:embed messages
var files embed.FS

// shelf is the catalog over a file system: the languages are read at once
// (the directory names), each language's messages on first use into a
// bundle of its own, so a process pays only for the languages it speaks —
// English (the JSON output, and the fallback) and the user's. A bundle is
// complete before any Localizer reads it, so loading another language
// later never races with one in use.
type shelf struct {
	fsys  fs.FS
	langs []string

	mu    sync.Mutex
	books map[string]*book
}

// book is one language's messages.
type book struct {
	loc *goi18n.Localizer // over the language's bundle, which never changes after read
	ids []string          // sorted
	err error
}

// embedded is the catalog built into the binary. Its files are part of
// the binary, so an error is a defect the tests catch; Words then degrade
// to the message id.
var embedded = sync.OnceValues(func() (*shelf, error) { return openShelf(files) })

// openShelf lists the languages of fsys: every directory of messages/.
func openShelf(fsys fs.FS) (*shelf, error) {
	dirs, err := fs.ReadDir(fsys, "messages")
	if err != nil {
		return nil, err
	}
	s := &shelf{fsys: fsys, books: map[string]*book{}}
	for _, d := range dirs {
		tag := d.Name()
		if !d.IsDir() {
			return nil, fmt.Errorf("catalog: messages/%s: want one directory per language", tag)
		}
		if t, err := language.Parse(tag); err != nil || t.String() != tag {
			return nil, fmt.Errorf("catalog: messages/%s: directory name must be a base language code", tag)
		}
		s.langs = append(s.langs, tag)
	}
	sort.Slice(s.langs, func(i, j int) bool { // English first, then by code
		return s.langs[i] == lang.Default || (s.langs[j] != lang.Default && s.langs[i] < s.langs[j])
	})
	return s, nil
}

// book is tag's messages, read on first use; nil for a language the shelf
// does not have.
func (s *shelf) book(tag string) *book {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.books[tag]; ok {
		return b
	}
	if !slices.Contains(s.langs, tag) {
		return nil
	}
	b := s.read(tag)
	s.books[tag] = b
	return b
}

// read parses every messages/<tag>/*.toml into one bundle.
func (s *shelf) read(tag string) *book {
	t, _ := language.Parse(tag)
	bundle := goi18n.NewBundle(t)
	bundle.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	bk := &book{}
	seen := map[string]string{} // id → file, so an id is defined once
	names, err := fs.Glob(s.fsys, path.Join("messages", tag, "*.toml"))
	if err != nil {
		bk.err = err
		return bk
	}
	for _, f := range names {
		data, err := fs.ReadFile(s.fsys, f)
		if err != nil {
			bk.err = err
			return bk
		}
		// go-i18n takes the language from the file name, so each area
		// file is handed over as <lang>.toml.
		mf, err := bundle.ParseMessageFileBytes(data, tag+".toml")
		if err != nil {
			bk.err = fmt.Errorf("catalog %s: %w", f, err)
			return bk
		}
		for _, m := range mf.Messages {
			if seen[m.ID] != "" {
				bk.err = fmt.Errorf("catalog %s: %q is already in %s", f, m.ID, seen[m.ID])
				return bk
			}
			seen[m.ID] = f
			bk.ids = append(bk.ids, m.ID)
		}
	}
	sort.Strings(bk.ids)
	bk.loc = goi18n.NewLocalizer(bundle, tag)
	return bk
}

// localizer speaks tag from its own book; nil when there is none.
func (s *shelf) localizer(tag string) *goi18n.Localizer {
	b := s.book(tag)
	if b == nil || b.err != nil {
		return nil
	}
	return b.loc
}

// Languages are the languages the catalog has, English first.
func Languages() []string {
	s, err := embedded()
	if err != nil {
		return []string{lang.Default}
	}
	return append([]string(nil), s.langs...)
}

// Words speaks one language. The zero value speaks English.
type Words struct {
	tag string
	loc *goi18n.Localizer // tag's own messages
	en  *goi18n.Localizer // English, for a message tag lacks (the tests keep that from happening)
	// reshape, when set, is applied to every rendered message (Reshaped).
	reshape func(string) string
}

// In is the catalog in language tag; a language the catalog does not have
// speaks English.
func In(tag string) Words {
	s, err := embedded()
	if err != nil {
		return Words{tag: tag}
	}
	w := Words{tag: tag, loc: s.localizer(tag)}
	if tag != lang.Default {
		w.en = s.localizer(lang.Default)
	}
	return w
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
	if w.loc == nil && w.en == nil {
		if w.tag != "" {
			return c.MessageID
		}
		w = In(lang.Default)
	}
	for _, loc := range []*goi18n.Localizer{w.loc, w.en} {
		if loc == nil {
			continue
		}
		if s, err := loc.Localize(c); err == nil && s != "" {
			return s
		}
	}
	return c.MessageID // a missing message shows its id: visible, and caught by the tests
}

// IDs are the message ids of a language, sorted (for the tests and the
// message count).
func IDs(tag string) []string {
	s, err := embedded()
	if err != nil {
		return nil
	}
	if b := s.book(tag); b != nil {
		return append([]string(nil), b.ids...)
	}
	return nil
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

// LoadError is the first error reading the embedded catalog gives, every
// language read (for the tests; a process reads only what it speaks).
func LoadError() error {
	s, err := embedded()
	if err != nil {
		return err
	}
	for _, tag := range s.langs {
		if b := s.book(tag); b.err != nil {
			return b.err
		}
	}
	return nil
}
