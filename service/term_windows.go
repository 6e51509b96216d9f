package service

import (
	"os"

	"golang.org/x/sys/windows"
)

func underJournal() bool { return false }

func isTerminal(f *os.File) bool {
	var mode uint32
	return windows.GetConsoleMode(windows.Handle(f.Fd()), &mode) == nil
}
