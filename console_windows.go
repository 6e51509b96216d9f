package main

import (
	"os"

	"golang.org/x/sys/windows"
)

// A tray build is linked with -H=windowsgui, which starts without a
// console; the CLI verbs then print nothing. Attach to the console of the
// shell that started us, when there is one, so `trustwatch status` still
// answers in cmd.exe and PowerShell. The tray itself stays detached.
//
// cmd.exe's prompt does not wait for a GUI program, so in an interactive
// cmd.exe the prompt comes back before the output (scripts, redirection,
// `start /wait` and PowerShell pipelines wait as usual); docs/windows.md.
func init() {
	if !wantsConsole(os.Args[1:]) {
		return
	}
	if h, err := windows.GetStdHandle(windows.STD_OUTPUT_HANDLE); err == nil && h != 0 && h != windows.InvalidHandle {
		return // already has somewhere to write (console or redirection)
	}
	attach := windows.NewLazySystemDLL("kernel32.dll").NewProc("AttachConsole")
	const attachParentProcess = ^uintptr(0) // (DWORD)-1
	if r, _, _ := attach.Call(attachParentProcess); r == 0 {
		return // started from Explorer or at login: stay silent
	}
	if out, err := os.OpenFile("CONOUT$", os.O_WRONLY, 0); err == nil {
		os.Stdout, os.Stderr = out, out
	}
}
