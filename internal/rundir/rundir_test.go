package rundir

import (
	"os"
	"path/filepath"
	"testing"
)

func TestFirstPassesOverUnusableDirs(t *testing.T) {
	base := t.TempDir()
	file := filepath.Join(base, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(base, "cache", Name)
	dirs := Candidates(file, filepath.Join(base, "cache"), "")
	if len(dirs) != 2 || dirs[1] != good {
		t.Fatalf("candidates %v", dirs)
	}
	d, skipped, err := First(dirs)
	if err != nil || d != good || len(skipped) != 1 {
		t.Fatalf("First = %q %v %v", d, skipped, err)
	}
	if fi, err := os.Stat(good); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("made %v %v", fi.Mode(), err)
	}
	if _, _, err := First([]string{file}); err == nil {
		t.Fatal("no usable dir, no error")
	}
	if got := Candidates("relative/dir", "", ""); len(got) != 0 {
		t.Fatalf("a relative XDG_RUNTIME_DIR must be ignored: %v", got)
	}
}
