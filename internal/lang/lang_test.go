package lang

import (
	"reflect"
	"testing"
)

var supported = []string{"en", "ru"}

func TestDetectPrecedence(t *testing.T) {
	posix := func(env Env) ([]string, string) { return posixPreferences(env) }
	cases := []struct {
		name string
		flag string
		env  map[string]string
		want Choice
	}{
		{"nothing set", "", nil, Choice{"en", "default"}},
		{"LANG ru", "", map[string]string{"LANG": "ru_RU.UTF-8"}, Choice{"ru", "LANG=ru_RU.UTF-8"}},
		{"LANG en", "", map[string]string{"LANG": "en_GB.UTF-8"}, Choice{"en", "LANG=en_GB.UTF-8"}},
		{"LC_MESSAGES over LANG", "", map[string]string{"LANG": "en_US.UTF-8", "LC_MESSAGES": "ru_RU.UTF-8"}, Choice{"ru", "LC_MESSAGES=ru_RU.UTF-8"}},
		{"LC_ALL over LC_MESSAGES", "", map[string]string{"LC_MESSAGES": "ru_RU.UTF-8", "LC_ALL": "en_US.UTF-8"}, Choice{"en", "LC_ALL=en_US.UTF-8"}},
		{"LANGUAGE over LC_ALL", "", map[string]string{"LC_ALL": "en_US.UTF-8", "LANGUAGE": "ru"}, Choice{"ru", "LANGUAGE=ru"}},
		{"LANGUAGE list skips unknown", "", map[string]string{"LANG": "de_DE.UTF-8", "LANGUAGE": "fr:de:ru:en"}, Choice{"ru", "LANGUAGE=fr:de:ru:en"}},
		{"LANGUAGE list, first known wins", "", map[string]string{"LANG": "ru_RU.UTF-8", "LANGUAGE": "en_GB:ru"}, Choice{"en", "LANGUAGE=en_GB:ru"}},
		{"LANGUAGE ignored under C", "", map[string]string{"LANG": "C", "LANGUAGE": "ru"}, Choice{"en", "LANG=C"}},
		{"LANGUAGE ignored under C.UTF-8", "", map[string]string{"LC_ALL": "C.UTF-8", "LANGUAGE": "ru", "LANG": "ru_RU.UTF-8"}, Choice{"en", "LC_ALL=C.UTF-8"}},
		{"POSIX is English", "", map[string]string{"LC_ALL": "POSIX", "LANG": "ru_RU.UTF-8"}, Choice{"en", "LC_ALL=POSIX"}},
		{"LANGUAGE alone", "", map[string]string{"LANGUAGE": "ru_RU"}, Choice{"ru", "LANGUAGE=ru_RU"}},
		{"unknown language falls back", "", map[string]string{"LANG": "de_DE.UTF-8"}, Choice{"en", "LANG=de_DE.UTF-8"}},
		{"modifier and codeset", "", map[string]string{"LANG": "ru_UA.KOI8-U@euro"}, Choice{"ru", "LANG=ru_UA.KOI8-U@euro"}},
		{"garbage locale", "", map[string]string{"LANG": "!!"}, Choice{"en", "LANG=!!"}},
		{"TRUSTWATCH_LANG over the OS", "", map[string]string{"LANG": "en_US.UTF-8", "TRUSTWATCH_LANG": "ru"}, Choice{"ru", "TRUSTWATCH_LANG"}},
		{"TRUSTWATCH_LANG unknown: English, not the OS", "", map[string]string{"LANG": "ru_RU.UTF-8", "TRUSTWATCH_LANG": "xx"}, Choice{"en", "TRUSTWATCH_LANG"}},
		{"--lang over TRUSTWATCH_LANG", "ru-RU", map[string]string{"TRUSTWATCH_LANG": "en"}, Choice{"ru", "--lang"}},
		{"--lang en over a Russian OS", "en", map[string]string{"LANG": "ru_RU.UTF-8", "TRUSTWATCH_LANG": "ru"}, Choice{"en", "--lang"}},
		{"--lang unknown: English", "klingon", map[string]string{"LANG": "ru_RU.UTF-8"}, Choice{"en", "--lang"}},
		{"--lang upper case", "RU", nil, Choice{"ru", "--lang"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := func(k string) string { return c.env[k] }
			if got := detect(c.flag, env, supported, posix); got != c.want {
				t.Errorf("detect(%q, %v) = %+v, want %+v", c.flag, c.env, got, c.want)
			}
		})
	}
}

// The Windows and macOS preferences come first, then the locale variables.
func TestDetectOSListFirst(t *testing.T) {
	osPrefs := func(env Env) ([]string, string) {
		p, _ := posixPreferences(env)
		return append([]string{"de-DE", "ru-RU", "en-US"}, p...), "Windows display language de-DE"
	}
	env := func(k string) string { return map[string]string{"LANG": "en_US.UTF-8"}[k] }
	got := detect("", env, supported, osPrefs)
	if want := (Choice{"ru", "Windows display language de-DE"}); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestParseAppleLanguages(t *testing.T) {
	cases := map[string][]string{
		"(\n    \"ru-RU\",\n    \"en-US\"\n)\n": {"ru-RU", "en-US"},
		"(\n    en\n)":                          {"en"},
		"()":                                    nil,
		"":                                      nil,
		"The domain/default pair of (kCFPreferencesAnyApplication, AppleLanguages) does not exist": nil,
	}
	for in, want := range cases {
		if got := parseAppleLanguages(in); !reflect.DeepEqual(got, want) {
			t.Errorf("parseAppleLanguages(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSetCurrent(t *testing.T) {
	defer current.Store(current.Load())
	current.Store(nil)
	if c := Current(); c.Tag != "en" {
		t.Fatalf("before Set: %+v", c)
	}
	Set(Choice{Tag: "ru", Source: "--lang"})
	if c := Current(); c != (Choice{"ru", "--lang"}) {
		t.Fatalf("after Set: %+v", c)
	}
}
