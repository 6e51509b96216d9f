package service

// RefuseRoot returns an error saying why when the process runs as root (on
// Windows: as the SYSTEM account). The lead's main calls it for the tray and
// demo, and skips it with --allow-root.
func RefuseRoot() error { return refuseRoot() }
