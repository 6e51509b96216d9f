package cliref

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/trustwatch/trustwatch/internal/catalog"
	"github.com/trustwatch/trustwatch/internal/lang"
)

// Every word of the table is in every language's catalog: no verb, flag,
// exit code or variable shows its message id.
func TestEveryTextIsInTheCatalog(t *testing.T) {
	for _, tag := range catalog.Languages() {
		w := catalog.In(tag)
		check := func(what, text string) {
			if text == "" || strings.HasPrefix(text, "cli.") {
				t.Errorf("%s %s: %q", tag, what, text)
			}
		}
		check("tagline", Tagline(w))
		for _, v := range Verbs {
			check(v.Command()+" summary", v.Summary(w))
			check(v.Command()+" about", v.About(w))
			for _, f := range v.Flags {
				check(v.Command()+" --"+f.Name, FlagHelp(w, f))
			}
			for _, e := range v.Exits {
				check(v.Command()+" exit "+strconv.Itoa(e.Code), e.Meaning(w))
			}
			for _, s := range v.Subcommands {
				check(v.Command()+" "+s, v.SubcommandHelp(w, s))
			}
		}
		for _, f := range GlobalFlags {
			check("--"+f.Name, FlagHelp(w, f))
		}
		for _, e := range Environment {
			check(e.Name, e.Meaning(w))
		}
	}
}

// The generated documents are English whatever language the process
// speaks, while --help follows it.
func TestDocsStayEnglish(t *testing.T) {
	defer lang.Set(lang.Current())
	lang.Set(lang.Choice{Tag: "en", Source: "test"})
	en := Regions()
	var enHelp bytes.Buffer
	Usage(&enHelp)
	lang.Set(lang.Choice{Tag: "ru", Source: "test"})
	ru := Regions()
	for name, text := range en {
		if ru[name] != text {
			t.Errorf("region %s changes with the language", name)
		}
	}
	var ruHelp bytes.Buffer
	Usage(&ruHelp)
	if ruHelp.String() == enHelp.String() || !strings.Contains(ruHelp.String(), "Использование:") {
		t.Errorf("--help does not follow the language:\n%s", ruHelp.String())
	}
	var b bytes.Buffer
	UsageIn(&b, catalog.In("en"))
	if b.String() != enHelp.String() {
		t.Error("UsageIn(en) differs from Usage in English")
	}
}
