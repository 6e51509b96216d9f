//go:build !linux && !darwin && !windows

package guide

// The BSDs and other Unix desktops follow freedesktop.org, like Linux.
func defaultOpener(url string) error { return launch("xdg-open", url) }
