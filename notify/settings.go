package notify

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// Settings are the user's notification switches, kept in their config
// directory so they survive restarts.
type Settings struct {
	Mode  Mode     `json:"notifications"`
	Muted []string `json:"muted_udids,omitempty"` // sorted, no duplicates
}

// maxSettingsSize bounds what LoadSettings reads: the file is tiny, and a
// huge one is not ours.
const maxSettingsSize = 64 << 10

// DefaultSettingsPath is <user config dir>/trustwatch/notifications.json:
// $XDG_CONFIG_HOME or ~/.config on Linux, %AppData% on Windows,
// ~/Library/Application Support on macOS.
func DefaultSettingsPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "trustwatch", "notifications.json"), nil
}

// Policy turns the settings into the Core's policy.
func (s Settings) Policy() Policy {
	p := Policy{Mode: s.Mode, Muted: map[string]bool{}}
	if !p.Mode.Valid() {
		p.Mode = ModeAll
	}
	for _, id := range s.Muted {
		p.Muted[id] = true
	}
	return p
}

// LoadSettings reads path. A missing file is the defaults (all, nothing
// muted) without error; an unreadable or malformed one is the defaults
// with an error saying what is wrong.
func LoadSettings(path string) (Settings, error) {
	def := Settings{Mode: ModeAll}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return def, nil
	}
	if err != nil {
		return def, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSettingsSize+1))
	if err != nil {
		return def, err
	}
	if len(data) > maxSettingsSize {
		return def, fmt.Errorf("%s is larger than %d KiB; using the defaults", path, maxSettingsSize>>10)
	}
	var s Settings
	if err := json.Unmarshal(data, &s); err != nil {
		return def, fmt.Errorf("%s is not valid settings (%v); using the defaults", path, err)
	}
	if !s.Mode.Valid() {
		return def, fmt.Errorf("%s: unknown notifications mode %q (want all, problems or off); using the defaults", path, s.Mode)
	}
	s.Muted = normalise(s.Muted)
	return s, nil
}

func normalise(ids []string) []string {
	out := slices.DeleteFunc(slices.Clone(ids), func(s string) bool { return s == "" })
	slices.Sort(out)
	return slices.Compact(out)
}

// SaveSettings writes s to path atomically (a temporary file renamed into
// place), readable by the user only, creating the directory if needed.
func SaveSettings(path string, s Settings) error {
	s.Muted = normalise(s.Muted)
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".notifications-*.json")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(append(data, '\n'))
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}
