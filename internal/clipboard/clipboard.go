// Package clipboard puts text on the desktop's clipboard with the tool
// each OS has for it (wl-copy or xclip/xsel on Linux, pbcopy on macOS,
// clip.exe on Windows). Where none works it says so, and the caller saves
// a file instead.
package clipboard

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// ErrUnavailable means no clipboard tool works here (none installed, or
// no display to hold the selection).
var ErrUnavailable = errors.New("no clipboard on this desktop")

// toolWait bounds one clipboard tool: xclip and wl-copy fork a helper that
// serves the selection, and return at once.
const toolWait = 3 * time.Second

// tool is one way to copy: the command and the input it wants.
type tool struct {
	argv   []string
	encode func(string) []byte
}

// Copy puts text on the clipboard and returns the tool that did it.
func Copy(ctx context.Context, text string) (string, error) {
	var errs []string
	for _, t := range tools() {
		path, err := exec.LookPath(t.argv[0])
		if err != nil {
			continue
		}
		if err := run(ctx, path, t.argv[1:], t.encode(text)); err != nil {
			errs = append(errs, t.argv[0]+": "+err.Error())
			continue
		}
		return t.argv[0], nil
	}
	if len(errs) > 0 {
		return "", fmt.Errorf("%w (%s)", ErrUnavailable, strings.Join(errs, "; "))
	}
	return "", ErrUnavailable
}

func run(ctx context.Context, path string, args []string, input []byte) error {
	ctx, cancel := context.WithTimeout(ctx, toolWait)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdin = bytes.NewReader(input)
	// No pipes for output: the helper xclip leaves behind would keep them
	// open, and Wait would wait for it.
	cmd.Stdout, cmd.Stderr = nil, nil
	return cmd.Run()
}

func utf8(s string) []byte { return []byte(s) }
