package guide

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/net/html"

	"github.com/trustwatch/trustwatch/internal/say"
	"github.com/trustwatch/trustwatch/watcher/engine"
)

func mustLoad(t *testing.T) *page {
	t.Helper()
	p, err := load()
	if err != nil {
		t.Fatalf("the embedded guide does not build: %v", err)
	}
	return p
}

// htmlIDs parses the page like a browser would and returns every id in
// document order, plus the ids of h1–h6 elements and every in-page href.
func htmlIDs(t *testing.T, page []byte) (ids, headingIDs, hrefs []string, headingsWithoutID []string) {
	t.Helper()
	root, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatalf("html.Parse: %v", err)
	}
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			id := ""
			for _, a := range n.Attr {
				switch a.Key {
				case "id":
					id = a.Val
					ids = append(ids, a.Val)
				case "href":
					hrefs = append(hrefs, a.Val)
				}
			}
			if len(n.Data) == 2 && n.Data[0] == 'h' && n.Data[1] >= '1' && n.Data[1] <= '6' {
				if id == "" {
					headingsWithoutID = append(headingsWithoutID, n.Data)
				} else {
					headingIDs = append(headingIDs, id)
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(root)
	return
}

func TestContractAnchorsExistInPage(t *testing.T) {
	// The contract's list, written out again on purpose: the package's own
	// copy could drift together with the guide.
	want := []string{"step-1", "step-2", "step-3", "step-4", "step-5", "step-6", "verify",
		"issue-cable", "issue-locked", "issue-permissions", "issue-drivers",
		"issue-network-reset", "issue-not-showing", "recovery"}
	_, headingIDs, _, _ := htmlIDs(t, HTML())
	for _, a := range want {
		if !Has(a) {
			t.Errorf("Has(%q) = false", a)
		}
		if !slices.Contains(headingIDs, a) {
			t.Errorf("no heading with id %q in the rendered page", a)
		}
		if !slices.Contains(Anchors(), a) {
			t.Errorf("Anchors() lacks %q", a)
		}
	}
	if !slices.Equal(want, contractAnchors) {
		t.Errorf("contractAnchors = %v, want %v", contractAnchors, want)
	}
}

func TestEveryStateMapsToAnAnchorInThePage(t *testing.T) {
	_, headingIDs, _, _ := htmlIDs(t, HTML())
	for _, s := range engine.AllStates {
		a := s.Anchor()
		if s == engine.StateProbing {
			if a != "" {
				t.Errorf("probing has anchor %q; the contract gives it none", a)
			}
			continue
		}
		if a == "" {
			t.Errorf("state %s has no guide anchor", s)
			continue
		}
		if !Has(a) || !slices.Contains(headingIDs, a) {
			t.Errorf("state %s points to %q, which is not a heading of the guide", s, a)
		}
		if _, err := Text(a); err != nil {
			t.Errorf("Text(%q) for state %s: %v", a, s, err)
		}
	}
}

// Each state the engine can report is explained in the section it points
// to, in the words the tray uses for it, so a user who follows the link
// finds their situation by name.
func TestSectionsNameTheirStates(t *testing.T) {
	for _, s := range engine.AllStates {
		if s.Anchor() == "" {
			continue
		}
		txt, err := Text(s.Anchor())
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(flat(txt), say.StateWords(say.English, s)) {
			t.Errorf("section %s (for state %s) never says %q", s.Anchor(), s, say.StateWords(say.English, s))
		}
	}
}

func TestHTMLIsWellFormedAndSelfContained(t *testing.T) {
	page := HTML()

	// Strict XML parse: every element closed and properly nested, attributes
	// quoted. HTML's named entities are allowed, unknown ones are not.
	d := xml.NewDecoder(bytes.NewReader(page))
	d.Strict = true
	d.Entity = xml.HTMLEntity
	var stack []string
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("page is not well-formed: %v", err)
		}
		switch e := tok.(type) {
		case xml.StartElement:
			stack = append(stack, e.Name.Local)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		}
	}
	if len(stack) != 0 {
		t.Fatalf("unclosed elements: %v", stack)
	}

	ids, headingIDs, hrefs, missing := htmlIDs(t, page)
	if len(missing) > 0 {
		t.Errorf("headings without an id: %v", missing)
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			t.Errorf("id %q appears twice", id)
		}
		seen[id] = true
	}
	siblings := map[string]bool{}
	for _, l := range Languages() {
		siblings[PageName(l)] = true // the language switch: the same page in another language, beside this one
	}
	for _, h := range hrefs {
		a, ok := strings.CutPrefix(h, "#")
		if !ok && !siblings[h] {
			t.Errorf("link %q leaves the page", h)
		} else if !ok {
			continue
		} else if !seen[a] {
			t.Errorf("link %q points nowhere", h)
		}
	}
	// Section headings appear in the order Anchors reports.
	var sections []string
	for _, id := range headingIDs {
		if Has(id) {
			sections = append(sections, id)
		}
	}
	if !slices.Equal(sections, Anchors()) {
		t.Errorf("page order %v, Anchors() %v", sections, Anchors())
	}

	s := string(page)
	for _, bad := range []string{"<script", " src=", "<link", "<img", "@import", "url(", "http://", "https://"} {
		if strings.Contains(s, bad) && bad != "http://" {
			t.Errorf("page contains %q: it must be self-contained", bad)
		}
	}
	// The only http:// allowed is the SVG namespace.
	if n, m := strings.Count(s, "http://"), strings.Count(s, `xmlns="http://www.w3.org/2000/svg"`); n != m {
		t.Errorf("page has %d http:// references besides SVG namespaces", n-m)
	}
	for _, want := range []string{"prefers-color-scheme: dark", `<nav class="toc"`, "<svg ", "Trust This Computer?", "Reset Location &amp; Privacy"} {
		if !strings.Contains(s, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if got := strings.Count(s, "<svg "); got != 3 {
		t.Errorf("page has %d inline drawings, want 3", got)
	}
	if !bytes.Equal(HTML(), page) {
		t.Error("HTML() is not stable between calls")
	}
	page[0] = 'X'
	if HTML()[0] == 'X' {
		t.Error("HTML() hands out its cache: a caller's change leaked into the next call")
	}
}

func TestDrawingsAreValidSVG(t *testing.T) {
	names, err := fs.Glob(content, "content/*/*.svg")
	if err != nil || len(names) < 2 {
		t.Fatalf("drawings: %v %v", names, err)
	}
	for _, n := range names {
		b, _ := content.ReadFile(n)
		d := xml.NewDecoder(bytes.NewReader(b))
		d.Strict = true
		var root string
		for {
			tok, err := d.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", n, err)
			}
			if se, ok := tok.(xml.StartElement); ok && root == "" {
				root = se.Name.Local
				var vb bool
				for _, a := range se.Attr {
					vb = vb || a.Name.Local == "viewBox"
				}
				if !vb {
					t.Errorf("%s: no viewBox, it will not scale", n)
				}
			}
		}
		if root != "svg" {
			t.Errorf("%s: root element %q", n, root)
		}
	}
}

func TestAnchorsAndHas(t *testing.T) {
	as := Anchors()
	if len(as) < len(contractAnchors) {
		t.Fatalf("Anchors() = %v", as)
	}
	if as[0] != "about" || !slices.Contains(as, "issue-tray") || !slices.Contains(as, "platforms") {
		t.Errorf("unexpected anchors %v", as)
	}
	as[0] = "changed"
	if Anchors()[0] != "about" {
		t.Error("Anchors() hands out its internal slice")
	}
	for _, a := range []string{"", "Step-1", "step-7", "step-1 ", "#step-1", "top", "contents"} {
		if Has(a) {
			t.Errorf("Has(%q) = true", a)
		}
	}
	if Title("step-3") != "Step 3: Tap Trust, then enter your passcode" {
		t.Errorf("Title(step-3) = %q", Title("step-3"))
	}
}

// flat joins wrapped lines, so phrases can be looked for across breaks.
// Typographic apostrophes count as plain ones ("Don’t Trust" is what the
// iPhone shows, "Don't Trust was tapped" what the tray says).
func flat(s string) string {
	return strings.ReplaceAll(strings.Join(strings.Fields(s), " "), "’", "'")
}

var markupLeft = regexp.MustCompile(`</?[a-z]+[ >]|\*\*|\]\(#|\{#|&amp;|&quot;`)

func TestTextSections(t *testing.T) {
	whole, err := Text("")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range Anchors() {
		txt, err := Text(a)
		if err != nil {
			t.Fatalf("Text(%q): %v", a, err)
		}
		lines := strings.Split(strings.TrimSuffix(txt, "\n"), "\n")
		if lines[0] != Title(a) {
			t.Errorf("Text(%q) starts with %q, want its title %q", a, lines[0], Title(a))
		}
		if len(lines) < 4 {
			t.Errorf("Text(%q) is nearly empty: %q", a, txt)
		}
		if m := markupLeft.FindString(txt); m != "" {
			t.Errorf("Text(%q) contains markup %q", a, m)
		}
		for _, l := range lines {
			if n := utf8.RuneCountInString(l); n > textWidth && strings.Contains(l, " ") {
				t.Errorf("Text(%q): line of %d columns: %q", a, n, l)
			}
		}
		if !strings.Contains(whole, txt) {
			t.Errorf("the whole guide does not contain section %q as printed alone", a)
		}
	}
	// Sections end where the next one of the same level starts.
	s2, _ := Text("step-2")
	if strings.Contains(s2, Title("step-3")) {
		t.Error("Text(step-2) runs into step 3")
	}
	issues, _ := Text("issues")
	cable, _ := Text("issue-cable")
	if !strings.Contains(issues, cable) || strings.Contains(issues, Title("recovery")) {
		t.Error("Text(issues) should hold its subsections and stop before Recovery")
	}
	// Facts the brief asks for, as a reader of the text sees them.
	for anchor, wants := range map[string][]string{
		"step-2":        {"Unplug the iPhone", "Don't Trust"},
		"step-3":        {"Tap Trust", "passcode"},
		"step-6":        {"Settings ▸ General ▸ Transfer or Reset iPhone ▸", "Reset Location & Privacy", "Fix", "[Picture: "},
		"issue-cable":   {"charge-only cable", "no program, trustwatch included, can see it", "USB Restricted Mode", "hub"},
		"issue-drivers": {"usbmuxd", "Apple Mobile Device Service", "Apple Devices", "`sudo systemctl start"},
		"issue-locked":  {"more than an hour", "locked since restart"},
		"recovery":      {"DFU", "Recovery"},
		"issue-tray":    {"GNOME", "AppIndicator"},
		"issue-managed": {"management", "administrator"},
		"platforms":     {"Windows:", "Mac:", "Linux:"},
	} {
		txt, _ := Text(anchor)
		for _, w := range wants {
			if !strings.Contains(flat(txt), w) {
				t.Errorf("Text(%q) lacks %q", anchor, w)
			}
		}
	}
	if !strings.HasPrefix(whole, "Getting your iPhone to trust this computer\n=====") {
		t.Errorf("whole guide starts %q", whole[:60])
	}
}

func TestTextUnknownAnchor(t *testing.T) {
	for _, a := range []string{"nope", "STEP-1", "top", "../../etc/passwd"} {
		_, err := Text(a)
		if !errors.Is(err, ErrUnknownAnchor) {
			t.Errorf("Text(%q) error = %v, want ErrUnknownAnchor", a, err)
		}
	}
}

// The renderer refuses a guide that would break the contract or the page.
func TestBuildRejectsBrokenGuides(t *testing.T) {
	src, err := content.ReadFile("content/en/guide.md")
	if err != nil {
		t.Fatal(err)
	}
	good := string(src)
	if _, err := build("en", src); err != nil {
		t.Fatalf("the real guide fails: %v", err)
	}
	cases := map[string]struct{ from, to, want string }{
		"missing contract anchor": {"{#issue-drivers}", "{#issue-service}", `"issue-drivers" is missing`},
		"duplicate anchor":        {"{#step-5}", "{#step-4}", `"step-4" is used twice`},
		"heading without anchor":  {" {#verify}", "", `"Check that it worked" has no {#anchor}`},
		"link to nowhere":         {"(#issue-drivers)", "(#issue-driver)", `unknown anchor "#issue-driver"`},
		"link off the page":       {"(#step-5)", "(https://example.com/)", "leaves the page"},
		"drawing not embedded":    {"(trust-prompt.svg", "(missing.svg", `"missing.svg" is not in content/en/`},
		"raw html":                {"## Step 4", "<b>x</b>\n\n## Step 4", "raw HTML"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if !strings.Contains(good, c.from) {
				t.Fatalf("guide.md no longer contains %q; update the test", c.from)
			}
			_, err := build("en", []byte(strings.Replace(good, c.from, c.to, 1)))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("build error = %v, want it to mention %q", err, c.want)
			}
		})
	}
}

func TestWrap(t *testing.T) {
	got := wrap("aaa bbb ccc ddd eee fff ggg hhh iii jjj kkk lll mmm nnn ooo ppp", 20)
	for _, l := range got {
		if len(l) > 20 {
			t.Errorf("line %q longer than 20", l)
		}
	}
	if strings.Join(got, " ") != "aaa bbb ccc ddd eee fff ggg hhh iii jjj kkk lll mmm nnn ooo ppp" {
		t.Errorf("wrap lost words: %q", got)
	}
	long := strings.Repeat("x", 30)
	if got := wrap("a "+long+" b", 20); !slices.Equal(got, []string{"a", long, "b"}) {
		t.Errorf("long word: %q", got)
	}
	if got := wrap("one\ntwo", 40); !slices.Equal(got, []string{"one", "two"}) {
		t.Errorf("hard break: %q", got)
	}
}

// TestStep6FixTrustFirst: "trust was reset" sends people to step 6, which
// must offer the one click on the computer before the reset on the iPhone,
// and spell out what that reset costs before anyone taps it.
func TestStep6FixTrustFirst(t *testing.T) {
	s, err := Text("step-6")
	if err != nil {
		t.Fatal(err)
	}
	fix, reset := strings.Index(s, "Fix trust"), strings.Index(s, "Reset Location & Privacy")
	if fix < 0 || reset < 0 || fix > reset {
		t.Errorf("step 6 names Fix trust at %d and Reset Location & Privacy at %d; Fix trust must come first", fix, reset)
	}
	if !strings.Contains(s, "trustwatch fix") {
		t.Error("step 6 does not give the terminal's way to fix trust")
	}
	cost := strings.Index(s, "forgets every computer")
	perms := strings.Index(s, "loses the permissions")
	steps := strings.Index(s, "Settings ▸ General ▸ Transfer or Reset iPhone ▸ Reset.")
	if cost < 0 || perms < 0 || cost < reset || perms > steps {
		t.Errorf("the reset's cost must be spelled out before its steps (cost at %d, permissions at %d, steps at %d)", cost, perms, steps)
	}
	if !strings.Contains(s, say.StateWords(say.English, engine.StateTrustRevoked)) {
		t.Errorf("step 6 does not use trustwatch's words %q", say.StateWords(say.English, engine.StateTrustRevoked))
	}
}
