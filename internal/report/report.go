// Package report writes trustwatch's plain-text support report: what a
// helper needs to understand why a phone does not sync on this computer,
// in one page. It is a pure function of what the shells gathered (Info),
// so the `report` verb and the tray's "Copy support report" print the same
// thing. It never holds a key, a pair record or an escrow bag: nothing
// here reads one, and Write drops any line that looks like key material
// (a log line, a detail) before it leaves.
package report

import (
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/trustwatch/trustwatch/watcher"
	"github.com/trustwatch/trustwatch/watcher/engine"

	"github.com/trustwatch/trustwatch/internal/say"
)

// Info is everything the report shows, gathered by the caller.
type Info struct {
	Time time.Time

	Version, Commit, GoVersion string
	OS, Arch, OSName, Language string
	Executable                 string

	Usbmux engine.Usbmux
	// Socket describes usbmuxd's socket file (owner, mode) or port; "" when not known.
	Socket string
	// Daemon says where usbmuxd is installed ("/usr/sbin/usbmuxd"), or that it is not.
	Daemon string

	USB           string   // the USB layer, in one line
	LoginItem     []string // the login item, a line each
	Notifications []string // the notification server, a line each
	TrayHost      string

	Devices []engine.Device
	History []watcher.Entry
	// HistoryOf says whose history it is ("this tray, since 10:02").
	HistoryOf string

	LogWhere string
	LogTail  []string
}

// Write writes the report; with redact, UDIDs and phone names are replaced
// by placeholders (UDID-1, iPhone-1) everywhere, log lines included.
func Write(w io.Writer, in Info, redact bool) error {
	// Lines from outside trustwatch's own knowledge (phones' details,
	// errors, the log) are checked strictly for key material; the rest
	// (paths, versions) only for the unmistakable markers.
	var b strings.Builder
	strict := false
	p := func(format string, a ...any) {
		for _, l := range strings.Split(fmt.Sprintf(format, a...), "\n") {
			if looksSecret(l, strict) {
				l = l[:len(l)-len(strings.TrimLeft(l, " "))] + "[line removed: it looked like key material]"
			}
			b.WriteString(l + "\n")
		}
	}
	kvIn := func(indent, k, v string) {
		if v == "" {
			v = "(unknown)"
		}
		p("%s%-14s %s", indent, k+":", v)
	}
	kv := func(k, v string) { kvIn("  ", k, v) }

	p("trustwatch support report, %s", in.Time.Format(time.RFC3339))
	if redact {
		p("(redacted: UDIDs and phone names are replaced by placeholders)")
	}
	p("It holds no keys, pairing records or escrow bags.")
	p("")
	p("trustwatch")
	kv("version", in.Version)
	kv("commit", in.Commit)
	kv("go", in.GoVersion)
	kv("executable", in.Executable)
	p("")
	p("computer")
	kv("os", strings.TrimSpace(in.OSName+" ("+in.OS+"/"+in.Arch+")"))
	kv("language", in.Language)
	p("")
	p("usbmuxd")
	kv("address", in.Usbmux.Address)
	state := string(in.Usbmux.State)
	switch {
	case state == "" && in.Usbmux.Reachable:
		state = string(engine.MuxRunning)
	case state == "":
		state = "unknown"
	}
	kv("state", state)
	if t := in.Usbmux.Text; !t.Headline.IsZero() {
		kv("in words", say.MuxLine(say.English, t))
		if t.Anchor != "" {
			kv("guide", t.Anchor)
		}
	}
	if in.Usbmux.Error != "" {
		kv("error", in.Usbmux.Error)
	}
	if in.Socket != "" {
		kv("socket", in.Socket)
	}
	if in.Daemon != "" {
		kv("installed", in.Daemon)
	}
	p("")
	p("this computer")
	kv("usb layer", in.USB)
	kv("tray host", in.TrayHost)
	lines := func(k string, ls []string) {
		if len(ls) == 0 {
			kv(k, "")
			return
		}
		for i, l := range ls {
			if i == 0 {
				kv(k, l)
			} else {
				p("  %-14s %s", "", l)
			}
		}
	}
	lines("login item", in.LoginItem)
	lines("notifications", in.Notifications)
	p("")

	strict = true
	p("phones (%d)", len(in.Devices))
	if len(in.Devices) == 0 {
		p("  No iPhone connected.")
	}
	for _, d := range in.Devices {
		dv := func(k, v string) { kvIn("    ", k, v) }
		p("  %s", d.DisplayName())
		dv("udid", d.UDID)
		st := string(d.State)
		if w := say.StateWords(say.English, d.State); w != st {
			st += " (" + w + ")"
		}
		dv("state", st+" since "+clock(d.Since))
		dv("says", say.Summary(say.English, d))
		if d.Detail != "" {
			dv("detail", d.Detail)
		}
		if d.Lockdown != "" {
			dv("lockdown", d.Lockdown)
		}
		dv("guide", d.Guide)
		model := d.ProductType
		if d.IOSVersion != "" {
			model += " iOS " + d.IOSVersion
		}
		dv("model", strings.TrimSpace(model))
		conn := d.Connection
		if d.USB != nil {
			conn += fmt.Sprintf(", USB bus %d address %d, product 0x%04x, %d Mb/s", d.USB.Bus, d.USB.Address, d.USB.ProductID, d.USB.SpeedMbps)
		}
		dv("connection", conn)
	}
	p("")

	p("history of %s (%d entries, oldest first)", in.HistoryOf, len(in.History))
	if len(in.History) == 0 {
		p("  (nothing happened yet)")
	}
	for _, e := range in.History {
		p("  %s", historyLine(e))
	}
	p("")

	strict = false
	p("log (%s; last %d lines)", in.LogWhere, len(in.LogTail))
	strict = true
	var red *redactor
	if redact {
		red = newRedactor(in)
	}
	for _, l := range in.LogTail {
		if !logRecord(l) {
			// A log record is one line; anything else in the file (a
			// pasted record, a key) has no business in a report.
			p("  [line removed: not a log record]")
			continue
		}
		if redact {
			// older lines may name phones this process never saw
			l = red.unknown(l)
		}
		p("  %s", l)
	}

	text := b.String()
	if redact {
		text = red.replace(text)
	}
	_, err := io.WriteString(w, text)
	return err
}

func clock(t time.Time) string {
	if t.IsZero() {
		return "(unknown)"
	}
	return t.Format("15:04:05.000")
}

func historyLine(e watcher.Entry) string {
	ts := e.Time.Format("15:04:05.000")
	if e.Usbmux != nil {
		u := e.Usbmux
		if u.Reachable {
			return ts + "  usbmuxd: running"
		}
		s := fmt.Sprintf("%s  usbmuxd: %s", ts, orUnknown(string(u.State)))
		if u.Error != "" {
			s += " (" + u.Error + ")"
		}
		return s
	}
	who := e.Name
	if who == "" {
		who = e.UDID
	}
	if who == "" {
		who = e.Key
	}
	if e.Removed {
		return fmt.Sprintf("%s  %s: unplugged (was %s)", ts, who, orUnknown(string(e.Previous)))
	}
	s := fmt.Sprintf("%s  %s: %s → %s", ts, who, orUnknown(string(e.Previous)), e.State)
	if e.Lockdown != "" {
		s += " [" + e.Lockdown + "]"
	}
	if e.Detail != "" {
		s += " (" + e.Detail + ")"
	}
	return s
}

func orUnknown(s string) string {
	if s == "" {
		return "new"
	}
	return s
}

// secretRE finds what must never leave the computer: PEM blocks (keys,
// certificates), the names of pair record fields that hold keys or the
// escrow bag, and plist data elements.
var secretRE = regexp.MustCompile(`(?i)-----BEGIN|PRIVATE KEY|EscrowBag|HostPrivateKey|RootPrivateKey|HostCertificate|RootCertificate|DeviceCertificate|<data>`)

// base64RE finds long base64 runs: key material in whatever wrapping.
var base64RE = regexp.MustCompile(`[A-Za-z0-9+/]{60,}={0,2}`)

// logRecord: trustwatch's log records (slog's text format, in a file or
// in the journal) are single lines with a level and a message.
func logRecord(l string) bool {
	return strings.Contains(l, "level=") && strings.Contains(l, "msg=")
}

// looksSecret reports whether a line may carry key material: the markers
// always, and with strict also long base64 runs (paths in trustwatch's
// own lines could look like those).
func looksSecret(l string, strict bool) bool {
	if secretRE.MatchString(l) {
		return true
	}
	if !strict {
		return false
	}
	for _, run := range base64RE.FindAllString(l, -1) {
		// random bytes in base64 mix cases and digits; paths and words do not
		if strings.ContainsAny(run, "0123456789") && strings.ToLower(run) != run && strings.ToUpper(run) != run {
			return true
		}
	}
	return false
}

// redactor replaces UDIDs and phone names by stable placeholders.
type redactor struct {
	pairs []string // old, new, … longest old first
}

var (
	udidRE  = regexp.MustCompile(`\b([0-9A-Fa-f]{8}-[0-9A-Fa-f]{16}|[0-9A-Fa-f]{40}|[0-9A-Fa-f]{24})\b`)
	titleRE = regexp.MustCompile(`\b(title|name)=("(?:[^"\\]|\\.)*"|\S+)`)
)

func newRedactor(in Info) *redactor {
	udids := map[string]string{} // normalised UDID → placeholder
	names := map[string]string{}
	addUDID := func(u string) {
		n := engine.NormalizeUDID(u)
		if n != "" && udids[n] == "" {
			udids[n] = fmt.Sprintf("UDID-%d", len(udids)+1)
		}
	}
	addName := func(n string) {
		if strings.TrimSpace(n) != "" && names[n] == "" {
			names[n] = fmt.Sprintf("iPhone-%d", len(names)+1)
		}
	}
	for _, d := range in.Devices {
		addUDID(d.UDID)
		addUDID(d.Key)
		addName(d.Name)
	}
	for _, e := range in.History {
		addUDID(e.UDID)
		addUDID(e.Key)
		addName(e.Name)
	}
	r := &redactor{}
	for n, ph := range names {
		r.pairs = append(r.pairs, n, ph)
	}
	for u, ph := range udids {
		r.pairs = append(r.pairs, u, ph, engine.HyphenateUDID(u), ph, strings.ToLower(u), ph, strings.ToLower(engine.HyphenateUDID(u)), ph)
	}
	// longest first, so "Anna's iPhone 2" is not half-replaced by "Anna's iPhone"
	type pair struct{ old, new string }
	ps := make([]pair, 0, len(r.pairs)/2)
	for i := 0; i < len(r.pairs); i += 2 {
		ps = append(ps, pair{r.pairs[i], r.pairs[i+1]})
	}
	sort.SliceStable(ps, func(i, j int) bool { return len(ps[i].old) > len(ps[j].old) })
	r.pairs = r.pairs[:0]
	for _, p := range ps {
		r.pairs = append(r.pairs, p.old, p.new)
	}
	return r
}

func (r *redactor) replace(text string) string {
	return strings.NewReplacer(r.pairs...).Replace(text)
}

// unknown masks, in a log line, UDIDs and names of phones this process
// never saw: every UDID-shaped string, and log attributes that carry names.
func (r *redactor) unknown(line string) string {
	line = r.replace(line)
	line = udidRE.ReplaceAllStringFunc(line, func(m string) string {
		if strings.HasPrefix(m, "UDID-") {
			return m
		}
		return "UDID-?"
	})
	return titleRE.ReplaceAllString(line, "$1=[redacted]")
}
