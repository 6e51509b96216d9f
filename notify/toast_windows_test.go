package notify

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"git.sr.ht/~jackmordaunt/go-toast/tmpl"
	"golang.org/x/sys/windows/registry"

	"github.com/trustwatch/trustwatch/icons"
)

type toastXML struct {
	ActivationType string   `xml:"activationType,attr"`
	Launch         string   `xml:"launch,attr"`
	Texts          []string `xml:"visual>binding>text"`
	Image          struct {
		Src string `xml:"src,attr"`
	} `xml:"visual>binding>image"`
	Actions []struct {
		ActivationType string `xml:"activationType,attr"`
		Content        string `xml:"content,attr"`
		Arguments      string `xml:"arguments,attr"`
	} `xml:"actions>action"`
}

// render is what go-toast hands to WinRT, parsed back.
func render(t *testing.T, m Message) toastXML {
	t.Helper()
	n := toastFor(m, "trustwatch", `C:\Users\a\AppData\Local\Programs\trustwatch\trustwatch.png`)
	if n.Audio == "" {
		n.Audio = "ms-winsoundevent:Notification.Default"
	}
	var buf bytes.Buffer
	if err := tmpl.XMLTemplate.Execute(&buf, &n); err != nil {
		t.Fatal(err)
	}
	var x toastXML
	if err := xml.Unmarshal(buf.Bytes(), &x); err != nil {
		t.Fatalf("toast XML does not parse: %v\n%s", err, buf.String())
	}
	return x
}

func TestToastButtons(t *testing.T) {
	const key = "00008030001A2B3C4D5E6F70"
	type button struct{ content, args string }
	for _, c := range []struct {
		name    string
		m       Message
		launch  string
		buttons []button
	}{
		{"trust revoked: Fix trust and How to fix",
			Message{Title: "Anna's iPhone no longer trusts this computer", Body: "Choose Fix trust…", Anchor: "step-6", FixTrust: key, Keys: []string{key}},
			"trustwatch:guide/step-6",
			[]button{{"Fix trust", "trustwatch:fix/" + key}, {"How to fix", "trustwatch:guide/step-6"}}},
		{"untrusted", Message{Title: "t", Anchor: "step-3", FixTrust: key, Keys: []string{key}}, "trustwatch:guide/step-3",
			[]button{{"Fix trust", "trustwatch:fix/" + key}, {"How to fix", "trustwatch:guide/step-3"}}},
		{"locked: no Fix trust", Message{Title: "t", Anchor: "issue-locked", Keys: []string{key}}, "trustwatch:guide/issue-locked",
			[]button{{"How to fix", "trustwatch:guide/issue-locked"}}},
		{"a USB-only key", Message{Title: "t", Anchor: "step-6", FixTrust: "usb:1-5"}, "trustwatch:guide/step-6",
			[]button{{"Fix trust", "trustwatch:fix/usb:1-5"}, {"How to fix", "trustwatch:guide/step-6"}}},
		{"a notice without anchor: no buttons", Message{Title: "trustwatch dev", Body: "Watches…"}, "", nil},
	} {
		x := render(t, c.m)
		if x.Launch != c.launch {
			t.Errorf("%s: launch %q, want %q", c.name, x.Launch, c.launch)
		}
		if c.launch != "" && x.ActivationType != "protocol" {
			t.Errorf("%s: activationType %q", c.name, x.ActivationType)
		}
		var got []button
		for _, a := range x.Actions {
			if a.ActivationType != "protocol" {
				t.Errorf("%s: button %q activates by %q", c.name, a.Content, a.ActivationType)
			}
			got = append(got, button{a.Content, a.Arguments})
		}
		if len(got) != len(c.buttons) {
			t.Errorf("%s: buttons %v, want %v", c.name, got, c.buttons)
			continue
		}
		for i := range got {
			if got[i] != c.buttons[i] {
				t.Errorf("%s: buttons %v, want %v", c.name, got, c.buttons)
			}
		}
	}
}

// A phone may call itself anything; its name must not break the toast.
func TestToastHostileName(t *testing.T) {
	x := render(t, Message{Title: `Ann]]><x>"&'s iPhone is locked`, Body: "b", Anchor: "issue-locked", FixTrust: "k"})
	if len(x.Texts) < 1 || !strings.HasPrefix(x.Texts[0], "Ann]] >") {
		t.Fatalf("texts %q", x.Texts)
	}
}

// The toast icon is a file that stays, rewritten only when it changes.
func TestToastIconFileStays(t *testing.T) {
	// Not t.TempDir: its cleanup fails under Wine ("Invalid function").
	dir, err := os.MkdirTemp("", "tw-toast-icon-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	t.Setenv("LOCALAPPDATA", dir)
	png := []byte("\x89PNG fake")
	p := lastingFile("trustwatch-test", "trustwatch-test.png", png)
	if p != filepath.Join(dir, "trustwatch-test", "trustwatch-test.png") {
		t.Fatalf("icon at %q", p)
	}
	st1, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if again := lastingFile("trustwatch-test", "trustwatch-test.png", png); again != p {
		t.Fatalf("second call: %q", again)
	}
	st2, _ := os.Stat(p)
	if !st2.ModTime().Equal(st1.ModTime()) {
		t.Fatal("an unchanged icon was rewritten")
	}
	if b, _ := os.ReadFile(p); !bytes.Equal(b, png) {
		t.Fatal("wrong content")
	}
}

// The AppUserModelID is registered for this user with the lasting icon and
// trustwatch's own activator class (not go-toast's shared default).
func TestToastRegistersAppUserModelID(t *testing.T) {
	dir, err := os.MkdirTemp("", "tw-toast-aumid-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	t.Setenv("LOCALAPPDATA", dir)
	id := fmt.Sprintf("trustwatch-test-%d", os.Getpid())
	path := `SOFTWARE\Classes\AppUserModelId\` + id
	t.Cleanup(func() { registry.DeleteKey(registry.CURRENT_USER, path) })
	NewToastBackend(id, icons.NotificationPNG, []byte("\x89PNG fake"))
	appIcon := filepath.Join(dir, id, id+".png")
	k, err := registry.OpenKey(registry.CURRENT_USER, path, registry.QUERY_VALUE)
	if err != nil {
		t.Fatalf("no %s: %v", path, err)
	}
	defer k.Close()
	for name, want := range map[string]string{"DisplayName": id, "IconUri": appIcon, "CustomActivator": toastGUID} {
		if got, _, err := k.GetStringValue(name); err != nil || got != want {
			t.Errorf("%s = %q (%v), want %q", name, got, err, want)
		}
	}
	if _, err := os.Stat(appIcon); err != nil {
		t.Errorf("no lasting app icon: %v", err)
	}
}
