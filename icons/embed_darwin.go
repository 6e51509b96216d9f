package icons

import _ "embed"

// macOS gets colour PNGs (For, App) and monochrome templates (Template)
// that the menu bar tints for light and dark mode. systray shows them at
// 16×16 points, so the 32 px files are sharp on Retina screens.
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

	//go:embed template/idle-32.png
	idleTemplate []byte
	//go:embed template/ok-32.png
	okTemplate []byte
	//go:embed template/waiting-32.png
	waitingTemplate []byte
	//go:embed template/attention-32.png
	attentionTemplate []byte
	//go:embed template/problem-32.png
	problemTemplate []byte
)

var (
	tray      = [...][]byte{idlePNG, okPNG, waitingPNG, attentionPNG, problemPNG}
	templates = [...][]byte{idleTemplate, okTemplate, waitingTemplate, attentionTemplate, problemTemplate}
)

func forLevel(l Level) []byte { return tray[index(l)] }
func app() []byte             { return app32PNG }

// Template is the monochrome (black + alpha) menu-bar image for level,
// for systray.SetTemplateIcon.
func Template(level Level) []byte { return templates[index(level)] }
