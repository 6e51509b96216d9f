package watcher

import "github.com/trustwatch/trustwatch/watcher/engine"

// daemonAbsent: Apple Mobile Device Service (or the Apple Devices app) does
// not answer on 127.0.0.1:27015. Telling not installed / stopped / disabled /
// starting apart needs the service control manager (issue 15).
func daemonAbsent() engine.MuxState { return engine.MuxNotRunning }
