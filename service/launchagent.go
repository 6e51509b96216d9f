package service

import (
	"strings"
)

// The macOS LaunchAgent. kardianos/service's plist has KeepAlive=true (launchd
// would relaunch the tray right after Quit), RunAtLoad=false and no Aqua
// limit, so we hand it a complete plist through Option["LaunchdConfig"].
// Values are XML-escaped here, and { } become character references so that
// kardianos's template engine finds no action in them.

// launchAgentLabel is the launchd label and the plist's file stem.
const launchAgentLabel = "com.github.trustwatch"

var plistEscape = strings.NewReplacer(
	"&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;",
	"{", "&#123;", "}", "&#125;",
)

// launchAgentPlist renders the agent that starts exe (the tray) at login in
// the user's GUI (Aqua) session, with stdout/stderr in logDir.
func launchAgentPlist(exe, logDir string) string {
	esc := plistEscape.Replace
	return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>Label</key>
	<string>` + esc(launchAgentLabel) + `</string>
	<key>ProgramArguments</key>
	<array>
		<string>` + esc(exe) + `</string>
	</array>
	<key>RunAtLoad</key>
	<true/>
	<key>KeepAlive</key>
	<false/>
	<key>LimitLoadToSessionType</key>
	<string>Aqua</string>
	<key>ProcessType</key>
	<string>Interactive</string>
	<key>StandardOutPath</key>
	<string>` + esc(logDir+"/"+Name+".out.log") + `</string>
	<key>StandardErrorPath</key>
	<string>` + esc(logDir+"/"+Name+".err.log") + `</string>
</dict>
</plist>
`
}
