package main

import (
	"runtime/debug"
	"strings"
)

// Stamped by scripts/release.sh:
//
//	-ldflags "-X main.version=1.2.0 -X main.commit=<sha> -X main.date=<RFC 3339>"
//
// A plain `go build` leaves them empty and buildInfo falls back to what the
// Go toolchain recorded (module version, VCS revision and time).
var (
	version string
	commit  string
	date    string
)

// build is what this binary knows about where it came from.
type build struct {
	Version  string // "1.2.0", a Go pseudo-version, or "dev"
	Commit   string // full VCS revision, or "unknown"
	Date     string // commit or build time (RFC 3339), or "unknown"
	Modified bool   // built from a work tree with uncommitted changes
}

func buildInfo() build {
	b := build{Version: version, Commit: commit, Date: date}
	if bi, ok := debug.ReadBuildInfo(); ok {
		b = withBuildInfo(b, bi)
	}
	if b.Version == "" {
		b.Version = "dev"
	}
	if b.Commit == "" {
		b.Commit = "unknown"
	}
	if b.Date == "" {
		b.Date = "unknown"
	}
	return b
}

// withBuildInfo fills what the linker flags left empty from the toolchain's
// record. Linker flags win: a release is stamped from its tag.
func withBuildInfo(b build, bi *debug.BuildInfo) build {
	if b.Version == "" {
		// "(devel)" is what a build outside any version control says.
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			b.Version = strings.TrimPrefix(v, "v")
		}
	}
	stamped := b.Commit != ""
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			if b.Commit == "" {
				b.Commit = s.Value
			}
		case "vcs.time":
			if b.Date == "" {
				b.Date = s.Value
			}
		case "vcs.modified":
			// Only the toolchain knows; a stamped release is built from a clean tag.
			b.Modified = !stamped && s.Value == "true"
		}
	}
	return b
}

// String is the one-line form used by About and the log:
// "1.2.0 (abc123456789, 2025-06-01)"; unknown parts are left out.
func (b build) String() string {
	var parts []string
	if c := b.Commit; c != "" && c != "unknown" {
		if len(c) > 12 {
			c = c[:12]
		}
		if b.Modified {
			c += "+modified"
		}
		parts = append(parts, c)
	}
	if d := b.Date; d != "" && d != "unknown" {
		if len(d) >= 10 {
			d = d[:10]
		}
		parts = append(parts, d)
	}
	if len(parts) == 0 {
		return b.Version
	}
	return b.Version + " (" + strings.Join(parts, ", ") + ")"
}
