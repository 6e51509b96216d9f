package bench

import (
	"bufio"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

// FuzzTarget is one `func FuzzX(f *testing.F)` in the repository.
type FuzzTarget struct {
	Dir  string // package directory, relative to the root ("watcher/usbmux")
	Name string
}

var fuzzFunc = regexp.MustCompile(`^func (Fuzz\w*)\(\w+ \*testing\.F\)`)

// FindFuzzTargets lists every fuzz target under root (skipping .git,
// vendor and testdata), sorted by package and name.
func FindFuzzTargets(root string) ([]FuzzTarget, error) {
	var out []FuzzTarget
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "vendor", "testdata", "node_modules":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			if m := fuzzFunc.FindStringSubmatch(sc.Text()); m != nil {
				rel, err := filepath.Rel(root, filepath.Dir(path))
				if err != nil {
					return err
				}
				out = append(out, FuzzTarget{Dir: filepath.ToSlash(rel), Name: m[1]})
			}
		}
		return sc.Err()
	})
	sort.Slice(out, func(i, j int) bool {
		if out[i].Dir != out[j].Dir {
			return out[i].Dir < out[j].Dir
		}
		return out[i].Name < out[j].Name
	})
	return out, err
}

// RunFuzz runs one target for fuzztime. A new file in the target's
// testdata/fuzz corpus is a crasher: it is moved to crashDir (the corpus
// belongs to the package's owner, who decides whether to keep it).
func RunFuzz(ctx context.Context, root string, t FuzzTarget, fuzztime time.Duration, crashDir string) FuzzRun {
	r := FuzzRun{Package: t.Dir, Target: t.Name, FuzzTime: fuzztime.String()}
	corpus := filepath.Join(root, t.Dir, "testdata", "fuzz", t.Name)
	before := listFiles(corpus)
	// Building the test binary with coverage instrumentation takes a while
	// on a loaded machine; the fuzzing itself is bounded by -fuzztime.
	ctx, cancel := context.WithTimeout(ctx, fuzztime+5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-fuzz", "^"+t.Name+"$",
		"-fuzztime", fuzztime.String(), "./"+t.Dir)
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	var fresh []string
	for f := range listFiles(corpus) {
		if !before[f] {
			fresh = append(fresh, f)
		}
	}
	sort.Strings(fresh)
	for _, f := range fresh {
		dst := filepath.Join(crashDir, t.Dir, t.Name, f)
		if mkErr := os.MkdirAll(filepath.Dir(dst), 0o755); mkErr == nil {
			if mvErr := os.Rename(filepath.Join(corpus, f), dst); mvErr != nil {
				dst = filepath.Join(corpus, f) + " (could not move: " + mvErr.Error() + ")"
			}
		}
		r.Crashers = append(r.Crashers, dst)
	}
	switch {
	case ctx.Err() != nil:
		r.Detail = "timed out: " + ctx.Err().Error()
	case err != nil:
		r.Detail = lastLines(string(out), 15)
	default:
		r.OK = len(r.Crashers) == 0
	}
	return r
}

func listFiles(dir string) map[string]bool {
	m := map[string]bool{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return m
	}
	for _, e := range entries {
		if !e.IsDir() {
			m[e.Name()] = true
		}
	}
	return m
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// FuzzSummary is a one-line account of a fuzz run, for the console.
func (r FuzzRun) String() string {
	switch {
	case len(r.Crashers) > 0:
		return fmt.Sprintf("%s %s: NEW CRASHERS %v", r.Package, r.Target, r.Crashers)
	case !r.OK:
		return fmt.Sprintf("%s %s: FAILED %s", r.Package, r.Target, r.Detail)
	}
	return fmt.Sprintf("%s %s: ok (%s)", r.Package, r.Target, r.FuzzTime)
}
