package guide

func defaultOpener(url string) error {
	u, err := viaRedirect(url)
	if err != nil {
		return err
	}
	return launch("open", u)
}
