// Package lang decides which language trustwatch speaks: an explicit
// choice (--lang, then TRUSTWATCH_LANG) wins, otherwise the operating
// system's user interface language — the POSIX locale variables on Linux,
// the Windows display language, macOS's AppleLanguages. A language
// trustwatch has no words for falls back to English without a message: the
// user asked for nothing wrong, we just cannot speak it yet.
//
// The choice is made once at start (Set) and read everywhere (Current);
// it is process-wide, like the locale it comes from.
package lang

import (
	"strings"
	"sync/atomic"
)

// Default is the language used when nothing better is known.
const Default = "en"

// Choice is the language in use and where it came from, for `version`
// and support reports.
type Choice struct {
	Tag    string // a supported base language: "en", "ru"
	Source string // "--lang", "TRUSTWATCH_LANG", "LANG=ru_RU.UTF-8", "Windows display language", "default"
}

var current atomic.Pointer[Choice]

// Current is the language chosen by Set (English before any Set).
func Current() Choice {
	if c := current.Load(); c != nil {
		return *c
	}
	return Choice{Tag: Default, Source: "default"}
}

// Set makes c the process's language.
func Set(c Choice) { current.Store(&c) }

// Env reads an environment variable; os.Getenv in the product, a map in
// tests.
type Env func(string) string

// Detect chooses among supported (base language codes, "en" among them)
// from, in order: flag (the value of --lang, "" if not given), the
// TRUSTWATCH_LANG variable, and the OS's preferences. An explicit choice
// that is not supported gives English — the user said which language they
// want, so the OS is not asked instead.
func Detect(flag string, env Env, supported []string) Choice {
	return detect(flag, env, supported, osPreferences)
}

func detect(flag string, env Env, supported []string, osPrefs func(Env) ([]string, string)) Choice {
	if flag != "" {
		return Choice{Tag: Match([]string{flag}, supported), Source: "--lang"}
	}
	if v := strings.TrimSpace(env("TRUSTWATCH_LANG")); v != "" {
		return Choice{Tag: Match([]string{v}, supported), Source: "TRUSTWATCH_LANG"}
	}
	prefs, source := osPrefs(env)
	for _, p := range prefs {
		if t := base(p); t != "" && contains(supported, t) {
			return Choice{Tag: t, Source: source}
		}
	}
	if len(prefs) == 0 {
		source = "default"
	}
	return Choice{Tag: Default, Source: source}
}

// Match is the first of prefs that supported has (by base language:
// "ru_RU.UTF-8", "ru-RU" and "RU" all are "ru"), or English.
func Match(prefs, supported []string) string {
	for _, p := range prefs {
		if t := base(p); t != "" && contains(supported, t) {
			return t
		}
	}
	return Default
}

// posixPreferences is the gettext order for messages: the first of LC_ALL,
// LC_MESSAGES, LANG that is set is the locale; "C" or "POSIX" there means
// untranslated (English), and LANGUAGE is then ignored as gettext ignores
// it. Otherwise LANGUAGE, a colon-separated list, comes first, then the
// locale itself.
func posixPreferences(env Env) ([]string, string) {
	var locale, from string
	for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if v := env(k); v != "" {
			locale, from = v, k+"="+v
			break
		}
	}
	if isCLocale(locale) {
		return []string{"en"}, from
	}
	var prefs []string
	if list := env("LANGUAGE"); list != "" {
		for _, p := range strings.Split(list, ":") {
			if p = strings.TrimSpace(p); p != "" {
				prefs = append(prefs, p)
			}
		}
		if len(prefs) > 0 {
			from = "LANGUAGE=" + list
		}
	}
	if locale != "" {
		prefs = append(prefs, locale)
	}
	return prefs, from
}

func isCLocale(l string) bool {
	l, _, _ = strings.Cut(l, ".") // C.UTF-8
	return l == "C" || l == "POSIX"
}

// base is the lower-case language subtag of a locale or BCP 47 tag:
// "ru_RU.UTF-8@latin" → "ru", "zh-Hans-CN" → "zh", "C" → "".
func base(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "_-.@"); i >= 0 {
		s = s[:i]
	}
	s = strings.ToLower(s)
	if len(s) < 2 || len(s) > 3 || isCLocale(strings.ToUpper(s)) {
		return ""
	}
	for _, r := range s {
		if r < 'a' || r > 'z' {
			return ""
		}
	}
	return s
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
