package lang

import "strings"

// parseAppleLanguages reads the old-style property list that `defaults
// read -g AppleLanguages` prints:
//
//	(
//	    "ru-RU",
//	    "en-US"
//	)
//
// It lives outside the darwin file so that every platform's tests run it.
func parseAppleLanguages(out string) []string {
	out = strings.TrimSpace(out)
	if !strings.HasPrefix(out, "(") || !strings.HasSuffix(out, ")") {
		return nil
	}
	var langs []string
	for _, f := range strings.Split(out[1:len(out)-1], ",") {
		f = strings.Trim(strings.TrimSpace(f), `"`)
		if f != "" {
			langs = append(langs, f)
		}
	}
	return langs
}
