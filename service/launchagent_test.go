package service

import (
	"strings"
	"testing"

	"howett.net/plist"
)

// The LaunchAgent parses as a plist and carries the keys a tray needs, with
// an awkward path XML-escaped; no template action survives in it.
func TestLaunchAgentPlist(t *testing.T) {
	exe := `/Applications/Trust & "Watch" <1> it's {{Name}}.app/Contents/MacOS/trustwatch`
	logDir := "/Users/anna/Library/Logs/trustwatch"
	text := launchAgentPlist(exe, logDir)
	if strings.Contains(text, "{{") || strings.Contains(text, "}}") {
		t.Fatalf("plist still contains a template action:\n%s", text)
	}
	var got struct {
		Label                  string
		ProgramArguments       []string
		RunAtLoad              *bool
		KeepAlive              *bool
		LimitLoadToSessionType string
		ProcessType            string
		StandardOutPath        string
		StandardErrorPath      string
	}
	format, err := plist.Unmarshal([]byte(text), &got)
	if err != nil {
		t.Fatalf("plist does not parse: %v\n%s", err, text)
	}
	if format != plist.XMLFormat {
		t.Errorf("format %d, want XML", format)
	}
	if got.Label != launchAgentLabel {
		t.Errorf("Label = %q", got.Label)
	}
	if len(got.ProgramArguments) != 1 || got.ProgramArguments[0] != exe {
		t.Errorf("ProgramArguments = %q, want [%q]", got.ProgramArguments, exe)
	}
	if got.RunAtLoad == nil || !*got.RunAtLoad {
		t.Error("RunAtLoad is not true")
	}
	if got.KeepAlive == nil || *got.KeepAlive {
		t.Error("KeepAlive is not false (launchd would relaunch the tray after Quit)")
	}
	if got.LimitLoadToSessionType != "Aqua" || got.ProcessType != "Interactive" {
		t.Errorf("session %q, process type %q", got.LimitLoadToSessionType, got.ProcessType)
	}
	if got.StandardOutPath != logDir+"/trustwatch.out.log" || got.StandardErrorPath != logDir+"/trustwatch.err.log" {
		t.Errorf("log paths %q %q", got.StandardOutPath, got.StandardErrorPath)
	}
}
