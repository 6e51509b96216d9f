package main

// The command line in Russian, through the real binary: every --help and a
// sample of errors and outcomes, asked for with --lang ru and with
// TRUSTWATCH_LANG=ru. A line fails when it is empty, shows a message id
// instead of words, or carries English words (Latin words that are not
// names people type or read as they are: iPhone, usbmuxd, flags, verbs,
// anchors, paths, commands…).

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/trustwatch/trustwatch/guide"
	"github.com/trustwatch/trustwatch/internal/catalog"
	"github.com/trustwatch/trustwatch/internal/catalog/catalogtest"
	"github.com/trustwatch/trustwatch/internal/cliref"
	"github.com/trustwatch/trustwatch/internal/sim"
	"github.com/trustwatch/trustwatch/service"
)

// cliLatin are the Latin words the command line's Russian may carry
// besides catalogtest.AllowedLatin (products and systems): the verbs,
// flags, subcommands and anchors people type, the help's placeholders,
// programs and system parts named as they appear on screen, signal and key
// names, language codes.
var cliLatin = func() []string {
	words := strings.Fields(`usbmuxd lockdownd
		JSON SIGINT SIGTERM Ctrl-C CI root sudo pid jq
		systemd systemctl XDG LaunchAgent Run SYSTEM D-Bus Cocoa cgo Go go libusb
		stdout stderr LANGUAGE LANG UDID DUR ANCHOR N en ru help`)
	for _, v := range cliref.Verbs {
		words = append(words, v.Name)
		for _, f := range v.Flags {
			words = append(words, f.Name)
		}
		words = append(words, v.Subcommands...)
	}
	words = append(words, guide.Anchors()...)
	return append(words, service.Verbs...)
}()

var (
	chunkRE    = regexp.MustCompile(`[^\s,;()«»"'` + "`" + `?!]+`)
	cyrillicRE = regexp.MustCompile(`\p{Cyrillic}`)
	typedRE    = regexp.MustCompile(`"[^"\s]*"`)
	// A message id shown instead of its text: cli.usage.line, tray.status.none…
	messageIDRE = regexp.MustCompile(`(^|[\s"(«])(cli|tray|guide|notify|engine|state|mux)\.[a-z_-]+(\.[a-z0-9_-]+)*`)
)

// notRussian lists what is wrong with text as Russian output: empty, a
// message id, English words.
func notRussian(text string) []string {
	var bad []string
	if strings.TrimSpace(text) == "" {
		return []string{"empty"}
	}
	if !cyrillicRE.MatchString(text) {
		bad = append(bad, "no Russian at all")
	}
	if m := messageIDRE.FindString(text); m != "" {
		bad = append(bad, "message id "+strings.TrimSpace(m))
	}
	// What the user typed comes back quoted ("banana"): theirs, not ours.
	for _, chunk := range chunkRE.FindAllString(typedRE.ReplaceAllString(text, ""), -1) {
		chunk = strings.TrimRight(chunk, ".:")
		// Flags, paths, URLs, key=value, durations, locales, UDIDs, versions.
		if strings.HasPrefix(chunk, "-") || strings.ContainsAny(chunk, "/.=_:0123456789@|[]") {
			continue
		}
		for _, w := range catalogtest.StrayLatin(chunk, cliLatin...) {
			bad = append(bad, "English "+quote(w))
		}
	}
	return bad
}

func quote(s string) string { return `"` + s + `"` }

// The checker catches what it is meant to: a test that cannot fail proves
// nothing.
func TestNotRussianCatches(t *testing.T) {
	for text, want := range map[string]string{
		"":                                 "empty",
		"trustwatch: unknown flag --bogus": "English",
		"Флаги: cli.help.flags_heading":    "message id",
		"Использование: trustwatch fix UDID": "",
		"Нажмите «Доверять» на iPhone Анны (вопрос «Доверять этому компьютеру?»). Жду до 2m0s; Ctrl-C — остановить.": "",
		"usbmuxd по адресу unix:///var/run/usbmuxd, см. trustwatch guide step-6 --print":                             "",
		"--timeout DUR   ждать not дольше DUR": "English",
	} {
		got := strings.Join(notRussian(text), "; ")
		if (want == "") != (got == "") || !strings.Contains(got, want) {
			t.Errorf("notRussian(%q) = %q, want %q", text, got, want)
		}
	}
}

// Every Russian message of the command line, rendered with Russian data,
// is Russian: the binary tests below reach only some of them.
func TestEveryRussianCLIMessage(t *testing.T) {
	data := map[string]any{}
	for _, k := range strings.Fields(`Name Verb UDID Error Path PID Unit Command Mechanism Location State
		Detail Out Key Anchor Anchors URL Address Text Timeout Bound Words Summary Flag Value Hint Arg
		First Second Problem Help Default Tag Source Available Lang Why`) {
		data[k] = "Ж"
	}
	data["Count"] = 5
	w := catalog.In("ru")
	n := 0
	for _, id := range catalog.IDs("ru") {
		if !strings.HasPrefix(id, "cli.") {
			continue
		}
		n++
		text := w.T(id, data)
		if text == id { // a plural message wants a count
			text = w.N(id, 5, data)
		}
		switch {
		case text == id:
			t.Errorf("%s does not render", id)
		case id == "cli.forget.yes_words" || id == "cli.version.go" || id == "cli.version.usb" || id == "cli.service.mech.launch-agent":
			// words that are the same in Latin letters
		default:
			checkRussian(t, id, text)
		}
	}
	if n < 200 {
		t.Errorf("only %d Russian cli.* messages", n)
	}
}

// russianRuns are the two ways to ask for Russian: the flag (with an
// English system) and the variable.
var russianRuns = []struct {
	name string
	env  map[string]string
	flag []string
}{
	{"--lang", map[string]string{"LANG": "C.UTF-8"}, []string{"--lang", "ru"}},
	{"TRUSTWATCH_LANG", map[string]string{"LANG": "en_US.UTF-8", "TRUSTWATCH_LANG": "ru"}, nil},
}

func checkRussian(t *testing.T, what, text string) {
	t.Helper()
	if bad := notRussian(text); len(bad) > 0 {
		t.Errorf("%s: %s\n%s", what, strings.Join(bad, "; "), text)
	}
}

// Every --help (and help VERB) in Russian: on stdout, exit 0, Russian
// through and through, and the same for the flag and the variable.
func TestHelpInRussian(t *testing.T) {
	cases := [][]string{{"--help"}, {"help"}}
	for _, v := range cliref.Verbs {
		if v.Name != "" {
			cases = append(cases, []string{v.Name, "--help"}, []string{"help", v.Name})
		}
	}
	first := map[string]string{}
	for _, run := range russianRuns {
		for _, args := range cases {
			r := twEnv(t, run.env, append(append([]string{}, run.flag...), args...)...)
			what := run.name + " " + strings.Join(args, " ")
			if r.code != 0 || r.stderr != "" {
				t.Errorf("%s: exit %d, stderr %q", what, r.code, r.stderr)
			}
			checkRussian(t, what, r.stdout)
			if !strings.Contains(r.stdout, "Использование:") {
				t.Errorf("%s: no «Использование:»:\n%s", what, r.stdout)
			}
			key := strings.Join(args, " ")
			if prev, ok := first[key]; ok && prev != r.stdout {
				t.Errorf("%s differs between --lang ru and TRUSTWATCH_LANG=ru", key)
			}
			first[key] = r.stdout
		}
	}
	// The guide's help lists every anchor, with its Russian title.
	out := first["guide --help"]
	for _, a := range guide.Anchors() {
		if !strings.Contains(out, "  "+a+" ") || !strings.Contains(out, guide.TitleIn("ru", a)) {
			t.Errorf("guide --help in Russian lacks %s %q", a, guide.TitleIn("ru", a))
		}
	}
}

// Usage errors in Russian: one line on stderr, nothing on stdout, exit 2,
// Russian words around the flag, verb and value the user typed.
func TestUsageErrorsInRussian(t *testing.T) {
	cases := [][]string{
		{"--bogus"}, {"bogus"}, {"statsu"}, {"help", "a", "b"},
		{"status", "--bogus"}, {"status", "--timeout", "banana"}, {"status", "--timeout", "0"},
		{"status", "--timeout"}, {"status", "--json=yes"}, {"status", "extra"},
		{"fix", "a", "b"}, {"forget", "--yes=no"}, {"report", "--redact", "x"},
		{"demo", "--speed", "fast"}, {"version", "--json"},
		{"guide", "--bogus"}, {"guide", "nowhere"}, {"guide", "step-1", "step-2"},
		{"service"}, {"service", "bogus"}, {"service", "install", "--json"}, {"service", "--bogus"},
		{"status", "--lang"},
	}
	for _, run := range russianRuns {
		for _, args := range cases {
			full := append(append([]string{}, run.flag...), args...)
			if args[len(args)-1] == "--lang" {
				full = args // --lang without a value: the language comes from the environment
				if run.flag != nil {
					continue
				}
			}
			r := twEnv(t, run.env, full...)
			what := run.name + " " + strings.Join(args, " ")
			if r.code != exitUsage || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 {
				t.Errorf("%s: exit %d, stdout %q, stderr %q", what, r.code, r.stdout, r.stderr)
			}
			checkRussian(t, what, r.stderr)
			if !strings.Contains(r.stderr, "--help)") {
				t.Errorf("%s: no pointer to --help: %q", what, r.stderr)
			}
		}
	}
}

// twEnvAddr is twEnv against a simulator.
func twEnvAddr(t *testing.T, addr string, env map[string]string, args ...string) result {
	t.Helper()
	e := map[string]string{"USBMUXD_SOCKET_ADDRESS": addr}
	for k, v := range env {
		e[k] = v
	}
	return twEnv(t, e, args...)
}

// fix and forget in Russian, against the simulator: the question, the
// answer «д», the outcomes, the plural of several phones, no phone.
func TestFixAndForgetInRussian(t *testing.T) {
	t.Parallel()
	ru := map[string]string{"LANG": "C.UTF-8", "TRUSTWATCH_LANG": "ru"}
	s := startSim(t)

	r := twEnvAddr(t, s.Address(), ru, "fix")
	if r.code != exitNoPhone || r.stdout != "iPhone не подключён.\n" {
		t.Errorf("fix, no phone: exit %d, stdout %q", r.code, r.stdout)
	}
	checkRussian(t, "fix, no phone (stderr)", r.stderr)

	d := s.AddDevice(sim.DeviceConfig{Name: "Телефон Анны", Trusted: true})
	r = twEnvAddr(t, s.Address(), ru, "fix", "0000-NOT-THERE")
	if r.code != exitNoPhone {
		t.Errorf("fix, wrong UDID: exit %d", r.code)
	}
	checkRussian(t, "fix, wrong UDID (first line)", strings.SplitN(r.stderr, "\n", 2)[0])

	r = twEnvAddr(t, s.Address(), ru, "fix")
	if r.code != exitOK {
		t.Errorf("fix, trusted: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	checkRussian(t, "fix, already trusted", r.stdout)

	p := startTWEnv(t, s.Address(), "нет\n", ru, "forget")
	if code := p.wait(15 * time.Second); code != exitFailure || !strings.Contains(p.stdout(), "Ничего не изменено.") {
		t.Fatalf("forget, answered нет: exit %d, stdout %q", code, p.stdout())
	}
	t.Logf("forget: %s", p.stdout())
	checkRussian(t, "forget, question and no", p.stdout())
	if !strings.Contains(p.stdout(), "[д/Н]") {
		t.Errorf("the question does not offer д/Н: %q", p.stdout())
	}
	p = startTWEnv(t, s.Address(), "Да\n", ru, "forget")
	if code := p.wait(15 * time.Second); code != exitOK || !strings.Contains(p.stdout(), "Забыто: при следующем подключении Телефон Анны") {
		t.Fatalf("forget, answered Да: exit %d, stdout %q, stderr %q", code, p.stdout(), p.errText())
	}
	checkRussian(t, "forget, yes", p.stdout())
	if _, ok := s.PairRecord(d.UDID()); ok {
		t.Fatal("answered «Да», but usbmuxd still holds the pairing")
	}
	r = twEnvAddr(t, s.Address(), ru, "forget", "--yes")
	if r.code != exitOK || r.stdout != "У этого компьютера нет сопряжения с Телефон Анны; забывать нечего.\n" {
		t.Errorf("forget, nothing to forget: exit %d, stdout %q", r.code, r.stdout)
	}

	s.AddDevice(sim.DeviceConfig{Name: "Телефон Бена", Trusted: true})
	r = twEnvAddr(t, s.Address(), ru, "forget", "--yes")
	first := strings.SplitN(r.stderr, "\n", 2)[0]
	if r.code != exitUsage || !strings.Contains(first, "подключены 2 iPhone") {
		t.Errorf("forget, two phones: exit %d, stderr %q", r.code, r.stderr)
	}
	checkRussian(t, "forget, two phones (first line)", first)
}

// A locked phone that stays locked: the plea to unlock and the verdict, in
// Russian, at the person's pace (a 3 s timeout, as the English test).
func TestFixLockedInRussian(t *testing.T) {
	t.Parallel()
	s := startSim(t)
	s.AddDevice(sim.DeviceConfig{Name: "Телефон Анны", Locked: true})
	p := startTWEnv(t, s.Address(), "", map[string]string{"LANG": "ru_RU.UTF-8"}, "fix", "--timeout", "3s")
	if code := p.wait(30 * time.Second); code != exitLocked {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, p.stdout(), p.errText())
	}
	t.Logf("stdout:\n%s\nstderr:\n%s", p.stdout(), p.errText())
	checkRussian(t, "fix, locked (stdout)", p.stdout())
	checkRussian(t, "fix, locked (stderr)", p.errText())
	if !strings.Contains(p.errText(), "Телефон Анны оставался заблокированным 3s") {
		t.Errorf("stderr %q", p.errText())
	}
}

// version in Russian: every label is a Russian word (or go, usb); the
// values are versions, paths and names.
func TestVersionInRussian(t *testing.T) {
	r := twEnv(t, map[string]string{"LANG": "ru_RU.UTF-8"}, "version")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	for _, l := range lines[1:] {
		label, _, ok := strings.Cut(l, ":")
		if !ok {
			t.Errorf("line without a label: %q", l)
			continue
		}
		if label != "go" && label != "usb" {
			checkRussian(t, "version label", label)
		}
	}
	if !strings.Contains(r.stdout, "язык:       ru (выбран по LANG=ru_RU.UTF-8; есть: en, ru)") {
		t.Errorf("version does not say the language:\n%s", r.stdout)
	}
}
