package main

import (
	"context"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestTakeLang(t *testing.T) {
	for _, c := range []struct {
		args, rest []string
		err        bool
	}{
		{[]string{"status"}, []string{"status"}, false},
		{[]string{"--lang", "ru", "status", "--json"}, []string{"status", "--json"}, false},
		{[]string{"guide", "--lang=ru", "step-3"}, []string{"guide", "step-3"}, false},
		{[]string{"guide", "-lang", "en", "--print"}, []string{"guide", "--print"}, false},
		{[]string{"fix", "--", "--lang", "ru"}, []string{"fix", "--", "--lang", "ru"}, false},
		{[]string{"version", "--lang"}, nil, true},
		{[]string{"--lang", "--json"}, nil, true},
		{[]string{"--lang="}, nil, true},
		{[]string{"--language", "ru"}, []string{"--language", "ru"}, false}, // not ours: the verb reports it
	} {
		rest, err := takeLang(c.args)
		if (err != nil) != c.err || !slices.Equal(rest, c.rest) {
			t.Errorf("takeLang(%q) = %q, %v; want %q, error %v", c.args, rest, err, c.rest, c.err)
		}
	}
}

// twEnv runs the binary with exactly the locale variables given.
func twEnv(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == "LANG" || k == "LANGUAGE" || strings.HasPrefix(k, "LC_") || k == "TRUSTWATCH_LANG" {
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running trustwatch %v: %v", args, err)
	}
	return r
}

// The language through the real binary: version says which and why, the
// guide prints in it, and --lang and TRUSTWATCH_LANG override the system.
func TestLanguageThroughTheBinary(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{map[string]string{"LANG": "C"}, []string{"version"}, "language:  en (from LANG=C; available: en, ru)"},
		{map[string]string{"LANG": "ru_RU.UTF-8"}, []string{"version"}, "язык:       ru (выбран по LANG=ru_RU.UTF-8; есть: en, ru)"},
		{map[string]string{"LANG": "de_DE.UTF-8", "LANGUAGE": "de:ru"}, []string{"version"}, "язык:       ru (выбран по LANGUAGE=de:ru;"},
		{map[string]string{"LANG": "ru_RU.UTF-8"}, []string{"--lang", "en", "version"}, "language:  en (from --lang;"},
		{map[string]string{"LANG": "en_US.UTF-8", "TRUSTWATCH_LANG": "ru"}, []string{"version"}, "язык:       ru (выбран по TRUSTWATCH_LANG;"},
		{map[string]string{"LANG": "ru_RU.UTF-8"}, []string{"version", "--lang=tlh"}, "language:  en (from --lang;"},
		{map[string]string{"LANG": "ru_RU.UTF-8"}, []string{"guide", "step-6", "--print"}, "Шаг 6. Сбросьте доверие"},
		{map[string]string{"LANG": "ru_RU.UTF-8"}, []string{"guide", "--lang", "en", "step-6", "--print"}, "Step 6: Reset the trust"},
		{map[string]string{}, []string{"--lang", "ru", "guide", "step-3", "--print"}, "Нажмите «Доверять»"},
	} {
		r := twEnv(t, c.env, c.args...)
		if r.code != 0 || !strings.Contains(r.stdout, c.want) || r.stderr != "" {
			t.Errorf("%v trustwatch %v: exit %d, stdout %q, stderr %q; want %q", c.env, c.args, r.code, r.stdout, r.stderr, c.want)
		}
	}
	r := twEnv(t, nil, "status", "--lang")
	if r.code != exitUsage || r.stderr != "trustwatch: --lang needs a value: a language such as en or ru (see trustwatch --help)\n" {
		t.Errorf("--lang without a value: exit %d, stderr %q", r.code, r.stderr)
	}
}
