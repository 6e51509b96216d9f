package guide

func defaultOpener(url string) error { return launch("open", url) }
