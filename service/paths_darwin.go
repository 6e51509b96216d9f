package service

import "path/filepath"

// logPath: ~/Library/Logs/trustwatch/trustwatch.log, where Console.app looks.
func (e *env) logPath() string { return filepath.Join(e.darwinLogDir(), Name+".log") }

func (e *env) darwinLogDir() string { return filepath.Join(e.home, "Library", "Logs", Name) }
