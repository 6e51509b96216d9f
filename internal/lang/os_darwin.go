package lang

import (
	"context"
	"os/exec"
	"time"
)

// osPreferences: macOS's preferred languages (System Settings ▸ General ▸
// Language & Region), as AppleLanguages in the global domain. A login
// item started by launchd has no LANG at all, so the environment alone
// would leave every Mac in English.
//
// Read with `defaults read -g AppleLanguages` rather than CFPreferences:
// calling CoreFoundation needs cgo (the darwin build is CGO_ENABLED=0) or a
// hand-rolled dlopen shim, and this runs once at start, where one small
// process (~20 ms, bounded at 2 s) costs nothing. The locale variables
// come after it, and alone when defaults cannot be run.
func osPreferences(env Env) ([]string, string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "/usr/bin/defaults", "read", "-g", "AppleLanguages").Output()
	if langs := parseAppleLanguages(string(out)); err == nil && len(langs) > 0 {
		prefs, _ := posixPreferences(env)
		return append(langs, prefs...), "AppleLanguages " + langs[0]
	}
	return posixPreferences(env)
}
