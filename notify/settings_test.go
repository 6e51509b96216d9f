package notify

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestSettingsFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "notifications.json")
	s, err := LoadSettings(path)
	if err != nil || s.Mode != ModeAll || len(s.Muted) != 0 {
		t.Fatalf("missing file: %+v, %v; want the defaults without error", s, err)
	}
	if err := SaveSettings(path, Settings{Mode: ModeProblems, Muted: []string{"b", "a", "", "b"}}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("saved file: %v %v", fi, err)
	}
	s, err = LoadSettings(path)
	if err != nil || s.Mode != ModeProblems || !slices.Equal(s.Muted, []string{"a", "b"}) {
		t.Fatalf("round trip: %+v, %v", s, err)
	}
	if p := s.Policy(); p.Mode != ModeProblems || !p.Muted["a"] || p.Muted["c"] {
		t.Fatalf("policy %+v", p)
	}
	for name, content := range map[string]string{
		"garbage":      "{not json",
		"unknown mode": `{"notifications":"loud"}`,
		"huge":         `{"notifications":"all","muted_udids":["` + strings.Repeat("x", maxSettingsSize) + `"]}`,
	} {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := LoadSettings(path)
		if err == nil || s.Mode != ModeAll || len(s.Muted) != 0 || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: %+v, %v; want the defaults and an error naming the file", name, s, err)
		}
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

// The switch and the mute are saved as they change, and read back by the
// next Notifier (a restart).
func TestNotifierKeepsTheSwitch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notifications.json")
	n := New(Options{SettingsPath: path, Backend: nopBackend{}})
	if n.Mode() != ModeAll || n.Muted("u1") {
		t.Fatal("fresh notifier not at the defaults")
	}
	if err := n.SetMode(ModeOff); err != nil {
		t.Fatal(err)
	}
	if err := n.SetMuted("u1", true); err != nil {
		t.Fatal(err)
	}
	if err := n.SetMode("loud"); err == nil {
		t.Fatal("an unknown mode was accepted")
	}
	if err := n.SetMuted("", true); err == nil {
		t.Fatal("a phone without UDID was muted")
	}
	n.Close()
	n = New(Options{SettingsPath: path, Backend: nopBackend{}})
	defer n.Close()
	if n.Mode() != ModeOff || !n.Muted("u1") || n.Muted("u2") {
		t.Fatalf("after a restart: mode %s, muted u1 %v", n.Mode(), n.Muted("u1"))
	}
	if err := n.SetMuted("u1", false); err != nil || n.Muted("u1") {
		t.Fatalf("unmute: %v", err)
	}
}
