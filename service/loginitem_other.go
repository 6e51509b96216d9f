//go:build !linux && !darwin && !windows

package service

import "path/filepath"

type osEnv struct{}

func defaultOSEnv() osEnv { return osEnv{} }

func hasSystemdUserManager(*env) bool { return false }

func (e *env) logPath() string { return filepath.Join(e.stateHome, Name, Name+".log") }

func (e *env) install() (string, error)   { return "", errNotSupported }
func (e *env) uninstall() (string, error) { return "", errNotSupported }
func (e *env) start() (string, error)     { return "", errNotSupported }
func (e *env) stop() (string, error)      { return "", errNotSupported }
func (e *env) status() (Status, error)    { return Status{}, errNotSupported }
