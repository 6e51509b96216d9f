package main

import "github.com/trustwatch/trustwatch/watcher/usbmux"

// socketFacts: Apple Mobile Device Service listens on TCP.
func socketFacts(addr usbmux.Address) string { return addr.Network + " " + addr.Path }
