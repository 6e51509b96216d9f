package main

import (
	"runtime/debug"
	"testing"
)

func TestWithBuildInfo(t *testing.T) {
	vcs := []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
		{Key: "vcs.time", Value: "2025-06-01T10:00:00Z"},
		{Key: "vcs.modified", Value: "true"},
	}
	for _, c := range []struct {
		name      string
		stamped   buildInfo
		main      string
		settings  []debug.BuildSetting
		want      buildInfo
		wantShort string
	}{
		{"release stamps win", buildInfo{Version: "1.2.0", Commit: "feedbeef", Date: "2025-07-01T00:00:00Z"}, "(devel)", vcs,
			buildInfo{Version: "1.2.0", Commit: "feedbeef", Date: "2025-07-01T00:00:00Z"}, "1.2.0 (feedbeef, 2025-07-01)"},
		{"go build in a work tree", buildInfo{}, "v0.0.0-20250601100000-0123456789ab+dirty", vcs,
			buildInfo{Version: "0.0.0-20250601100000-0123456789ab+dirty", Commit: "0123456789abcdef0123456789abcdef01234567", Date: "2025-06-01T10:00:00Z", Modified: true},
			"0.0.0-20250601100000-0123456789ab+dirty (0123456789ab+modified, 2025-06-01)"},
		{"go install module@v1.3.0", buildInfo{}, "v1.3.0", nil, buildInfo{Version: "1.3.0"}, "1.3.0"},
		{"no version control", buildInfo{}, "(devel)", nil, buildInfo{}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := withBuildInfo(c.stamped, &debug.BuildInfo{Main: debug.Module{Version: c.main}, Settings: c.settings})
			if got != c.want {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
			if s := got.String(); s != c.wantShort {
				t.Errorf("String() = %q, want %q", s, c.wantShort)
			}
		})
	}
}

// readBuildInfo never leaves a field empty: `version` prints each one.
func TestBuildInfoFillsEveryField(t *testing.T) {
	b := readBuildInfo()
	if b.Version == "" || b.Commit == "" || b.Date == "" || b.Built == "" {
		t.Fatalf("empty field in %+v", b)
	}
}
