package service

import (
	"bufio"
	"strings"
)

// XDG autostart entries (Desktop Entry Specification 1.5). Exec needs the
// spec's own quoting (not Go's strconv.Quote): arguments with reserved
// characters go in double quotes with ", `, $ and \ backslash-escaped, % is
// doubled (field codes), and then the string-value escape doubles every
// backslash again.

// desktopExecArg quotes one Exec argument.
func desktopExecArg(arg string) string {
	const reserved = " \t\n\"'\\><~|&;$*?#()`"
	var b strings.Builder
	quote := arg == "" || strings.ContainsAny(arg, reserved)
	if quote {
		b.WriteByte('"')
	}
	for _, r := range arg {
		switch r {
		case '"', '`', '$', '\\':
			if quote {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		case '%':
			b.WriteString("%%")
		default:
			b.WriteRune(r)
		}
	}
	if quote {
		b.WriteByte('"')
	}
	return b.String()
}

// desktopString applies the string-value escapes (\\, \n, \t, \r).
func desktopString(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`, "\t", `\t`, "\r", `\r`).Replace(s)
}

// desktopUnescape undoes desktopString.
func desktopUnescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case 's':
			b.WriteByte(' ')
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// desktopExecUnquote splits an (already string-unescaped) Exec value into
// arguments; field codes are kept as written except %%.
func desktopExecUnquote(v string) []string {
	var args []string
	var cur strings.Builder
	in, have := false, false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case in && c == '\\' && i+1 < len(v):
			i++
			cur.WriteByte(v[i])
		case c == '"':
			in, have = !in, true
		case !in && (c == ' ' || c == '\t'):
			if have || cur.Len() > 0 {
				args = append(args, cur.String())
				cur.Reset()
				have = false
			}
		case c == '%' && i+1 < len(v) && v[i+1] == '%':
			i++
			cur.WriteByte('%')
		default:
			cur.WriteByte(c)
		}
	}
	if have || cur.Len() > 0 {
		args = append(args, cur.String())
	}
	return args
}

// autostartEntry is the .desktop file that starts the tray at login.
func autostartEntry(exe string) string {
	var b strings.Builder
	b.WriteString("[Desktop Entry]\n")
	b.WriteString("Type=Application\n")
	b.WriteString("Version=1.4\n")
	b.WriteString("Name=trustwatch\n")
	b.WriteString("GenericName=iPhone connection helper\n")
	b.WriteString("Comment=Says why a plugged-in iPhone cannot sync, and what to do\n")
	b.WriteString("Exec=" + desktopString(desktopExecArg(exe)) + "\n")
	// TryExec makes the session skip the entry once the binary is gone.
	b.WriteString("TryExec=" + desktopString(exe) + "\n")
	b.WriteString("Icon=phone\n")
	b.WriteString("Terminal=false\n")
	b.WriteString("X-GNOME-Autostart-enabled=true\n")
	b.WriteString("X-trustwatch-LoginItem=true\n")
	return b.String()
}

// desktopGroup returns the [Desktop Entry] keys of a .desktop file (raw
// values, string escapes still in place).
func desktopGroup(text string) map[string]string {
	kv := map[string]string{}
	in := false
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "[") {
			in = line == "[Desktop Entry]"
			continue
		}
		if !in {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		kv[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return kv
}

// autostartDisabled is the key=value that makes a desktop skip the entry,
// or "".
func autostartDisabled(kv map[string]string) string {
	if strings.EqualFold(kv["Hidden"], "true") {
		return "Hidden=true"
	}
	if strings.EqualFold(kv["X-GNOME-Autostart-enabled"], "false") {
		return "X-GNOME-Autostart-enabled=false"
	}
	return ""
}
