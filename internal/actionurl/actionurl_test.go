package actionurl

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Action
	}{
		{"trustwatch:guide/step-3", Action{Guide, "step-3"}},
		{"trustwatch:guide/step-3/", Action{Guide, "step-3"}},
		{"TRUSTWATCH:Guide/issue-drivers", Action{Guide, "issue-drivers"}},
		{"trustwatch://guide/verify", Action{Guide, "verify"}},
		{"trustwatch:fix/00008030-001A2B3C4D5E6F70", Action{Fix, "00008030-001A2B3C4D5E6F70"}},
		{"trustwatch:fix/usb:1-5", Action{Fix, "usb:1-5"}},
		{"trustwatch:fix/mux:7", Action{Fix, "mux:7"}},
	} {
		got, err := Parse(c.in)
		if err != nil || got != c.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
	for _, in := range []string{
		"", "trustwatch", "trustwatch:", "trustwatch:guide", "trustwatch:guide/", "trustwatch:open/step-3",
		"trustwatch:guide/step 3", `trustwatch:guide/step-3"&calc`, "trustwatch:fix/a/b", "https://example.com/",
		"trustwatch:guide/" + strings.Repeat("a", 81), "trustwatch:guide/<x>", "trustwatch:fix/%41",
		"--allow-root", "status",
	} {
		if a, err := Parse(in); err == nil || !errors.Is(err, ErrNotAction) {
			t.Errorf("Parse(%q) = %+v, %v; want an ErrNotAction error", in, a, err)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	for _, u := range []string{GuideURL("step-6"), FixURL("00008030-001A2B3C4D5E6F70")} {
		a, err := Parse(u)
		if err != nil || a.String() != u {
			t.Errorf("%q → %+v, %v", u, a, err)
		}
		if strings.ContainsAny(u, `&?"'<> `) {
			t.Errorf("%q has characters that need escaping in XML or a command line", u)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add("trustwatch:guide/step-3")
	f.Add("trustwatch:fix/usb:1-5")
	f.Fuzz(func(t *testing.T, s string) {
		a, err := Parse(s)
		if err != nil {
			return
		}
		if again, err := Parse(a.String()); err != nil || again != a {
			t.Fatalf("%q parsed to %+v, which does not round-trip: %+v %v", s, a, again, err)
		}
	})
}
