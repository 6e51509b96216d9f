// Command winres writes the Windows resources of trustwatch.exe — the icon,
// the version information and a DPI-aware manifest — as
// rsrc_windows_amd64.syso and rsrc_windows_arm64.syso beside main.go, where
// `go build` links them in.
//
// The committed .syso files carry version 0.0.0 ("dev"), so a plain build
// from source has the icon and the manifest; a release regenerates them
// with its own version before building:
//
//	go run ./internal/cmd/winres -version 1.2.3
//
// With -check EXE it verifies a built trustwatch.exe instead: GUI subsystem,
// the icon, the DPI-aware manifest and the version (release scripts and the
// Wine test run it).
package main

import (
	"bytes"
	"debug/pe"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"

	"github.com/tc-hib/winres"
	"github.com/tc-hib/winres/version"
)

func main() {
	ver := flag.String("version", "dev", `version: "dev" or N.N.N[.N] with an optional -suffix`)
	dir := flag.String("dir", ".", "directory of the main package")
	check := flag.String("check", "", "verify this built .exe instead of writing the .syso files")
	flag.Parse()
	run := func() error { return write(*dir, *ver) }
	if *check != "" {
		run = func() error { return Check(*check, *ver) }
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "winres:", err)
		os.Exit(1)
	}
}

var archs = map[string]winres.Arch{"amd64": winres.ArchAMD64, "arm64": winres.ArchARM64}

func write(dir, ver string) error {
	for name, arch := range archs {
		b, err := Build(filepath.Join(dir, "icons", "ico", "app.ico"), ver, arch)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "rsrc_windows_"+name+".syso"), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

var versionRE = regexp.MustCompile(`^v?(\d+)\.(\d+)\.(\d+)(?:\.(\d+))?(-[0-9A-Za-z.-]+)?$`)

func mustAtoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// Build returns the COFF object for one architecture. It is deterministic:
// the same icon and version give the same bytes.
func Build(icoPath, ver string, arch winres.Arch) ([]byte, error) {
	numeric := "0.0.0.0"
	if ver != "dev" {
		m := versionRE.FindStringSubmatch(ver)
		if m == nil {
			return nil, fmt.Errorf("version %q is neither dev nor N.N.N[.N][-suffix]", ver)
		}
		build := m[4]
		if build == "" {
			build = "0"
		}
		for _, n := range []string{m[1], m[2], m[3], build} {
			if len(n) > 5 || mustAtoi(n) > 0xFFFF {
				return nil, fmt.Errorf("version %q: each number must fit in 16 bits", ver)
			}
		}
		numeric = m[1] + "." + m[2] + "." + m[3] + "." + build
	}
	f, err := os.Open(icoPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	icon, err := winres.LoadICO(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", icoPath, err)
	}
	rs := &winres.ResourceSet{}
	// ID 1 is the icon Explorer, the Start menu and the taskbar show.
	if err := rs.SetIcon(winres.ID(1), icon); err != nil {
		return nil, err
	}
	rs.SetManifest(winres.AppManifest{
		Description:         "trustwatch: why your iPhone does not show up, and what to do",
		Compatibility:       winres.Win10AndAbove,
		ExecutionLevel:      winres.AsInvoker, // per-user; never asks for elevation
		DPIAwareness:        winres.DPIPerMonitorV2,
		UseCommonControlsV6: true,
		LongPathAware:       true,
	})
	var vi version.Info
	vi.SetFileVersion(numeric)
	vi.SetProductVersion(numeric)
	for k, v := range map[string]string{
		version.ProductName:      "trustwatch",
		version.FileDescription:  "trustwatch",
		version.CompanyName:      "trustwatch",
		version.InternalName:     "trustwatch",
		version.OriginalFilename: "trustwatch.exe",
		version.LegalCopyright:   "trustwatch contributors",
		version.ProductVersion:   ver,
		version.FileVersion:      ver,
	} {
		if err := vi.Set(version.LangNeutral, k, v); err != nil {
			return nil, err
		}
	}
	rs.SetVersionInfo(vi)
	var out bytes.Buffer
	if err := rs.WriteObject(&out, arch); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// Check verifies a built exe: GUI subsystem (-H=windowsgui), icon 1, a
// PerMonitorV2 manifest and ProductVersion ver.
func Check(exe, ver string) error {
	pf, err := pe.Open(exe)
	if err != nil {
		return err
	}
	var sub uint16
	switch h := pf.OptionalHeader.(type) {
	case *pe.OptionalHeader64:
		sub = h.Subsystem
	case *pe.OptionalHeader32:
		sub = h.Subsystem
	}
	pf.Close()
	if sub != pe.IMAGE_SUBSYSTEM_WINDOWS_GUI {
		return fmt.Errorf("%s: subsystem %d, not the GUI subsystem (%d): build with -ldflags -H=windowsgui", exe, sub, pe.IMAGE_SUBSYSTEM_WINDOWS_GUI)
	}
	f, err := os.Open(exe)
	if err != nil {
		return err
	}
	defer f.Close()
	rs, err := winres.LoadFromEXE(f)
	if err != nil {
		return fmt.Errorf("%s: resources: %w", exe, err)
	}
	if icon, err := rs.GetIcon(winres.ID(1)); err != nil || icon == nil {
		return fmt.Errorf("%s: no icon 1 (%v)", exe, err)
	}
	var manifest []byte
	rs.WalkType(winres.RT_MANIFEST, func(_ winres.Identifier, _ uint16, data []byte) bool {
		manifest = data
		return false
	})
	if !bytes.Contains(bytes.ToLower(manifest), []byte("permonitorv2")) {
		return fmt.Errorf("%s: the manifest is not per-monitor DPI aware: %q", exe, manifest)
	}
	var vi *version.Info
	rs.WalkType(winres.RT_VERSION, func(_ winres.Identifier, _ uint16, data []byte) bool {
		vi, err = version.FromBytes(data)
		return false
	})
	if vi == nil {
		return errors.Join(fmt.Errorf("%s: no version information", exe), err)
	}
	js, err := vi.MarshalJSON()
	if err != nil {
		return err
	}
	var parsed struct {
		Info map[string]map[string]string `json:"info"`
	}
	if err := json.Unmarshal(js, &parsed); err != nil {
		return err
	}
	for _, strs := range parsed.Info {
		if got := strs[version.ProductVersion]; got != ver {
			return fmt.Errorf("%s: ProductVersion %q, want %q", exe, got, ver)
		}
		return nil
	}
	return fmt.Errorf("%s: version information without strings", exe)
}
