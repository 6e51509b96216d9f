package main

import (
	"errors"
	"os"
	"strings"

	"github.com/trustwatch/trustwatch/internal/catalog"
	"github.com/trustwatch/trustwatch/internal/lang"
	speak "github.com/trustwatch/trustwatch/internal/say"
)

// takeLang removes the global --lang flag from args, wherever it stands
// before a "--" ("trustwatch --lang ru guide", "trustwatch guide --lang=ru
// step-3"), and sets the process's language from it, TRUSTWATCH_LANG or
// the system. The verbs never see the flag.
func takeLang(args []string) ([]string, error) {
	flag, rest, err := splitLang(args)
	// Without a usable --lang the language comes from TRUSTWATCH_LANG or
	// the system, so that even the complaint about --lang is in it.
	lang.Set(lang.Detect(flag, os.Getenv, catalog.Languages()))
	return rest, err
}

// errLangNeedsValue is --lang without a language.
var errLangNeedsValue = errors.New("--lang needs a value")

// splitLang is the last --lang's value and the other arguments; no value
// and errLangNeedsValue when a --lang has none.
func splitLang(args []string) (flag string, rest []string, err error) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			rest = append(rest, args[i:]...)
			break
		}
		name, value, hasValue := strings.Cut(a, "=")
		if name != "--lang" && name != "-lang" {
			rest = append(rest, a)
			continue
		}
		if !hasValue {
			if i+1 >= len(args) || strings.HasPrefix(args[i+1], "-") {
				return "", nil, errLangNeedsValue
			}
			i++
			value = args[i]
		}
		if strings.TrimSpace(value) == "" {
			return "", nil, errLangNeedsValue
		}
		flag = value
	}
	return flag, rest, nil
}

// languageLine is the language in use, where the choice came from and
// which languages there are, in English (for the support report).
func languageLine() string { return languageLineIn(speak.English) }

// languageLineIn is what `version` says about the language, in w's language.
func languageLineIn(w catalog.Words) string {
	c := lang.Current()
	source := c.Source // a flag, a variable or a setting's name, except for these
	if c.Source == "default" {
		source = w.T("cli.version.source_default", nil)
	} else if l, ok := strings.CutPrefix(c.Source, "Windows display language "); ok {
		source = w.T("cli.version.source_windows", map[string]any{"Lang": l})
	}
	return w.T("cli.version.language_line", map[string]any{"Tag": c.Tag, "Source": source, "Available": strings.Join(catalog.Languages(), ", ")})
}
