package guide

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/trustwatch/trustwatch/internal/catalog"
	"github.com/yuin/goldmark/ast"
	east "github.com/yuin/goldmark/extension/ast"
)

// textWidth is where plain text wraps: a classic terminal, minus a margin.
const textWidth = 78

// renderText fills in the plain-text form of every section and of the whole
// guide.
func (p *page) renderText(doc ast.Node, src []byte) {
	var top []ast.Node
	for n := doc.FirstChild(); n != nil; n = n.NextSibling() {
		top = append(top, n)
	}
	p.wholeText = joinBlocks(top, src, textWidth)
	for i, n := range top {
		h, ok := n.(*ast.Heading)
		if !ok || h.Level < 2 {
			continue
		}
		// A section runs to the next heading of the same or a higher level.
		end := i + 1
		for end < len(top) {
			if h2, ok := top[end].(*ast.Heading); ok && h2.Level <= h.Level {
				break
			}
			end++
		}
		p.sections[p.byID[headingID(h)]].text = joinBlocks(top[i:end], src, textWidth)
	}
}

// joinBlocks renders blocks separated by blank lines, ending in a newline.
func joinBlocks(nodes []ast.Node, src []byte, width int) string {
	var parts []string
	for _, n := range nodes {
		if lines := blockLines(n, src, width); len(lines) > 0 {
			parts = append(parts, strings.Join(lines, "\n"))
		}
	}
	return strings.Join(parts, "\n\n") + "\n"
}

// blockLines renders one block as lines of at most width columns (long
// words excepted).
func blockLines(n ast.Node, src []byte, width int) []string {
	switch b := n.(type) {
	case *ast.Heading:
		t := inlineText(b, src)
		under := map[int]string{1: "=", 2: "-", 3: "~"}[b.Level]
		return []string{t, strings.Repeat(under, utf8.RuneCountInString(t))}
	case *ast.Paragraph, *ast.TextBlock:
		return wrap(inlineFlow(b, src), width)
	case *ast.List:
		return listLines(b, src, width)
	case *figureNode:
		label := b.caption
		if label == "" {
			label = b.alt
		}
		return wrap("["+catalog.In(b.lang).T("guide.picture", map[string]any{"Label": label})+"]", width)
	case *ast.FencedCodeBlock, *ast.CodeBlock:
		var out []string
		lines := n.Lines()
		for i := 0; i < lines.Len(); i++ {
			seg := lines.At(i)
			out = append(out, "    "+strings.TrimRight(string(seg.Value(src)), "\n"))
		}
		return out
	case *ast.Blockquote:
		return prefixLines(childBlocks(b, src, width-2), "| ", "| ")
	case *ast.ThematicBreak:
		return []string{strings.Repeat("-", 20)}
	case *east.Table:
		return tableLines(b, src, width)
	case *ast.HTMLBlock:
		return nil // the guide has none (build rejects them)
	}
	return wrap(inlineFlow(n, src), width)
}

// childBlocks renders a container's child blocks, blank-line separated.
func childBlocks(n ast.Node, src []byte, width int) []string {
	var out []string
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		if len(out) > 0 {
			out = append(out, "")
		}
		out = append(out, blockLines(c, src, width)...)
	}
	return out
}

func listLines(l *ast.List, src []byte, width int) []string {
	var out []string
	i := l.Start
	for item := l.FirstChild(); item != nil; item = item.NextSibling() {
		marker := "- "
		if l.IsOrdered() {
			marker = fmt.Sprintf("%d. ", i)
			i++
		}
		pad := strings.Repeat(" ", utf8.RuneCountInString(marker))
		var body []string
		for c := item.FirstChild(); c != nil; c = c.NextSibling() {
			if len(body) > 0 && !l.IsTight {
				body = append(body, "")
			}
			body = append(body, blockLines(c, src, width-len(pad))...)
		}
		if len(out) > 0 && !l.IsTight {
			out = append(out, "")
		}
		out = append(out, prefixLines(body, marker, pad)...)
	}
	return out
}

// tableLines turns a table into one block per row: the row's first cell,
// then "column: value" lines, which reads better than a grid in 78 columns.
func tableLines(t *east.Table, src []byte, width int) []string {
	var head []string
	var out []string
	for r := t.FirstChild(); r != nil; r = r.NextSibling() {
		var cells []string
		for c := r.FirstChild(); c != nil; c = c.NextSibling() {
			cells = append(cells, inlineFlow(c, src))
		}
		if _, ok := r.(*east.TableHeader); ok {
			head = cells
			continue
		}
		if len(out) > 0 {
			out = append(out, "")
		}
		if len(cells) > 0 {
			out = append(out, wrap(cells[0]+":", width)...)
		}
		for i := 1; i < len(cells); i++ {
			name := ""
			if i < len(head) {
				name = head[i] + ": "
			}
			out = append(out, prefixLines(wrap(name+cells[i], width-4), "  - ", "    ")...)
		}
	}
	return out
}

// inlineFlow is the text of a block's inline content: emphasis dropped,
// in-page links followed by their anchor in brackets (so a reader can run
// `trustwatch guide ANCHOR`), hard breaks kept as "\n".
func inlineFlow(n ast.Node, src []byte) string {
	var b strings.Builder
	var walk func(c ast.Node)
	walk = func(c ast.Node) {
		for ; c != nil; c = c.NextSibling() {
			switch t := c.(type) {
			case *ast.Text:
				b.Write(t.Value(src))
				switch {
				case t.HardLineBreak():
					b.WriteByte('\n')
				case t.SoftLineBreak():
					b.WriteByte(' ')
				}
			case *ast.String:
				b.Write(t.Value)
			case *ast.Link:
				label := inlineText(t, src)
				walk(t.FirstChild())
				dest := string(t.Destination)
				if a, ok := strings.CutPrefix(dest, "#"); ok {
					if !strings.EqualFold(strings.ReplaceAll(label, " ", "-"), a) {
						b.WriteString(" [" + a + "]")
					}
				} else if dest != label {
					b.WriteString(" <" + dest + ">")
				}
			case *ast.CodeSpan:
				// Backquotes keep a command or path apart from the sentence.
				b.WriteString("`" + inlineText(t, src) + "`")
			case *ast.AutoLink:
				b.Write(t.URL(src))
			case *ast.Image:
				b.WriteString(inlineText(t, src))
			case *ast.RawHTML:
				// none in the guide
			default:
				walk(c.FirstChild())
			}
		}
	}
	walk(n.FirstChild())
	return b.String()
}

// wrap fills words into lines of at most width runes; "\n" in s forces a
// break. A word longer than width gets a line of its own.
func wrap(s string, width int) []string {
	if width < 20 {
		width = 20
	}
	var out []string
	for _, para := range strings.Split(s, "\n") {
		line := ""
		for _, w := range strings.Fields(para) {
			switch {
			case line == "":
				line = w
			case utf8.RuneCountInString(line)+1+utf8.RuneCountInString(w) <= width:
				line += " " + w
			default:
				out = append(out, line)
				line = w
			}
		}
		if line != "" {
			out = append(out, line)
		}
	}
	return out
}

// prefixLines puts first before the first line and rest before the others
// (blank lines stay blank).
func prefixLines(lines []string, first, rest string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		switch {
		case i == 0:
			out[i] = first + l
		case l == "":
			out[i] = ""
		default:
			out[i] = rest + l
		}
	}
	return out
}
