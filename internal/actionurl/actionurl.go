// Package actionurl is the per-user "trustwatch:" URL scheme that Windows
// toast buttons activate: Windows starts `trustwatch.exe "trustwatch:…"`,
// which hands the action to the running tray.
//
//	trustwatch:guide/<anchor>   open the guide at an anchor
//	trustwatch:fix/<device key> what the tray's "Fix trust" does for that phone
//
// The forms use no '&', '?' or quotes, so they go into toast XML attributes
// and a command line as they are. Anything else is refused: the URL comes
// from outside the process.
package actionurl

import (
	"errors"
	"fmt"
	"strings"
)

// Scheme is the URL scheme, registered under HKCU\Software\Classes.
const Scheme = "trustwatch"

// Verb is what an action URL asks for.
type Verb string

const (
	Guide Verb = "guide"
	Fix   Verb = "fix"
)

// Action is a parsed URL: Arg is the anchor (Guide) or the device key (Fix).
type Action struct {
	Verb Verb
	Arg  string
}

func (a Action) String() string { return Scheme + ":" + string(a.Verb) + "/" + a.Arg }

// GuideURL and FixURL build the URLs the toast buttons carry.
func GuideURL(anchor string) string { return Action{Guide, anchor}.String() }
func FixURL(key string) string      { return Action{Fix, key}.String() }

// ErrNotAction is wrapped by every Parse error.
var ErrNotAction = errors.New("not a trustwatch action URL")

// IsActionURL tells whether a command-line argument is meant as an action
// URL (Windows passes it as the only argument).
func IsActionURL(s string) bool {
	return len(s) > len(Scheme) && strings.EqualFold(s[:len(Scheme)+1], Scheme+":")
}

// Parse reads an action URL strictly: a known verb, and an argument of at
// most 80 characters from [A-Za-z0-9:._-].
func Parse(s string) (Action, error) {
	if !IsActionURL(s) {
		return Action{}, fmt.Errorf("%w: %q", ErrNotAction, short(s))
	}
	rest := strings.TrimSuffix(s[len(Scheme)+1:], "/") // browsers and shells may add one
	rest = strings.TrimPrefix(rest, "//")
	verb, arg, ok := strings.Cut(rest, "/")
	if !ok {
		return Action{}, fmt.Errorf("%w: %q has no argument", ErrNotAction, short(s))
	}
	v := Verb(strings.ToLower(verb))
	if v != Guide && v != Fix {
		return Action{}, fmt.Errorf("%w: unknown action %q", ErrNotAction, short(verb))
	}
	if arg == "" || len(arg) > 80 {
		return Action{}, fmt.Errorf("%w: bad argument length in %q", ErrNotAction, short(s))
	}
	for _, r := range arg {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == ':' || r == '.' || r == '_' || r == '-') {
			return Action{}, fmt.Errorf("%w: character %q not allowed in %q", ErrNotAction, r, short(s))
		}
	}
	return Action{Verb: v, Arg: arg}, nil
}

func short(s string) string {
	if len(s) > 100 {
		return s[:100] + "…"
	}
	return s
}
