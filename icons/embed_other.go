//go:build !linux && !windows && !darwin

package icons

import _ "embed"

// Other Unix desktops use the same StatusNotifierItem tray as Linux; 32 px
// is the size xfce and KDE panels request and scale from.
var (
	//go:embed png/idle-32.png
	idlePNG []byte
	//go:embed png/ok-32.png
	okPNG []byte
	//go:embed png/waiting-32.png
	waitingPNG []byte
	//go:embed png/attention-32.png
	attentionPNG []byte
	//go:embed png/problem-32.png
	problemPNG []byte
	//go:embed png/app-32.png
	app32PNG []byte
)

var tray = [...][]byte{idlePNG, okPNG, waitingPNG, attentionPNG, problemPNG}

func forLevel(l Level) []byte { return tray[index(l)] }
func app() []byte             { return app32PNG }
