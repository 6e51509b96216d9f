package guide

import (
	"bytes"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// withCache points os.UserCacheDir at a fresh directory and returns where
// the guide will be written.
func withCache(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", dir) // Linux, BSD
	t.Setenv("HOME", dir)           // macOS: ~/Library/Caches
	t.Setenv("LocalAppData", dir)   // Windows
	base, err := os.UserCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(base, "trustwatch", "guide.html")
}

// recordOpener replaces Opener for the test and records what it is given.
func recordOpener(t *testing.T, fail error) *[]string {
	t.Helper()
	var got []string
	old := Opener
	Opener = func(u string) error { got = append(got, u); return fail }
	t.Cleanup(func() { Opener = old })
	return &got
}

func TestOpenWritesPageAndOpensAnchor(t *testing.T) {
	want := withCache(t)
	got := recordOpener(t, nil)
	if err := Open("step-3"); err != nil {
		t.Fatal(err)
	}
	if len(*got) != 1 {
		t.Fatalf("Opener called %d times", len(*got))
	}
	u, err := url.Parse((*got)[0])
	if err != nil {
		t.Fatal(err)
	}
	if u.Scheme != "file" || u.Fragment != "step-3" || !strings.HasSuffix((*got)[0], "/trustwatch/guide.html#step-3") {
		t.Fatalf("Opener got %q", (*got)[0])
	}
	p := u.Path
	if runtime.GOOS == "windows" {
		p = strings.TrimPrefix(p, "/")
	}
	if filepath.Clean(filepath.FromSlash(p)) != filepath.Clean(want) {
		t.Errorf("URL path %q, want %q", p, want)
	}
	b, err := os.ReadFile(want)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, HTML()) {
		t.Error("the cached page differs from HTML()")
	}

	// The top of the page: no fragment.
	if err := Open(""); err != nil {
		t.Fatal(err)
	}
	if strings.Contains((*got)[1], "#") {
		t.Errorf("Open(\"\") opened %q", (*got)[1])
	}
}

func TestOpenRewritesOnlyWhenChanged(t *testing.T) {
	path := withCache(t)
	recordOpener(t, nil)
	if err := Open("step-1"); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	if err := Open("step-2"); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	if !st.ModTime().Equal(old) {
		t.Errorf("unchanged page was rewritten (mtime %v, want %v)", st.ModTime(), old)
	}
	// A stale or damaged copy is replaced.
	if err := os.WriteFile(path, []byte("old guide"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Open("step-2"); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); !bytes.Equal(b, HTML()) {
		t.Error("stale page was not rewritten")
	}
	ents, _ := os.ReadDir(filepath.Dir(path))
	var names, want []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	for _, l := range Languages() {
		want = append(want, PageName(l))
	}
	sort.Strings(want)
	if !slices.Equal(names, want) {
		t.Errorf("cache dir holds %v, want only %v (temp file left behind?)", names, want)
	}
}

func TestOpenUnknownAnchorWritesNothing(t *testing.T) {
	path := withCache(t)
	got := recordOpener(t, nil)
	err := Open("step-9")
	if !errors.Is(err, ErrUnknownAnchor) {
		t.Fatalf("Open(step-9) = %v, want ErrUnknownAnchor", err)
	}
	if len(*got) != 0 {
		t.Error("Opener was called for an unknown anchor")
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("page written for an unknown anchor (stat: %v)", err)
	}
}

func TestOpenReportsOpenerFailure(t *testing.T) {
	withCache(t)
	recordOpener(t, errors.New("no browser"))
	err := Open("verify")
	if err == nil || !strings.Contains(err.Error(), "no browser") || !strings.Contains(err.Error(), "guide.html#verify") {
		t.Errorf("Open error = %v; want the cause and the URL to open by hand", err)
	}
	old := Opener
	Opener = nil
	defer func() { Opener = old }()
	if err := Open("verify"); err == nil {
		t.Error("Open with a nil Opener succeeded")
	}
}

func TestOpenUnwritableCache(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("uses a file as the cache directory's parent, a Unix-style trick")
	}
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("XDG_CACHE_HOME", blocker) // a file, so MkdirAll below it fails
	t.Setenv("HOME", blocker)
	got := recordOpener(t, nil)
	err := Open("step-1")
	if err == nil || !strings.Contains(err.Error(), "writing the guide") {
		t.Errorf("Open = %v, want a clear write error", err)
	}
	if len(*got) != 0 {
		t.Error("Opener called although the page could not be written")
	}
}

func TestFileURL(t *testing.T) {
	cases := []struct{ path, anchor, want string }{
		{"/home/anna/.cache/trustwatch/guide.html", "step-3", "file:///home/anna/.cache/trustwatch/guide.html#step-3"},
		{"/home/anna b/c#d/guide.html", "", "file:///home/anna%20b/c%23d/guide.html"},
	}
	if runtime.GOOS == "windows" {
		cases = []struct{ path, anchor, want string }{
			{`C:\Users\Anna B\AppData\Local\trustwatch\guide.html`, "step-6", "file:///C:/Users/Anna%20B/AppData/Local/trustwatch/guide.html#step-6"},
		}
	}
	for _, c := range cases {
		if got := fileURL(c.path, c.anchor); got != c.want {
			t.Errorf("fileURL(%q, %q) = %q, want %q", c.path, c.anchor, got, c.want)
		}
	}
}

func TestViaRedirect(t *testing.T) {
	dir := t.TempDir()
	page := filepath.Join(dir, "guide.html")
	for _, u := range []string{"https://example.com/x#y", fileURL(page, ""), "not a url\x7f"} {
		if got, err := viaRedirect(u); err != nil || got != u {
			t.Errorf("viaRedirect(%q) = %q, %v; want it unchanged", u, got, err)
		}
	}
	got, err := viaRedirect(fileURL(page, `x"><b>`))
	if err != nil {
		t.Fatal(err)
	}
	if want := fileURL(filepath.Join(dir, "guide-open.html"), ""); got != want {
		t.Errorf("stub URL %q, want %q", got, want)
	}
	stub, err := os.ReadFile(filepath.Join(dir, "guide-open.html"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(stub), "<b>") || !strings.Contains(string(stub), "guide.html#x%22%3E%3Cb%3E") {
		t.Errorf("fragment not escaped in the stub: %s", stub)
	}
	if _, _, _, missing := htmlIDs(t, stub); len(missing) != 0 {
		t.Errorf("stub has headings without ids: %v", missing)
	}
}

func TestOpenFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "log folder #1")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	got := recordOpener(t, nil)
	if err := OpenFolder(dir); err != nil {
		t.Fatal(err)
	}
	if len(*got) != 1 || (*got)[0] != fileURL(dir, "") || !strings.Contains((*got)[0], "log%20folder%20%231") {
		t.Fatalf("opened %q, want the escaped file URL of %s", *got, dir)
	}
	file := filepath.Join(dir, "trustwatch.log")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"relative/dir", file, filepath.Join(dir, "missing")} {
		if err := OpenFolder(bad); err == nil {
			t.Errorf("OpenFolder(%q) succeeded", bad)
		}
	}
	if len(*got) != 1 {
		t.Errorf("bad folders reached the opener: %q", *got)
	}
	recordOpener(t, errors.New("no file manager"))
	if err := OpenFolder(dir); err == nil || !strings.Contains(err.Error(), "no file manager") {
		t.Errorf("opener failure reported as %v", err)
	}
}
