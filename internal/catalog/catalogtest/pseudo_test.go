package catalogtest

import (
	"strings"
	"testing"
)

func TestPadAndWhole(t *testing.T) {
	s := Pad("Anna — " + Pad("ready") + " now")
	if n, err := Whole(s); err != nil || n != 2 {
		t.Fatalf("Whole(%q) = %d, %v", s, n, err)
	}
	if got := len([]rune(Pad("0123456789"))); got != 16 { // 10 + 4 + 2 brackets
		t.Errorf("Pad lengthened 10 characters to %d", got)
	}
	r := []rune(s)
	for _, cut := range []string{
		string(r[:len(r)-1]),                   // the end
		string(r[1:]),                          // the start
		string(r[:8]) + "…" + string(r[14:]),   // the middle, as a path is shortened
		strings.Replace(s, Fill+Fill, Fill, 1), // one filler less
		string(r[:len(r)-3]) + Close,           // the end, re-closed
	} {
		if _, err := Whole(cut); err == nil {
			t.Errorf("Whole(%q) accepted a cut string", cut)
		}
	}
	if n, err := Whole("no padded text"); err != nil || n != 0 {
		t.Errorf("plain text: %d, %v", n, err)
	}
}
