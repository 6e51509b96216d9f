package guide

import (
	"fmt"
	"io"

	"github.com/trustwatch/trustwatch/internal/catalog"
)

// Exit codes of Show.
const (
	exitOK   = 0
	exitFail = 1 // the browser could not be opened, or the page written
)

// Show is what `trustwatch guide [ANCHOR] [--print]` does once its
// arguments are read (the command line parses them like every other verb's;
// anchor is known to be "" or one of Anchors): open the guide in the
// browser at anchor, or with print write it (or anchor's section) to
// stdout as plain text. It returns the exit code: 0 done, 1 the guide
// could not be opened or written.
func Show(anchor string, print bool, stdout, stderr io.Writer) int {
	w := catalog.Current()
	fail := func(err error) {
		fmt.Fprintln(stderr, w.T("cli.guide.failed", map[string]any{"Error": err}))
	}
	if print {
		t, err := Text(anchor)
		if err != nil {
			fail(err)
			return exitFail
		}
		if _, err := io.WriteString(stdout, t); err != nil {
			fail(err)
			return exitFail
		}
		return exitOK
	}

	u, err := open(anchor)
	if err != nil {
		fail(err)
		if u != "" {
			fmt.Fprintln(stderr, w.T("cli.guide.open_by_hand", map[string]any{"URL": u, "Anchor": anchor}))
		}
		return exitFail
	}
	fmt.Fprintln(stdout, w.T("cli.guide.opened", map[string]any{"URL": u}))
	return exitOK
}
