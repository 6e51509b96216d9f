package service

// RefuseRoot returns an error saying why when the process runs as root (on
// Windows: as the SYSTEM account). The tray and the demo call it unless
// given --allow-root.
func RefuseRoot() error { return refuseRoot() }
