package main

import (
	"bytes"
	"debug/macho"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"howett.net/plist"
)

// TestBundleFromCrossBuiltBinary cross-builds trustwatch for macOS, assembles
// the .app around it and checks what Finder, launchd and LaunchServices
// read: the layout, Info.plist's keys (parsed twice: by howett.net/plist and,
// independently, by Python's plistlib), the executable and the icon.
func TestBundleFromCrossBuiltBinary(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "trustwatch-darwin")
	// amd64 like scripts/test.sh's cross-build, so its compiled packages are reused.
	build := exec.Command("go", "build", "-o", bin, "github.com/trustwatch/trustwatch")
	build.Env = append(os.Environ(), "GOOS=darwin", "GOARCH=amd64", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("cross-build: %v\n%s", err, out)
	}
	icns := filepath.Join("..", "..", "icons", "icns", "app.icns")
	app := filepath.Join(dir, "trustwatch.app")
	if err := Assemble(Options{Binary: bin, Version: "1.4.2-snapshot.20250601.abc1234", ICNS: icns, Out: app}); err != nil {
		t.Fatal(err)
	}

	raw, err := os.ReadFile(filepath.Join(app, "Contents", "Info.plist"))
	if err != nil {
		t.Fatal(err)
	}
	var info map[string]any
	format, err := plist.Unmarshal(raw, &info)
	if err != nil || format != plist.XMLFormat {
		t.Fatalf("Info.plist: format %d, %v", format, err)
	}
	for key, want := range map[string]any{
		"CFBundleIdentifier":         "com.github.trustwatch",
		"CFBundleExecutable":         "trustwatch",
		"CFBundlePackageType":        "APPL",
		"CFBundleShortVersionString": "1.4.2",
		"CFBundleVersion":            "1.4.2",
		"TrustwatchVersion":          "1.4.2-snapshot.20250601.abc1234",
		"CFBundleIconFile":           "trustwatch.icns",
		"LSUIElement":                true,
		"LSMinimumSystemVersion":     "12.0", // what Go 1.26 links for
	} {
		if info[key] != want {
			t.Errorf("Info.plist %s = %#v, want %#v", key, info[key], want)
		}
	}
	if pkg, _ := os.ReadFile(filepath.Join(app, "Contents", "PkgInfo")); string(pkg) != "APPL????" {
		t.Errorf("PkgInfo %q", pkg)
	}

	// The executable the plist names: a macOS program, executable, the very binary.
	exe := filepath.Join(app, "Contents", "MacOS", info["CFBundleExecutable"].(string))
	st, err := os.Stat(exe)
	if err != nil || st.Mode().Perm()&0o111 != 0o111 {
		t.Fatalf("executable: %v %v", st, err)
	}
	f, err := macho.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	if f.Cpu != macho.CpuAmd64 || f.Type != macho.TypeExec {
		t.Errorf("executable is %v %v", f.Cpu, f.Type)
	}
	f.Close()
	if a, b := mustRead(t, bin), mustRead(t, exe); !bytes.Equal(a, b) {
		t.Error("the bundle's executable differs from the binary")
	}

	// The icon the plist names, byte for byte the generated one.
	got := mustRead(t, filepath.Join(app, "Contents", "Resources", info["CFBundleIconFile"].(string)))
	if !bytes.Equal(got, mustRead(t, icns)) || string(got[:4]) != "icns" {
		t.Error("Resources icon is not icons/icns/app.icns")
	}

	// A second, independent reader.
	py, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("python3 not found; CI=true makes this a failure")
		}
		t.Skip("SKIPPED: python3 not found, Info.plist checked by one parser only")
	}
	out, err := exec.Command(py, "-c", `import json, plistlib, sys
print(json.dumps(plistlib.load(open(sys.argv[1], "rb"))))`, filepath.Join(app, "Contents", "Info.plist")).Output()
	if err != nil {
		t.Fatalf("plistlib: %v", err)
	}
	var viaPython map[string]any
	if err := json.Unmarshal(out, &viaPython); err != nil {
		t.Fatal(err)
	}
	if len(viaPython) != len(info) || viaPython["LSUIElement"] != true || viaPython["CFBundleIdentifier"] != "com.github.trustwatch" {
		t.Errorf("plistlib read %v", viaPython)
	}
}

func TestAssembleRefuses(t *testing.T) {
	dir := t.TempDir()
	notMacho := filepath.Join(dir, "elf")
	os.WriteFile(notMacho, []byte("\x7fELF not a mach-o"), 0o755)
	icns := filepath.Join("..", "..", "icons", "icns", "app.icns")
	for name, o := range map[string]Options{
		"not a bundle name": {Binary: notMacho, Version: "1.0.0", ICNS: icns, Out: filepath.Join(dir, "x")},
		"not a version":     {Binary: notMacho, Version: "snapshot", ICNS: icns, Out: filepath.Join(dir, "x.app")},
		"not macOS":         {Binary: notMacho, Version: "1.0.0", ICNS: icns, Out: filepath.Join(dir, "x.app")},
	} {
		if err := Assemble(o); err == nil {
			t.Errorf("%s: assembled", name)
		}
	}
	for in, want := range map[string]string{"1.2.3": "1.2.3", "v0.10.0-snapshot.1": "0.10.0", "1.2.3+dirty": "1.2.3"} {
		if got, err := bundleVersion(in); got != want || err != nil {
			t.Errorf("bundleVersion(%q) = %q, %v", in, got, err)
		}
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
