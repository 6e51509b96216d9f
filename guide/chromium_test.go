//go:build !windows

package guide

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/trustwatch/trustwatch/internal/lang"
	"time"
)

// requireTool finds a system tool; without it the test is skipped with a
// loud message, except under CI=true, where a missing tool is a failure.
func requireTool(t *testing.T, names ...string) string {
	t.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	msg := fmt.Sprintf("NEEDS A TOOL: none of %v is installed (Debian: apt-get install chromium)", names)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip("SKIPPED, " + msg)
	return ""
}

// browser is a headless Chromium driven over the DevTools protocol on a
// pipe (--remote-debugging-pipe: we write fd 3, it writes fd 4, messages
// are JSON ended by NUL). No port is opened.
type browser struct {
	cmd     *exec.Cmd
	w       io.WriteCloser
	mu      sync.Mutex
	nextID  int
	waiting map[int]chan cdpMessage
	done    chan struct{} // closed when the pipe from Chromium ends
	stderr  *limitedBuffer
}

type cdpMessage struct {
	ID        int             `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct {
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

func startBrowser(t *testing.T, bin string) *browser {
	t.Helper()
	tmp := t.TempDir()
	toChromeR, toChromeW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	fromChromeR, fromChromeW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+filepath.Join(tmp, "profile"),
		"--hide-scrollbars", "--remote-debugging-pipe", "about:blank")
	cmd.ExtraFiles = []*os.File{toChromeR, fromChromeW}
	// Its own process group, so cleanup can stop the browser and exactly the
	// helpers it started, nothing else.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Env = append(os.Environ(), "HOME="+tmp, "XDG_CONFIG_HOME="+tmp, "XDG_CACHE_HOME="+tmp)
	b := &browser{
		cmd: cmd, w: toChromeW, waiting: map[int]chan cdpMessage{},
		done: make(chan struct{}), stderr: &limitedBuffer{},
	}
	cmd.Stderr = b.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	toChromeR.Close()
	fromChromeW.Close()
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		toChromeW.Close() // Chromium exits when its pipe closes
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		fromChromeR.Close()
	})
	go b.read(fromChromeR)
	return b
}

func (b *browser) read(r io.Reader) {
	defer close(b.done)
	br := bufio.NewReaderSize(r, 1<<20)
	for {
		raw, err := br.ReadBytes(0)
		if err != nil {
			return
		}
		var m cdpMessage
		if json.Unmarshal(raw[:len(raw)-1], &m) != nil {
			continue
		}
		if m.ID == 0 {
			continue // an event; the test polls instead of waiting on events
		}
		b.mu.Lock()
		ch := b.waiting[m.ID]
		delete(b.waiting, m.ID)
		b.mu.Unlock()
		if ch != nil {
			ch <- m // buffered: never blocks the reader
		}
	}
}

// call sends one command and waits for its answer.
func (b *browser) call(ctx context.Context, session, method string, params any, result any) error {
	b.mu.Lock()
	b.nextID++
	id := b.nextID
	ch := make(chan cdpMessage, 1)
	b.waiting[id] = ch
	b.mu.Unlock()
	msg, _ := json.Marshal(map[string]any{"id": id, "sessionId": session, "method": method, "params": params})
	if session == "" {
		msg, _ = json.Marshal(map[string]any{"id": id, "method": method, "params": params})
	}
	if _, err := b.w.Write(append(msg, 0)); err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	select {
	case m := <-ch:
		if m.Error != nil {
			return fmt.Errorf("%s: %s", method, m.Error.Message)
		}
		if result != nil {
			return json.Unmarshal(m.Result, result)
		}
		return nil
	case <-b.done:
		return fmt.Errorf("%s: browser went away; its stderr: %s", method, b.stderr.String())
	case <-ctx.Done():
		return fmt.Errorf("%s: %w", method, ctx.Err())
	}
}

// loadedHref is the tab's address once its document has loaded, "" while
// it is still loading. An evaluation that a navigation overtakes ("Inspected
// target navigated or closed") also means "still loading": the page is
// leaving, which is what a redirect or a clicked link does (navigate below
// reads it the same way).
func (b *browser) loadedHref(ctx context.Context, session string) (string, error) {
	var at string
	err := b.eval(ctx, session, "document.readyState === 'complete' ? location.href : ''", &at)
	if err != nil && strings.Contains(err.Error(), "navigated or closed") {
		return "", nil
	}
	return at, err
}

// navigate loads url in the session's tab and waits until that document
// (not the previous one) has finished loading. Polling readyState and the
// URL avoids mistaking the initial about:blank's load event for ours.
func (b *browser) navigate(ctx context.Context, session, url string) error {
	if err := b.call(ctx, session, "Page.navigate", map[string]any{"url": url}, nil); err != nil {
		return err
	}
	want, _ := json.Marshal(url)
	js := "document.readyState === 'complete' && location.href === " + string(want)
	for {
		var ok bool
		if err := b.eval(ctx, session, js, &ok); err != nil && !strings.Contains(err.Error(), "navigated or closed") {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("loading %s: %w", url, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// tab opens a page target of the given viewport size and returns its
// session.
func (b *browser) tab(ctx context.Context, width, height int) (string, error) {
	var created struct{ TargetID string }
	if err := b.call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &created); err != nil {
		return "", err
	}
	var attached struct{ SessionID string }
	if err := b.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": created.TargetID, "flatten": true}, &attached); err != nil {
		return "", err
	}
	s := attached.SessionID
	if err := b.call(ctx, s, "Page.enable", map[string]any{}, nil); err != nil {
		return "", err
	}
	return s, b.call(ctx, s, "Emulation.setDeviceMetricsOverride",
		map[string]any{"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}, nil)
}

func (b *browser) eval(ctx context.Context, session, js string, out any) error {
	var r struct {
		Result           struct{ Value json.RawMessage }
		ExceptionDetails *struct{ Text string }
	}
	if err := b.call(ctx, session, "Runtime.evaluate", map[string]any{"expression": js, "returnByValue": true}, &r); err != nil {
		return err
	}
	if r.ExceptionDetails != nil {
		return errors.New("script failed: " + r.ExceptionDetails.Text)
	}
	return json.Unmarshal(r.Result.Value, out)
}

func (b *browser) scheme(ctx context.Context, session, scheme string) error {
	return b.call(ctx, session, "Emulation.setEmulatedMedia", map[string]any{
		"features": []map[string]string{{"name": "prefers-color-scheme", "value": scheme}}}, nil)
}

type rect struct{ X, Y, Width, Height float64 }

func (b *browser) screenshot(ctx context.Context, session string, clip rect) ([]byte, error) {
	return b.screenshotAt(ctx, session, clip, 1)
}

// screenshotAt renders clip at scale device pixels per CSS pixel.
func (b *browser) screenshotAt(ctx context.Context, session string, clip rect, scale float64) ([]byte, error) {
	var r struct{ Data string }
	err := b.call(ctx, session, "Page.captureScreenshot", map[string]any{
		"format": "png", "captureBeyondViewport": true,
		"clip": map[string]any{"x": clip.X, "y": clip.Y, "width": clip.Width, "height": clip.Height, "scale": scale},
	}, &r)
	if err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(r.Data)
}

// lumaStats returns the mean and standard deviation of a picture's
// brightness (0–255).
func lumaStats(t *testing.T, pngData []byte) (mean, sd float64, size image.Point) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(pngData))
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	bnd := img.Bounds()
	var sum, sum2, n float64
	for y := bnd.Min.Y; y < bnd.Max.Y; y++ {
		for x := bnd.Min.X; x < bnd.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			l := (0.2126*float64(r) + 0.7152*float64(g) + 0.0722*float64(b)) / 257
			sum += l
			sum2 += l * l
			n++
		}
	}
	mean = sum / n
	return mean, math.Sqrt(sum2/n - mean*mean), bnd.Size()
}

// trustLabel is one "Trust" button label in a drawing: where it is on the
// page, and how many points of its box lie on the stroke of another shape
// (a ring or a connector drawn across the word).
type trustLabel struct {
	Drawing   int
	Box       rect
	Crossings int
}

const trustLabelsJS = `(() => {
  const out = [];
  document.querySelectorAll('figure svg').forEach((svg, i) => {
    svg.querySelectorAll('text').forEach(t => {
      if (t.textContent.trim() !== TRUST) return;
      const b = t.getBBox(), r = t.getBoundingClientRect();
      let crossings = 0;
      svg.querySelectorAll('circle, rect, path, line, ellipse, polyline').forEach(g => {
        if (getComputedStyle(g).stroke === 'none') return;
        for (let x = b.x; x <= b.x + b.width; x += 0.5) {
          for (let y = b.y; y <= b.y + b.height; y += 0.5) {
            const p = svg.createSVGPoint(); p.x = x; p.y = y;
            if (g.isPointInStroke(p)) crossings++;
          }
        }
      });
      out.push({drawing: i, box: {x: r.left, y: r.top + window.scrollY, width: r.width, height: r.height}, crossings});
    });
  });
  return out;
})()`

// checkTrustLabels: every drawing's "Trust" label is legible in the
// current colour scheme. No stroke crosses it, and its colour stands out
// from what is behind it by at least WCAG's 4.5:1 for normal text,
// measured on the rendered pixels (so tints and overlays count).
func checkTrustLabels(ctx context.Context, t *testing.T, b *browser, session, scheme string) {
	t.Helper()
	var labels []trustLabel
	js := strings.Replace(trustLabelsJS, "TRUST", strconv.Quote(trustWord[current()]), 1)
	if err := b.eval(ctx, session, js, &labels); err != nil {
		t.Fatal(err)
	}
	if len(labels) != 2 {
		t.Errorf("%s: %d \"Trust\" labels in the drawings, want 2 (the Trust question, Fix trust)", scheme, len(labels))
	}
	for _, l := range labels {
		if l.Crossings > 0 {
			t.Errorf("%s: a stroke crosses the Trust label of drawing %d (%d points)", scheme, l.Drawing, l.Crossings)
		}
		shot, err := b.screenshotAt(ctx, session, l.Box, 4)
		if err != nil {
			t.Fatal(err)
		}
		ratio := labelContrast(t, shot)
		t.Logf("%s: Trust label of drawing %d: %.1fx%.1f px, contrast %.2f:1", scheme, l.Drawing, l.Box.Width, l.Box.Height, ratio)
		if ratio < 4.5 {
			t.Errorf("%s: the Trust label of drawing %d has contrast %.2f:1 with its background, want ≥ 4.5:1", scheme, l.Drawing, ratio)
		}
	}
}

// labelContrast is the WCAG contrast ratio between a text's background
// (the most common colour in its box) and its ink: the 95th percentile of
// the pixels' contrast with that background, so the solid middle of the
// strokes counts and a stray anti-aliased pixel does not.
func labelContrast(t *testing.T, pngData []byte) float64 {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(pngData))
	if err != nil {
		t.Fatalf("label screenshot: %v", err)
	}
	lin := func(v uint32) float64 {
		c := float64(v) / 0xffff
		if c <= 0.04045 {
			return c / 12.92
		}
		return math.Pow((c+0.055)/1.055, 2.4)
	}
	count := map[[3]uint32]int{}
	var lums []float64
	var bg [3]uint32
	bnd := img.Bounds()
	for y := bnd.Min.Y; y < bnd.Max.Y; y++ {
		for x := bnd.Min.X; x < bnd.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			k := [3]uint32{r, g, b}
			if count[k]++; count[k] > count[bg] {
				bg = k
			}
			lums = append(lums, 0.2126*lin(r)+0.7152*lin(g)+0.0722*lin(b))
		}
	}
	lbg := 0.2126*lin(bg[0]) + 0.7152*lin(bg[1]) + 0.0722*lin(bg[2])
	ratios := make([]float64, len(lums))
	for i, l := range lums {
		hi, lo := math.Max(l, lbg), math.Min(l, lbg)
		ratios[i] = (hi + 0.05) / (lo + 0.05)
	}
	slices.Sort(ratios)
	return ratios[len(ratios)*95/100]
}

// pageFacts is what the page reports about itself after navigation.
type pageFacts struct {
	Hash        string
	ScrollY     float64
	HeadingTop  float64 // step-6 heading, relative to the viewport
	Section     rect    // step-6 heading to the next h2, in page coordinates
	Background  string
	Drawings    []float64 // rendered width of each inline SVG
	Title       string
	Fragment    string // the text of the :target heading
	BodyScrollW float64
}

const factsJS = `(() => {
  const h = document.getElementById('step-6');
  const r = h.getBoundingClientRect();
  let bottom = r.bottom;
  for (let e = h.nextElementSibling; e && e.tagName !== 'H2'; e = e.nextElementSibling) {
    bottom = Math.max(bottom, e.getBoundingClientRect().bottom);
  }
  const main = document.querySelector('main').getBoundingClientRect();
  const t = document.querySelector(':target');
  return {
    hash: location.hash, scrollY: window.scrollY, headingTop: r.top,
    section: {x: main.left - 16, y: r.top + window.scrollY - 16, width: main.width + 32, height: bottom - r.top + 32},
    background: getComputedStyle(document.documentElement).backgroundColor,
    drawings: [...document.querySelectorAll('figure svg')].map(s => s.getBoundingClientRect().width),
    title: document.title,
    fragment: t ? t.textContent : '',
    bodyScrollW: document.documentElement.scrollWidth,
  };
})()`

// trustWord is the iPhone's Trust button in each language's drawings
// (Apple's own word).
var trustWord = map[string]string{"en": "Trust", "ru": "Доверять"}

// TestChromiumRendersStep6 opens the guide the way trustwatch does (Open,
// with the browser launch replaced by headless Chromium), in every
// language, checks that the page lands on the step-6 section with its
// drawings drawn, and screenshots that section in light and dark mode. With
// TRUSTWATCH_UPDATE_DOCS=1 the screenshots are copied to
// docs/guide-step-6.png and docs/guide-step-6-dark.png (English) and
// docs/guide-step-6-<lang>.png, docs/guide-step-6-<lang>-dark.png.
func TestChromiumRendersStep6(t *testing.T) {
	bin := requireTool(t, "chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
	defer lang.Set(lang.Current())
	for _, tag := range Languages() {
		t.Run(tag, func(t *testing.T) {
			if trustWord[tag] == "" {
				t.Fatalf("add %s's word for the Trust button to trustWord", tag)
			}
			lang.Set(lang.Choice{Tag: tag, Source: "test"})
			chromiumStep6(t, bin, tag)
		})
	}
}

func chromiumStep6(t *testing.T, bin, tag string) {
	withCache(t)
	opened := recordOpener(t, nil)
	if err := Open("step-6"); err != nil {
		t.Fatal(err)
	}
	pageURL := (*opened)[0]

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	b := startBrowser(t, bin)
	session, err := b.tab(ctx, 960, 900)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.scheme(ctx, session, "light"); err != nil {
		t.Fatal(err)
	}
	if err := b.navigate(ctx, session, pageURL); err != nil {
		t.Fatal(err)
	}

	shots := map[string][]byte{}
	means := map[string]float64{}
	for _, scheme := range []string{"light", "dark"} {
		if err := b.scheme(ctx, session, scheme); err != nil {
			t.Fatal(err)
		}
		var f pageFacts
		if err := b.eval(ctx, session, factsJS, &f); err != nil {
			t.Fatal(err)
		}
		if f.Hash != "#step-6" || f.Fragment != Title("step-6") {
			t.Errorf("%s: landed on %q (target %q), want #step-6", scheme, f.Hash, f.Fragment)
		}
		// The fragment scrolled the page so the heading is at the top.
		if f.ScrollY < 500 || f.HeadingTop < -1 || f.HeadingTop > 40 {
			t.Errorf("%s: step-6 heading at %.0fpx in the viewport after scrolling %.0fpx; want it at the top", scheme, f.HeadingTop, f.ScrollY)
		}
		if !strings.HasSuffix(f.Title, "· trustwatch") {
			t.Errorf("%s: title %q", scheme, f.Title)
		}
		if len(f.Drawings) != 3 || f.Drawings[0] < 200 || f.Drawings[1] < 600 || f.Drawings[2] < 600 {
			t.Errorf("%s: drawings rendered at widths %v", scheme, f.Drawings)
		}
		if f.BodyScrollW > 960 {
			t.Errorf("%s: page is %0.fpx wide in a 960px window (horizontal scrolling)", scheme, f.BodyScrollW)
		}
		if f.Section.Height < 400 || f.Section.Height > 3000 {
			t.Fatalf("%s: step-6 section measures %+v", scheme, f.Section)
		}
		shot, err := b.screenshot(ctx, session, f.Section)
		if err != nil {
			t.Fatal(err)
		}
		mean, sd, size := lumaStats(t, shot)
		t.Logf("%s: background %s, step-6 section %dx%d px, brightness mean %.1f, sd %.1f, %d bytes",
			scheme, f.Background, size.X, size.Y, mean, sd, len(shot))
		// Not blank: text and drawings give strong contrast.
		if sd < 25 {
			t.Errorf("%s: screenshot looks blank (brightness sd %.1f)", scheme, sd)
		}
		shots[scheme], means[scheme] = shot, mean
		checkTrustLabels(ctx, t, b, session, scheme)
	}
	if means["light"] < 180 || means["dark"] > 90 {
		t.Errorf("colour scheme not applied: mean brightness light %.1f, dark %.1f", means["light"], means["dark"])
	}

	// The redirect page the default openers use lands on the same section.
	stubURL, err := viaRedirect(pageURL)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.call(ctx, session, "Page.navigate", map[string]any{"url": stubURL}, nil); err != nil {
		t.Fatal(err)
	}
	for {
		at, err := b.loadedHref(ctx, session)
		if err != nil {
			t.Fatal(err)
		}
		if at == pageURL {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("redirect page %s never reached %s (at %q)", stubURL, pageURL, at)
		case <-time.After(50 * time.Millisecond):
		}
	}

	// The language switch leads to the same section in the other language.
	if err := b.navigate(ctx, session, pageURL); err != nil {
		t.Fatal(err)
	}
	var other string
	if err := b.eval(ctx, session, `(() => { const a = document.querySelector('nav.langs a'); if (!a) return ''; const l = a.getAttribute('hreflang'); a.click(); return l; })()`, &other); err != nil {
		t.Fatal(err)
	}
	if other == "" {
		t.Fatal("the page has no language switch")
	}
	for want := PageName(other) + "#step-6"; ; {
		var htmlLang string
		at, err := b.loadedHref(ctx, session)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(at, "/"+want) {
			if err := b.eval(ctx, session, "document.documentElement.lang", &htmlLang); err != nil || htmlLang != other {
				t.Errorf("switched to %s but the page says lang=%q (%v)", at, htmlLang, err)
			}
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the language switch never reached %s (at %q)", want, at)
		case <-time.After(50 * time.Millisecond):
		}
	}

	if os.Getenv("TRUSTWATCH_UPDATE_DOCS") == "1" {
		suffix := ""
		if tag != "en" {
			suffix = "-" + tag
		}
		for name, shot := range map[string][]byte{"guide-step-6" + suffix + ".png": shots["light"], "guide-step-6" + suffix + "-dark.png": shots["dark"]} {
			dst := filepath.Join("..", "docs", name)
			if err := os.WriteFile(dst, shot, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("wrote %s", dst)
		}
	}
	_ = b.call(ctx, "", "Browser.close", map[string]any{}, nil)
}
