package guide

func defaultOpener(url string) error { return launch("xdg-open", url) }
