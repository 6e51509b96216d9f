//go:build !linux && !darwin && !windows

package guide

// The BSDs and other Unix desktops follow freedesktop.org, like Linux.
func defaultOpener(url string) error {
	u, err := viaRedirect(url)
	if err != nil {
		return err
	}
	return launch("xdg-open", u)
}
