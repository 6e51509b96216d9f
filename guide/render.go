package guide

import (
	"bytes"
	"fmt"
	"html"
	"path"
	"regexp"
	"strings"

	"github.com/trustwatch/trustwatch/internal/catalog"
	"github.com/trustwatch/trustwatch/internal/lang"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	ghtml "github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// section is one heading of level 2 or 3 and what belongs to it.
type section struct {
	id, title string
	level     int
	text      string // plain text, heading included
}

// page is the rendered guide.
type page struct {
	lang      string // the language it is written in
	title     string
	html      []byte
	sections  []section // page order
	byID      map[string]int
	wholeText string
}

// figureNode stands for a paragraph that held nothing but an image of an
// embedded drawing; it is rendered as <figure> with the SVG inlined, since a
// figure (a block) may not sit inside <p>.
type figureNode struct {
	ast.BaseBlock
	name    string // file name under content/<lang>/
	alt     string
	caption string // the image title, if any
	lang    string // of the guide it is in, for its text form
}

var kindFigure = ast.NewNodeKind("GuideFigure")

func (n *figureNode) Kind() ast.NodeKind { return kindFigure }
func (n *figureNode) Dump(src []byte, level int) {
	ast.DumpHelper(n, src, level, map[string]string{"name": n.name}, nil)
}

// figureTransformer replaces drawing-only paragraphs by figureNodes.
type figureTransformer struct{ lang string }

func (t figureTransformer) Transform(doc *ast.Document, reader text.Reader, pc parser.Context) {
	src := reader.Source()
	var paras []*ast.Paragraph
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if p, ok := n.(*ast.Paragraph); ok && entering {
			paras = append(paras, p)
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkContinue, nil
	})
	for _, p := range paras {
		img, ok := p.FirstChild().(*ast.Image)
		if !ok || p.ChildCount() != 1 || !strings.HasSuffix(string(img.Destination), ".svg") {
			continue
		}
		f := &figureNode{
			name:    string(img.Destination),
			alt:     inlineText(img, src),
			caption: string(img.Title),
			lang:    t.lang,
		}
		p.Parent().ReplaceChild(p.Parent(), p, f)
	}
}

// figureRenderer writes figureNodes with the drawing inlined.
type figureRenderer struct {
	lang     string
	drawings map[string][]byte
}

func (r *figureRenderer) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(kindFigure, r.render)
}

func (r *figureRenderer) render(w util.BufWriter, _ []byte, n ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering {
		return ast.WalkContinue, nil
	}
	f := n.(*figureNode)
	svg, ok := r.drawings[f.name]
	if !ok {
		return ast.WalkStop, fmt.Errorf("guide.md: drawing %q is not in content/%s/", f.name, r.lang)
	}
	// The alt text becomes the SVG's accessible name.
	svg = bytes.Replace(svg, []byte("<svg "), []byte(`<svg role="img" aria-label="`+html.EscapeString(f.alt)+`" `), 1)
	_, _ = w.WriteString("<figure class=\"drawing\">\n")
	_, _ = w.Write(svg)
	if f.caption != "" {
		_, _ = w.WriteString("<figcaption>" + html.EscapeString(f.caption) + "</figcaption>\n")
	}
	_, _ = w.WriteString("</figure>\n")
	return ast.WalkSkipChildren, nil
}

var (
	xmlProlog  = regexp.MustCompile(`^\s*<\?xml[^>]*\?>\s*`)
	xmlComment = regexp.MustCompile(`(?s)\s*<!--.*?-->`)
)

// loadDrawings reads a language's embedded SVGs, ready to inline: no XML
// prolog, no comments (they are notes for whoever edits the file, not page
// content).
func loadDrawings(tag string) (map[string][]byte, error) {
	dir := "content/" + tag
	names, err := content.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	for _, e := range names {
		if path.Ext(e.Name()) != ".svg" {
			continue
		}
		b, err := content.ReadFile(dir + "/" + e.Name())
		if err != nil {
			return nil, err
		}
		b = xmlProlog.ReplaceAll(b, nil)
		b = xmlComment.ReplaceAll(b, nil)
		if !bytes.HasPrefix(b, []byte("<svg ")) {
			return nil, fmt.Errorf("%s/%s does not start with <svg", dir, e.Name())
		}
		// Ids inside inlined drawings would share the page's id space.
		if bytes.Contains(b, []byte(` id="`)) {
			return nil, fmt.Errorf("%s/%s uses id attributes; inlined drawings must not", dir, e.Name())
		}
		out[e.Name()] = b
	}
	return out, nil
}

// build parses a language's guide.md, checks it and renders both forms.
func build(tag string, src []byte) (*page, error) {
	drawings, err := loadDrawings(tag)
	if err != nil {
		return nil, err
	}
	css, err := content.ReadFile("content/style.css")
	if err != nil {
		return nil, err
	}
	md := goldmark.New(
		goldmark.WithExtensions(extension.Table),
		goldmark.WithParserOptions(
			parser.WithAttribute(), // `## Title {#anchor}`: explicit, stable ids
			parser.WithASTTransformers(util.Prioritized(figureTransformer{lang: tag}, 100)),
		),
		goldmark.WithRendererOptions(
			ghtml.WithXHTML(), // well-formed XML, checked by the tests
			renderer.WithNodeRenderers(util.Prioritized(&figureRenderer{lang: tag, drawings: drawings}, 100)),
		),
	)
	doc := md.Parser().Parse(text.NewReader(src))

	p := &page{lang: tag, byID: map[string]int{}}
	if err := p.collectSections(doc, src); err != nil {
		return nil, err
	}
	if err := p.checkLinks(doc, src); err != nil {
		return nil, err
	}

	var body bytes.Buffer
	if err := md.Renderer().Render(&body, src, doc); err != nil {
		return nil, fmt.Errorf("rendering guide.md: %w", err)
	}
	p.html = p.assemble(body.Bytes(), css)
	p.renderText(doc, src)
	return p, nil
}

// collectSections records the headings and enforces the anchor rules: every
// heading has an explicit id, ids are unique, every contract anchor exists.
func (p *page) collectSections(doc ast.Node, src []byte) error {
	seen := map[string]bool{}
	err := ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		h, ok := n.(*ast.Heading)
		if !ok || !entering {
			return ast.WalkContinue, nil
		}
		title := inlineText(h, src)
		if h.Parent() != doc {
			return ast.WalkStop, fmt.Errorf("guide.md: heading %q is nested in another block", title)
		}
		id := headingID(h)
		switch {
		case id == "":
			return ast.WalkStop, fmt.Errorf("guide.md: heading %q has no {#anchor}", title)
		case seen[id]:
			return ast.WalkStop, fmt.Errorf("guide.md: anchor %q is used twice", id)
		case h.Level > 3:
			return ast.WalkStop, fmt.Errorf("guide.md: heading %q is deeper than ###", title)
		}
		seen[id] = true
		if h.Level == 1 {
			if p.title != "" {
				return ast.WalkStop, fmt.Errorf("guide.md: more than one # title")
			}
			p.title = title
			return ast.WalkSkipChildren, nil
		}
		p.byID[id] = len(p.sections)
		p.sections = append(p.sections, section{id: id, title: title, level: h.Level})
		return ast.WalkSkipChildren, nil
	})
	if err != nil {
		return err
	}
	if p.title == "" {
		return fmt.Errorf("guide.md: no # title")
	}
	for _, a := range contractAnchors {
		if _, ok := p.byID[a]; !ok {
			return fmt.Errorf("guide.md: contract anchor %q is missing", a)
		}
	}
	return nil
}

// checkLinks rejects in-page links to anchors that do not exist, and links
// that would leave the page: the guide must work offline.
func (p *page) checkLinks(doc ast.Node, src []byte) error {
	return ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch l := n.(type) {
		case *ast.Link:
			dest := string(l.Destination)
			a, ok := strings.CutPrefix(dest, "#")
			if !ok {
				return ast.WalkStop, fmt.Errorf("guide.md: link %q leaves the page; only #anchors are allowed", dest)
			}
			if _, ok := p.byID[a]; !ok && a != "top" {
				return ast.WalkStop, fmt.Errorf("guide.md: link to unknown anchor %q", dest)
			}
		case *ast.Image:
			return ast.WalkStop, fmt.Errorf("guide.md: image %q must stand alone in its paragraph and be an embedded .svg", l.Destination)
		case *ast.AutoLink, *ast.RawHTML, *ast.HTMLBlock:
			return ast.WalkStop, fmt.Errorf("guide.md: raw HTML and autolinks are not allowed (%q)", inlineText(n, src))
		}
		return ast.WalkContinue, nil
	})
}

// assemble wraps the rendered body into the page, with the contents list
// placed before the first section.
func (p *page) assemble(body, css []byte) []byte {
	w := catalog.In(p.lang)
	var toc strings.Builder
	toc.WriteString("<nav class=\"toc\" aria-labelledby=\"contents\">\n<h2 id=\"contents\">" + html.EscapeString(w.T("guide.contents", nil)) + "</h2>\n<ul>\n")
	for i, s := range p.sections {
		if s.level == 3 && (i == 0 || p.sections[i-1].level == 2) {
			toc.WriteString("<ul>\n")
		}
		toc.WriteString(`<li><a href="#` + s.id + `">` + html.EscapeString(s.title) + "</a>")
		next := 2
		if i+1 < len(p.sections) {
			next = p.sections[i+1].level
		}
		switch {
		case s.level == 2 && next == 3:
			toc.WriteString("\n") // the sub-list opens inside this item
		case s.level == 3 && next == 2:
			toc.WriteString("</li>\n</ul></li>\n")
		default:
			toc.WriteString("</li>\n")
		}
	}
	if n := len(p.sections); n > 0 && p.sections[n-1].level == 3 {
		toc.WriteString("</ul></li>\n")
	}
	toc.WriteString("</ul>\n</nav>\n")

	b := string(body)
	if i := strings.Index(b, "<h2"); i >= 0 {
		b = b[:i] + toc.String() + b[i:]
	} else {
		b += toc.String()
	}

	var out strings.Builder
	out.WriteString(`<!DOCTYPE html>
<html lang="` + p.lang + `">
<head>
<meta charset="utf-8" />
<meta name="viewport" content="width=device-width, initial-scale=1" />
<meta name="color-scheme" content="light dark" />
<title>` + html.EscapeString(p.title) + ` · trustwatch</title>
<style>
`)
	out.Write(css)
	out.WriteString("</style>\n</head>\n<body>\n")
	out.WriteString(languageSwitch(p.lang))
	out.WriteString("<main>\n")
	out.WriteString(b)
	out.WriteString("</main>\n<footer><p>" + html.EscapeString(w.T("guide.footer", nil)) + " · <a href=\"#top\">" +
		html.EscapeString(w.T("guide.back_to_top", nil)) + "</a></p></footer>\n</body>\n</html>\n")
	return []byte(out.String())
}

// headingID is the explicit {#id} of a heading, or "".
func headingID(h *ast.Heading) string {
	v, ok := h.AttributeString("id")
	if !ok {
		return ""
	}
	switch id := v.(type) {
	case []byte:
		return string(id)
	case string:
		return id
	}
	return ""
}

// inlineText is the plain text of an inline container (a heading, a link,
// an image's alt text).
func inlineText(n ast.Node, src []byte) string {
	var b strings.Builder
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch t := c.(type) {
		case *ast.Text:
			b.Write(t.Value(src))
			if t.SoftLineBreak() || t.HardLineBreak() {
				b.WriteByte(' ')
			}
		case *ast.String:
			b.Write(t.Value)
		case *ast.AutoLink:
			b.Write(t.Label(src))
		}
		return ast.WalkContinue, nil
	})
	return strings.TrimSpace(b.String())
}

// PageName is the file the guide in language tag is written to: guide.html
// for English (the name the contract and older links know), guide.<lang>.html
// for the others, side by side so the language switch links them.
func PageName(tag string) string {
	if tag = language(tag); tag == lang.Default {
		return "guide.html"
	}
	return "guide." + tag + ".html"
}

// languageSwitch links the same page in every language the guide has, each
// named in its own language. A click keeps the section the reader is at
// (the anchors are the same in every language); without scripts the link
// still works and opens the top of the page.
func languageSwitch(current string) string {
	langs := Languages()
	if len(langs) < 2 {
		return ""
	}
	var b strings.Builder
	b.WriteString(`<nav class="langs" aria-label="` + html.EscapeString(catalog.In(current).T("guide.languages", nil)) + `"><ul>`)
	for _, l := range langs {
		name := html.EscapeString(catalog.In(l).T("guide.language_name", nil))
		if l == current {
			b.WriteString(`<li><strong lang="` + l + `" aria-current="page">` + name + `</strong></li>`)
			continue
		}
		b.WriteString(`<li><a lang="` + l + `" hreflang="` + l + `" href="` + PageName(l) + `" onclick="this.href='` + PageName(l) + `'+location.hash">` + name + `</a></li>`)
	}
	b.WriteString("</ul></nav>\n")
	return b.String()
}

// errorPage is what HTML returns if the embedded guide failed to render,
// which the tests rule out; it says so instead of showing an empty page.
func errorPage(tag string, err error) []byte {
	msg := catalog.In(tag).T("guide.broken", map[string]any{"Err": err.Error()})
	return []byte("<!DOCTYPE html>\n<html lang=\"" + tag + "\"><head><meta charset=\"utf-8\" /><title>trustwatch</title></head><body><p>" +
		html.EscapeString(msg) + "</p></body></html>\n")
}
