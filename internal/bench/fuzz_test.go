package bench

import (
	"os"
	"path/filepath"
	"testing"
)

func TestFindFuzzTargets(t *testing.T) {
	root := t.TempDir()
	write := func(rel, body string) {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a/x_test.go", "package a\nfunc FuzzB(f *testing.F) {}\nfunc FuzzA(f *testing.F) {}\nfunc TestFuzzy(t *testing.T) {}\n")
	write("b/c/y_test.go", "package c\nfunc FuzzC(ff *testing.F) {\n}\n// func FuzzNot(f *testing.F)\n")
	write("b/z.go", "package b\nfunc FuzzNotATest(f *testing.F) {}\n")
	write("a/testdata/q_test.go", "package q\nfunc FuzzHidden(f *testing.F) {}\n")
	got, err := FindFuzzTargets(root)
	if err != nil {
		t.Fatal(err)
	}
	want := []FuzzTarget{{"a", "FuzzA"}, {"a", "FuzzB"}, {"b/c", "FuzzC"}}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("target %d = %v, want %v", i, got[i], want[i])
		}
	}
}

func TestFindFuzzTargetsInThisRepo(t *testing.T) {
	// The repository has fuzz targets (usbmux, lockdown framing); finding
	// none would mean the bench silently fuzzes nothing.
	got, err := FindFuzzTargets("../..")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 {
		t.Fatal("no fuzz targets found in the repository")
	}
}
