//go:build !cgo

package tray

import (
	"context"
	"errors"
)

// Run cannot show a menu-bar item without cgo: fyne.io/systray needs Cocoa.
// This stub keeps `GOOS=darwin CGO_ENABLED=0 go vet ./...` working.
func Run(ctx context.Context, opts Options) error {
	return errors.New(words().T("tray.no_menu_bar", map[string]any{"Setting": "CGO_ENABLED=0", "Cgo": "cgo"}))
}
