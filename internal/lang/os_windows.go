package lang

import "golang.org/x/sys/windows"

// osPreferences: the Windows display language (Settings ▸ Time & language
// ▸ Language ▸ Windows display language), in the user's order of
// preference. Not GetUserDefaultLocaleName: that is the regional format
// (dates, numbers), which people often set apart from the language they
// read. The POSIX variables still count when set (an MSYS or Cygwin shell
// sets LANG on purpose), after the display language.
func osPreferences(env Env) ([]string, string) {
	langs, err := windows.GetUserPreferredUILanguages(windows.MUI_LANGUAGE_NAME)
	if err == nil && len(langs) > 0 {
		prefs, _ := posixPreferences(env)
		return append(langs, prefs...), "Windows display language " + langs[0]
	}
	return posixPreferences(env)
}
