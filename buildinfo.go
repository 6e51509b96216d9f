package main

import (
	"os"
	"runtime/debug"
	"strings"
	"time"
)

// Stamped by scripts/release.sh:
//
//	-ldflags "-X main.version=1.2.0 -X main.commit=<sha> -X main.date=<RFC 3339>"
//
// A plain `go build` leaves them empty and readBuildInfo falls back to what
// the Go toolchain recorded (module version, VCS revision and time).
var (
	version string
	commit  string
	date    string
)

// buildInfo is what this binary knows about itself: the one place that
// `version`, About and reports read it from.
type buildInfo struct {
	Version  string // "1.2.0", a Go pseudo-version, or "dev"
	Commit   string // full VCS revision, or "unknown"
	Modified bool   // built from a work tree with uncommitted changes
	Date     string // the release's stamp or the commit's time (RFC 3339), else Built
	Built    string // YYYY-MM-DD: the stamp's day, else the executable's own time
}

func readBuildInfo() buildInfo {
	b := buildInfo{Version: version, Commit: commit, Date: date}
	if bi, ok := debug.ReadBuildInfo(); ok {
		b = withBuildInfo(b, bi)
	}
	if b.Version == "" {
		b.Version = "dev"
	}
	if b.Commit == "" {
		b.Commit = "unknown"
	}
	if len(b.Date) >= 10 {
		b.Built = b.Date[:10]
	} else if exe, err := os.Executable(); err == nil {
		// go build writes the executable last, and packages keep that time.
		if st, err := os.Stat(exe); err == nil {
			b.Built = st.ModTime().UTC().Format(time.DateOnly)
		}
	}
	if b.Date == "" {
		b.Date = b.Built
	}
	if b.Date == "" {
		b.Date = "unknown"
	}
	return b
}

// withBuildInfo fills what the linker flags left empty from the toolchain's
// record. Linker flags win: a release is stamped from its tag.
func withBuildInfo(b buildInfo, bi *debug.BuildInfo) buildInfo {
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

// String is the one-line form for the log: "1.2.0 (abc123456789, 2025-06-01)";
// unknown parts are left out.
func (b buildInfo) String() string {
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
