//go:build !windows && !darwin

package lang

// osPreferences: on Linux and the BSDs the locale variables are the user's
// interface language.
func osPreferences(env Env) ([]string, string) { return posixPreferences(env) }
