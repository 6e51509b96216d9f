// Command macapp assembles trustwatch.app, the macOS menu-bar app bundle,
// around a darwin binary (thin or universal):
//
//	trustwatch.app/Contents/Info.plist        bundle id, version, LSUIElement (no Dock icon)
//	trustwatch.app/Contents/PkgInfo
//	trustwatch.app/Contents/MacOS/trustwatch  the binary
//	trustwatch.app/Contents/Resources/trustwatch.icns
//
// Signing and notarization are separate steps (scripts/release.sh on macOS).
//
//	go run ./internal/macapp -bin trustwatch -version 1.2.0 -icns icons/icns/app.icns -o dist/trustwatch.app
package main

import (
	"bytes"
	"debug/macho"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"

	"howett.net/plist"
)

// BundleID is the bundle identifier; the LaunchAgent's label
// (service/launchagent.go) is the same string.
const BundleID = "com.github.trustwatch"

// Name is the executable's and the icon's file name inside the bundle.
const Name = "trustwatch"

func main() {
	bin := flag.String("bin", "", "darwin trustwatch binary, thin or universal (required)")
	version := flag.String("version", "", "release version, e.g. 1.2.0 or 1.2.1-snapshot.20250601.abc1234 (required)")
	icns := flag.String("icns", "", "the app icon (.icns) (required)")
	out := flag.String("o", "", "the bundle to write, e.g. dist/trustwatch.app; replaced if it exists (required)")
	flag.Parse()
	if *bin == "" || *version == "" || *icns == "" || *out == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: macapp -bin PATH -version V -icns PATH -o DIR.app")
		os.Exit(2)
	}
	if err := Assemble(Options{Binary: *bin, Version: *version, ICNS: *icns, Out: *out}); err != nil {
		fmt.Fprintln(os.Stderr, "macapp:", err)
		os.Exit(1)
	}
}

// Options say what goes into the bundle.
type Options struct {
	Binary, Version, ICNS, Out string
}

// Assemble writes the bundle at o.Out.
func Assemble(o Options) error {
	if filepath.Ext(o.Out) != ".app" {
		return fmt.Errorf("%s: a bundle's name ends in .app", o.Out)
	}
	short, err := bundleVersion(o.Version)
	if err != nil {
		return err
	}
	minOS, err := minimumOS(o.Binary)
	if err != nil {
		return err
	}
	icns, err := os.ReadFile(o.ICNS)
	if err != nil {
		return err
	}
	if len(icns) < 8 || string(icns[:4]) != "icns" || int(binary.BigEndian.Uint32(icns[4:])) != len(icns) {
		return fmt.Errorf("%s is not an .icns file", o.ICNS)
	}
	info, err := InfoPlist(short, o.Version, minOS)
	if err != nil {
		return err
	}
	if err := os.RemoveAll(o.Out); err != nil {
		return err
	}
	contents := filepath.Join(o.Out, "Contents")
	for _, d := range []string{"MacOS", "Resources"} {
		if err := os.MkdirAll(filepath.Join(contents, d), 0o755); err != nil {
			return err
		}
	}
	files := []struct {
		path string
		data []byte
	}{
		{filepath.Join(contents, "Info.plist"), info},
		{filepath.Join(contents, "PkgInfo"), []byte("APPL????")},
		{filepath.Join(contents, "Resources", Name+".icns"), icns},
	}
	for _, f := range files {
		if err := os.WriteFile(f.path, f.data, 0o644); err != nil {
			return err
		}
	}
	return copyFile(o.Binary, filepath.Join(contents, "MacOS", Name), 0o755)
}

// InfoPlist is the bundle's Info.plist (XML).
func InfoPlist(shortVersion, fullVersion, minOS string) ([]byte, error) {
	info := map[string]any{
		"CFBundleDevelopmentRegion":     "en",
		"CFBundleDisplayName":           "trustwatch",
		"CFBundleExecutable":            Name,
		"CFBundleIconFile":              Name + ".icns",
		"CFBundleIdentifier":            BundleID,
		"CFBundleInfoDictionaryVersion": "6.0",
		"CFBundleName":                  "trustwatch",
		"CFBundlePackageType":           "APPL",
		"CFBundleShortVersionString":    shortVersion,
		// CFBundleVersion must be numbers and dots too; the full version
		// (with a snapshot's suffix) is kept in TrustwatchVersion.
		"CFBundleVersion":           shortVersion,
		"TrustwatchVersion":         fullVersion,
		"LSApplicationCategoryType": "public.app-category.utilities",
		"LSMinimumSystemVersion":    minOS,
		"LSUIElement":               true, // a menu-bar app: no Dock icon, no app menu
		"NSHighResolutionCapable":   true,
	}
	var b bytes.Buffer
	enc := plist.NewEncoderForFormat(&b, plist.XMLFormat)
	enc.Indent("\t")
	if err := enc.Encode(info); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

var numericVersion = regexp.MustCompile(`^v?(\d+)\.(\d+)\.(\d+)`)

// bundleVersion is the "X.Y.Z" macOS accepts, from a release version.
func bundleVersion(v string) (string, error) {
	m := numericVersion.FindStringSubmatch(v)
	if m == nil {
		return "", fmt.Errorf("version %q does not start with X.Y.Z", v)
	}
	for _, p := range m[1:] {
		if n, _ := strconv.Atoi(p); n > 99999 {
			return "", fmt.Errorf("version %q: %s is too large for CFBundleVersion", v, p)
		}
	}
	return m[1] + "." + m[2] + "." + m[3], nil
}

// minimumOS reads the macOS version the binary was linked for (its
// LC_BUILD_VERSION), the highest of a universal binary's slices: that is
// what LSMinimumSystemVersion must say.
func minimumOS(path string) (string, error) {
	var files []*macho.File
	if fat, err := macho.OpenFat(path); err == nil {
		defer fat.Close()
		for _, a := range fat.Arches {
			files = append(files, a.File)
		}
	} else if errors.Is(err, macho.ErrNotFat) {
		f, err := macho.Open(path)
		if err != nil {
			return "", fmt.Errorf("%s is not a macOS binary: %v", path, err)
		}
		defer f.Close()
		files = append(files, f)
	} else {
		return "", fmt.Errorf("%s is not a macOS binary: %v", path, err)
	}
	var best uint32
	for _, f := range files {
		if f.Type != macho.TypeExec {
			return "", fmt.Errorf("%s is not an executable (Mach-O type %v)", path, f.Type)
		}
		v, ok := buildVersionMinOS(f)
		if !ok {
			return "", fmt.Errorf("%s (%v) has no LC_BUILD_VERSION", path, f.Cpu)
		}
		best = max(best, v)
	}
	// minos is X.Y.Z in nibbles: xxxx.yy.zz
	return fmt.Sprintf("%d.%d", best>>16, (best>>8)&0xff), nil
}

const lcBuildVersion = 0x32

func buildVersionMinOS(f *macho.File) (uint32, bool) {
	for _, l := range f.Loads {
		raw := l.Raw()
		if len(raw) >= 16 && f.ByteOrder.Uint32(raw) == lcBuildVersion {
			// cmd, cmdsize, platform, minos, sdk, ...
			return f.ByteOrder.Uint32(raw[12:]), true
		}
	}
	return 0, false
}

func copyFile(from, to string, mode os.FileMode) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Chmod(to, mode)
}
