package guide

// url.dll's FileProtocolHandler hands the URL to the default browser, like
// a click would, without cmd.exe's quoting rules ("start" mangles & and #).
func defaultOpener(url string) error {
	u, err := viaRedirect(url)
	if err != nil {
		return err
	}
	return launch("rundll32", "url.dll,FileProtocolHandler", u)
}
