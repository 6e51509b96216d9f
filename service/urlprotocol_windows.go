package service

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/windows/registry"
)

// The "trustwatch:" URL scheme, per user under HKCU\Software\Classes: a
// toast button's URL starts `trustwatch.exe "trustwatch:…"`, which hands the
// action to the running tray. The installer writes the same keys (and
// removes them on uninstall); the tray rewrites them at start so that a
// moved or unzipped exe is the one Windows starts.

const urlSchemeKey = `Software\Classes\` + Name

func (e *env) urlKey() string { return e.os.prefix + urlSchemeKey }

// urlCommand is the open command: the quoted exe and the URL as one argument.
func urlCommand(exe string) string { return `"` + exe + `" "%1"` }

// RegisterURLProtocol points the trustwatch: scheme at this executable.
func RegisterURLProtocol() error {
	e, err := defaultEnv()
	if err != nil {
		return err
	}
	return e.registerURLProtocol()
}

func (e *env) registerURLProtocol() error {
	exe, err := e.loginExe()
	if err != nil {
		return err
	}
	if strings.Contains(exe, `"`) {
		return fmt.Errorf("executable path %q contains a quote", exe)
	}
	values := []struct{ key, name, value string }{
		{e.urlKey(), "", "URL:" + Name},
		{e.urlKey(), "URL Protocol", ""},
		{e.urlKey() + `\DefaultIcon`, "", `"` + exe + `",0`},
		{e.urlKey() + `\shell\open\command`, "", urlCommand(exe)},
	}
	for _, v := range values {
		k, _, err := registry.CreateKey(e.os.root, v.key, registry.QUERY_VALUE|registry.SET_VALUE)
		if err != nil {
			return fmt.Errorf("registering trustwatch: URLs: %w", err)
		}
		cur, _, gerr := k.GetStringValue(v.name)
		if gerr != nil || cur != v.value {
			err = k.SetStringValue(v.name, v.value)
		}
		k.Close()
		if err != nil {
			return fmt.Errorf("registering trustwatch: URLs: %w", err)
		}
	}
	return nil
}

// urlProtocolCommand reads the registered open command ("" when none).
func (e *env) urlProtocolCommand() (string, error) {
	k, err := registry.OpenKey(e.os.root, e.urlKey()+`\shell\open\command`, registry.QUERY_VALUE)
	if errors.Is(err, registry.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	defer k.Close()
	v, _, err := k.GetStringValue("")
	if errors.Is(err, registry.ErrNotExist) {
		return "", nil
	}
	return v, err
}
