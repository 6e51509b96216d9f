package catalogtest

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// The pseudo-locale's brackets and filler: characters no message uses, so
// a check can find every padded string in what a surface shows.
const (
	Open  = "⟦"
	Close = "⟧"
	Fill  = "·"
)

// Pad is the pseudo-locale (catalog.Words.Reshaped(Pad)): s lengthened by
// 40 % with Fill and bracketed, "⟦Fix trust····⟧", so a string that a
// surface cuts, at either end or in the middle, no longer checks out in
// Whole. Strings built from other padded strings nest: "⟦Anna — ⟦ready··⟧····⟧".
func Pad(s string) string {
	return Open + s + strings.Repeat(Fill, fill(utf8.RuneCountInString(s))) + Close
}

// fill is how many Fill characters lengthen n characters by 40 %.
func fill(n int) int { return (2*n + 4) / 5 }

// Whole checks that every padded string in shown arrived whole: brackets
// balanced, and each bracketed text followed by exactly the filler Pad
// gave it. It returns the number of padded strings found.
func Whole(shown string) (int, error) {
	var starts []int // byte offsets just after each open bracket
	n := 0
	for i := 0; i < len(shown); {
		switch {
		case strings.HasPrefix(shown[i:], Open):
			i += len(Open)
			starts = append(starts, i)
		case strings.HasPrefix(shown[i:], Close):
			if len(starts) == 0 {
				return n, fmt.Errorf("%q: a closing %s without its start (cut at the front)", shown, Close)
			}
			inner := shown[starts[len(starts)-1]:i]
			starts = starts[:len(starts)-1]
			text := strings.TrimRight(inner, Fill)
			got := utf8.RuneCountInString(inner) - utf8.RuneCountInString(text)
			if want := fill(utf8.RuneCountInString(text)); got != want {
				return n, fmt.Errorf("%q: %q carries %d of its %d filler characters (cut in the middle or at the end)", shown, text, got, want)
			}
			n++
			i += len(Close)
		default:
			_, size := utf8.DecodeRuneInString(shown[i:])
			i += size
		}
	}
	if len(starts) > 0 {
		return n, fmt.Errorf("%q: %d string(s) lost their end (cut at the end)", shown, len(starts))
	}
	return n, nil
}
