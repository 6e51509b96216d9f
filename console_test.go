package main

import "testing"

func TestWantsConsole(t *testing.T) {
	for _, c := range []struct {
		args []string
		want bool
	}{
		{nil, false},
		{[]string{"--allow-root"}, false},
		{[]string{"trustwatch:fix/00008030001A2B3C4D5E6F70"}, false},
		{[]string{"status", "--json"}, true},
		{[]string{"version"}, true},
		{[]string{"--help"}, true},
		{[]string{"--allow-root", "-h"}, true},
		{[]string{"bogus"}, true}, // the usage error must be seen
	} {
		if got := wantsConsole(c.args); got != c.want {
			t.Errorf("wantsConsole(%q) = %v", c.args, got)
		}
	}
}
