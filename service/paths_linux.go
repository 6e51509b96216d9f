package service

import "path/filepath"

// logPath: $XDG_STATE_HOME/trustwatch/trustwatch.log (XDG: state = logs).
func (e *env) logPath() string { return filepath.Join(e.stateHome, Name, Name+".log") }
