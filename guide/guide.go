// Package guide is trustwatch's built-in guide: how to get an iPhone to trust
// a computer, and what to do when it will not. The text is Markdown embedded
// in the binary, one folder per language (content/<lang>/guide.md and its
// drawings), each rendered once into a single self-contained HTML page
// (stylesheet and drawings inlined), so it works offline and can be opened
// at any section through a stable anchor — the same anchors in every
// language. The same source also gives a plain-text version for
// `trustwatch guide --print`. The package-level functions speak the
// process's language (internal/lang), English where the guide has no
// translation; the ...In variants take a language.
package guide

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync"

	"github.com/trustwatch/trustwatch/internal/lang"
)

//go:embed content/style.css content/*/guide.md content/*/*.svg
var content embed.FS

// ErrUnknownAnchor is returned for an anchor the guide does not have.
var ErrUnknownAnchor = errors.New("unknown guide anchor")

// contractAnchors are the anchors the CLI/state contract promises. The
// renderer refuses a guide that lacks any of them, so a broken edit of
// guide.md fails the tests instead of shipping dead links.
var contractAnchors = []string{
	"step-1", "step-2", "step-3", "step-4", "step-5", "step-6",
	"verify", "issue-cable", "issue-locked", "issue-permissions",
	"issue-drivers", "issue-network-reset", "issue-not-showing", "recovery",
}

// Languages are the languages the guide is written in (a folder under
// content/ with a guide.md), English first.
func Languages() []string {
	dirs, _ := fs.Glob(content, "content/*/guide.md")
	var out []string
	for _, d := range dirs {
		out = append(out, strings.Split(d, "/")[1])
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i] == lang.Default || (out[j] != lang.Default && out[i] < out[j])
	})
	return out
}

// language is tag if the guide has it, else English.
func language(tag string) string {
	if _, err := fs.Stat(content, "content/"+tag+"/guide.md"); tag == "" || err != nil {
		return lang.Default
	}
	return tag
}

// current is the process's language, as far as the guide speaks it.
func current() string { return language(lang.Current().Tag) }

var (
	pagesMu sync.Mutex
	pages   = map[string]func() (*page, error){}
)

// loadIn renders the guide in a language the first time it is needed. The
// content is embedded, so an error here is a defect in guide.md that the
// tests catch; at run time the accessors degrade (an error page, an error
// value) rather than panic.
func loadIn(tag string) (*page, error) {
	tag = language(tag)
	pagesMu.Lock()
	f, ok := pages[tag]
	if !ok {
		f = sync.OnceValues(func() (*page, error) {
			src, err := content.ReadFile("content/" + tag + "/guide.md")
			if err != nil {
				return nil, err
			}
			return build(tag, src)
		})
		pages[tag] = f
	}
	pagesMu.Unlock()
	return f()
}

// load is the guide in the process's language.
func load() (*page, error) { return loadIn(current()) }

// Anchors lists every section anchor of the guide, in page order. The
// contract's anchors are among them; the guide has a few more (for example
// "issue-tray" and "platforms").
func Anchors() []string {
	p, err := load()
	if err != nil {
		return nil
	}
	out := make([]string, len(p.sections))
	for i, s := range p.sections {
		out[i] = s.id
	}
	return out
}

// Has reports whether anchor names a section of the guide.
func Has(anchor string) bool {
	p, err := load()
	if err != nil {
		return false
	}
	_, ok := p.byID[anchor]
	return ok
}

// Title is the heading of the section at anchor ("" if there is none).
func Title(anchor string) string { return TitleIn(current(), anchor) }

// TitleIn is Title in language tag.
func TitleIn(tag, anchor string) string {
	p, err := loadIn(tag)
	if err != nil {
		return ""
	}
	if i, ok := p.byID[anchor]; ok {
		return p.sections[i].title
	}
	return ""
}

// HTML is the rendered page: one self-contained HTML document. The caller
// gets its own copy.
func HTML() []byte { return HTMLIn(current()) }

// HTMLIn is the page in language tag (English if the guide lacks it).
func HTMLIn(tag string) []byte {
	p, err := loadIn(tag)
	if err != nil {
		return errorPage(language(tag), err)
	}
	return append([]byte(nil), p.html...)
}

// Text is the section at anchor as plain, readable text (headings, bullets,
// no markup), wrapped for a terminal. The empty anchor gives the whole
// guide. An unknown anchor gives an error wrapping ErrUnknownAnchor.
func Text(anchor string) (string, error) { return TextIn(current(), anchor) }

// TextIn is Text in language tag.
func TextIn(tag, anchor string) (string, error) {
	p, err := loadIn(tag)
	if err != nil {
		return "", err
	}
	if anchor == "" {
		return p.wholeText, nil
	}
	i, ok := p.byID[anchor]
	if !ok {
		return "", unknownAnchor(anchor)
	}
	return p.sections[i].text, nil
}

func unknownAnchor(anchor string) error {
	return fmt.Errorf("%w %q; valid anchors: %s", ErrUnknownAnchor, anchor, strings.Join(Anchors(), ", "))
}
