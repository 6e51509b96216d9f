//go:build !windows

package service

import "errors"

// Action URLs ("trustwatch:…") are registered on Windows only, where toast
// buttons activate them; elsewhere notifications carry their actions.

// ErrNoTray is returned by SendAction when no tray of this user runs.
var ErrNoTray = errors.New("trustwatch is not running")

var errNoHandoff = errors.New("action URLs are handed over on Windows only")

// ServeActions does nothing off Windows.
func ServeActions(func(url string)) (stop func(), err error) { return func() {}, nil }

// SendAction is not supported off Windows.
func SendAction(string) error { return errNoHandoff }
