package guide

import (
	"bytes"
	"errors"
	"fmt"
	"html"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/trustwatch/trustwatch/internal/catalog"
)

// Opener opens a URL in the user's default browser. It is a variable so
// tests (and a future "open in the app" shell) can replace it. The default
// is per OS: xdg-open on Linux and the BSDs, open on macOS,
// rundll32 url.dll,FileProtocolHandler on Windows, each run directly
// (never through a shell, so the URL is one argument whatever it holds). A
// file URL with a #fragment goes through a redirect page (see viaRedirect)
// so that the browser still lands on the section.
var Opener func(url string) error = defaultOpener

// Open writes the guide to the user's cache directory
// (os.UserCacheDir()/trustwatch/guide.html; rewritten only when it
// changed) and opens it in the default browser at anchor. The empty anchor
// opens the top of the page; an unknown one returns an error wrapping
// ErrUnknownAnchor before anything is written.
func Open(anchor string) error {
	_, err := open(anchor)
	return err
}

// URL writes the page like Open does and returns its file:// URL at anchor
// without opening it, for shells that open links themselves (a
// notification's action, for example).
func URL(anchor string) (string, error) {
	if anchor != "" && !Has(anchor) {
		return "", unknownAnchor(anchor)
	}
	path, err := writePage()
	if err != nil {
		return "", err
	}
	return fileURL(path, anchor), nil
}

func open(anchor string) (string, error) {
	u, err := URL(anchor)
	if err != nil {
		return "", err
	}
	op := Opener
	if op == nil {
		return u, errors.New("no way to open a browser on this system; open " + u + " yourself")
	}
	if err := op(u); err != nil {
		return u, fmt.Errorf("could not open %s: %w", u, err)
	}
	return u, nil
}

// writePage makes sure the cache copies of the page are current and returns
// the path of the one in the process's language. Every language's page is
// written (guide.html, guide.ru.html…), so the page's language switch
// leads somewhere. An unchanged page is not rewritten, so an open browser
// tab is not disturbed and nothing is written on every click.
func writePage() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("finding the cache directory for the guide: %w", err)
	}
	dir := filepath.Join(base, "trustwatch")
	for _, tag := range Languages() {
		p, err := loadIn(tag)
		if err != nil {
			return "", err
		}
		if err := writeIfChanged(filepath.Join(dir, PageName(tag)), p.html); err != nil {
			return "", fmt.Errorf("writing the guide: %w", err)
		}
	}
	return filepath.Join(dir, PageName(current())), nil
}

// writeIfChanged writes data to path unless it already holds exactly that.
// It writes beside the file and renames, so a browser never reads half a
// page.
func writeIfChanged(path string, data []byte) error {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return nil
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".guide-*.html")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Chmod(tmp.Name(), 0o644)
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), path)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("%s: %w", path, werr)
	}
	return nil
}

// viaRedirect makes a file:// URL with a fragment survive the trip through
// a launcher. Launchers often drop the fragment of a file URL (xdg-open's
// generic mode turns the URL into a path; the Windows shell does the same),
// and the browser would open the top of the page. So for such a URL this
// writes a tiny page beside the target that forwards to target#fragment,
// and returns the stub's URL, which has no fragment to lose. Other URLs are
// returned as they are.
func viaRedirect(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "file" || u.Fragment == "" {
		return raw, nil
	}
	target := path.Base(u.Path) + "#" + u.EscapedFragment()
	stubPath := path.Join(path.Dir(u.Path), "guide-open.html")
	local := filepath.FromSlash(stubPath)
	if len(stubPath) > 2 && stubPath[0] == '/' && stubPath[2] == ':' {
		local = filepath.FromSlash(stubPath[1:]) // /C:/… on Windows
	}
	t := html.EscapeString(target)
	tag := current()
	stub := "<!DOCTYPE html>\n<html lang=\"" + tag + "\"><head><meta charset=\"utf-8\" />\n" +
		"<meta http-equiv=\"refresh\" content=\"0; url=" + t + "\" />\n" +
		"<title>trustwatch</title></head>\n" +
		"<body><p><a href=\"" + t + "\">" + html.EscapeString(catalog.In(tag).T("guide.open_link", nil)) + "</a></p></body></html>\n"
	if err := writeIfChanged(local, []byte(stub)); err != nil {
		return "", fmt.Errorf("writing the guide's redirect page: %w", err)
	}
	return (&url.URL{Scheme: "file", Path: stubPath}).String(), nil
}

// fileURL is the file:// URL of an absolute path, with anchor as fragment.
// Windows paths become file:///C:/…; characters such as spaces are escaped.
func fileURL(path, anchor string) string {
	p := filepath.ToSlash(path)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return (&url.URL{Scheme: "file", Path: p, Fragment: anchor}).String()
}

// openerWait is how long a launcher may take to report failure. Launchers
// normally hand the URL to the browser and exit at once; one that is still
// running after this is taken as having succeeded.
var openerWait = 5 * time.Second

// launch runs a browser launcher without a shell and reports its failure
// (not found, non-zero exit) with what it printed.
func launch(name string, args ...string) error {
	bin, err := exec.LookPath(name)
	if err != nil {
		return fmt.Errorf("%s is not available: %w", name, err)
	}
	var out limitedBuffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout = &out
	cmd.Stderr = &out
	// The browser it starts may inherit our pipes; do not wait for it.
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", name, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }() // also reaps a launcher that outlives openerWait
	select {
	case err := <-done:
		if err != nil && !errors.Is(err, exec.ErrWaitDelay) {
			if msg := strings.TrimSpace(out.String()); msg != "" {
				return fmt.Errorf("%s: %w: %s", name, err, msg)
			}
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	case <-time.After(openerWait):
		return nil
	}
}

// limitedBuffer keeps the first 2 KiB a launcher prints: enough for its
// error message, and bounded whatever it does.
type limitedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := 2048 - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *limitedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// OpenFolder shows a local folder (the log folder, for About) in the
// desktop's file manager: its file:// URL goes through the same launcher
// as the guide (xdg-open, open, the Windows URL handler).
func OpenFolder(dir string) error {
	if !filepath.IsAbs(dir) {
		return fmt.Errorf("not an absolute folder path: %q", dir)
	}
	st, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("%s is not a folder", dir)
	}
	op := Opener
	if op == nil {
		return errors.New("no way to open a folder on this system; it is " + dir)
	}
	if err := op(fileURL(dir, "")); err != nil {
		return fmt.Errorf("could not open %s: %w", dir, err)
	}
	return nil
}
