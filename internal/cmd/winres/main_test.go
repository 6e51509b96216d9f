package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/tc-hib/winres"
)

// The committed .syso files are what the generator makes for "dev": a
// changed icon or manifest must be regenerated (go run ./internal/cmd/winres).
func TestCommittedSysoUpToDate(t *testing.T) {
	root := filepath.Join("..", "..", "..")
	for name, arch := range archs {
		want, err := Build(filepath.Join(root, "icons", "ico", "app.ico"), "dev", arch)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(root, "rsrc_windows_"+name+".syso"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("rsrc_windows_%s.syso is stale: run go run ./internal/cmd/winres", name)
		}
	}
}

func TestVersions(t *testing.T) {
	ico := filepath.Join("..", "..", "..", "icons", "ico", "app.ico")
	for _, v := range []string{"dev", "1.2.3", "v1.2.3", "1.2.3.4", "1.2.3-rc.1", "0.1.0-snapshot"} {
		if _, err := Build(ico, v, winres.ArchAMD64); err != nil {
			t.Errorf("%q: %v", v, err)
		}
	}
	for _, v := range []string{"", "1.2", "one", "1.2.3.4.5", "1.2.3 beta", "99999.0.0"} {
		if _, err := Build(ico, v, winres.ArchAMD64); err == nil {
			t.Errorf("%q accepted", v)
		}
	}
}
