//go:build !windows && !darwin

package clipboard

import "os"

func tools() []tool {
	var ts []tool
	if os.Getenv("WAYLAND_DISPLAY") != "" {
		ts = append(ts, tool{[]string{"wl-copy", "--type", "text/plain;charset=utf-8"}, utf8})
	}
	if os.Getenv("DISPLAY") != "" {
		ts = append(ts,
			tool{[]string{"xclip", "-selection", "clipboard", "-in"}, utf8},
			tool{[]string{"xsel", "--clipboard", "--input"}, utf8},
		)
	}
	return ts
}
