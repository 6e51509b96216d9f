package icons

import _ "embed"

// Windows' LoadImage needs ICO; each holds PNG frames from 16 to 256 px so
// the shell picks the frame for the current DPI.
var (
	//go:embed ico/idle.ico
	idleICO []byte
	//go:embed ico/ok.ico
	okICO []byte
	//go:embed ico/waiting.ico
	waitingICO []byte
	//go:embed ico/attention.ico
	attentionICO []byte
	//go:embed ico/problem.ico
	problemICO []byte
	//go:embed ico/app.ico
	appICO []byte
)

var tray = [...][]byte{idleICO, okICO, waitingICO, attentionICO, problemICO}

func forLevel(l Level) []byte { return tray[index(l)] }
func app() []byte             { return appICO }
