package engine

import "strings"

// Strings that come from a phone or a daemon are shown to people (status
// lines, menus, notifications): they are kept short and printable here,
// whatever arrived.
const (
	maxNameLen   = 64  // a name, product type or version (iPhone names are ≤ 63 bytes)
	maxDetailLen = 300 // a detail line, e.g. an error with its cause
)

// Clip shortens s to at most n runes (ending in "…" when cut) and replaces
// control characters, so a hostile string can neither flood a terminal nor
// move its cursor.
func Clip(s string, n int) string {
	clean := true
	count := 0
	for _, r := range s {
		count++
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			clean = false
		}
	}
	if clean && count <= n {
		return s
	}
	var b strings.Builder
	i := 0
	for _, r := range s {
		if i == n-1 && count > n {
			b.WriteRune('…')
			break
		}
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			r = ' '
		}
		b.WriteRune(r)
		i++
	}
	return b.String()
}
