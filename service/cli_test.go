//go:build linux || darwin || windows

package service

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/trustwatch/trustwatch/internal/catalog"
)

// As root the verbs that change things are refused with the reason, unless
// --allow-root; status still works.
func TestMainRefusesRoot(t *testing.T) {
	e, _ := testEnv(t)
	e.euid = func() int { return 0 }
	for _, verb := range []string{"install", "uninstall", "start", "stop"} {
		var out, errb bytes.Buffer
		if code := e.main(verb, false, false, &out, &errb); code != 1 || !strings.Contains(errb.String(), "refusing to run as root") {
			t.Errorf("%s as root: %d %q", verb, code, errb.String())
		}
	}
	var out, errb bytes.Buffer
	if code := e.main("status", false, false, &out, &errb); code != 0 || !strings.Contains(out.String(), "Login item: not installed") {
		t.Errorf("status as root: %d %q %q", code, out.String(), errb.String())
	}
	out.Reset()
	errb.Reset()
	if code := e.main("uninstall", true, false, &out, &errb); code != 0 || !strings.Contains(out.String(), "not installed") {
		t.Errorf("uninstall --allow-root: %d %q %q", code, out.String(), errb.String())
	}
}

// The status's note is English in the JSON (the JSON never changes with
// the language) and in the reader's language in the human status.
func TestStatusNoteLanguages(t *testing.T) {
	var st Status
	st.Mechanism, st.Location = MechAutostart, "/home/a/.config/autostart/trustwatch.desktop"
	st.addNote("cli.service.note.no_systemd_would_autostart", nil)
	st.addNote("cli.service.note.switched_off", map[string]any{"Key": "Hidden=true"})
	want := "no systemd user manager runs here, so it would be an XDG autostart entry; switched off in the desktop's startup settings (Hidden=true)"
	b, _ := json.Marshal(st)
	if !strings.Contains(string(b), `"note":"`+want+`"`) {
		t.Errorf("JSON %s, want the note %q", b, want)
	}
	if en := st.Text(catalog.In("en")); !strings.Contains(en, "            "+want+"\n") || en != st.String() {
		t.Errorf("English status:\n%s", en)
	}
	ru := st.Text(catalog.In("ru"))
	for _, w := range []string{"Автозапуск: не установлен", "пользовательский менеджер systemd здесь не работает", "(Hidden=true)", "Работает:   нет"} {
		if !strings.Contains(ru, w) {
			t.Errorf("Russian status lacks %q:\n%s", w, ru)
		}
	}
}
