package main

import (
	"strings"

	"github.com/trustwatch/trustwatch/internal/actionurl"
)

// wantsConsole tells whether a command line is a CLI verb, whose output
// belongs in the console of the shell that started it (Windows attaches to
// it, see console_windows.go), or the tray or a toast's URL, which must stay
// detached: a tray attached to a console would be stopped when that console
// window is closed.
func wantsConsole(args []string) bool {
	if len(args) == 0 || actionurl.IsActionURL(args[0]) {
		return false
	}
	for _, a := range args {
		if !strings.HasPrefix(a, "-") || a == "-h" || a == "-help" || a == "--help" {
			return true // a verb, or --help
		}
	}
	return false // only the tray's flags (--allow-root)
}
