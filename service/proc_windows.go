package service

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"

	"golang.org/x/sys/windows"
)

// spawnDetached starts exe without a console, detached from this process.
func spawnDetached(exe string, args ...string) (int, <-chan error, error) {
	cmd := exec.Command(exe, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{
		CreationFlags: windows.DETACHED_PROCESS | windows.CREATE_NEW_PROCESS_GROUP,
	}
	if err := cmd.Start(); err != nil {
		return 0, nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	return cmd.Process.Pid, exited, nil
}

// askToQuit posts WM_CLOSE to the tray's hidden window (fyne.io/systray
// registers the class "SystrayClass"): systray then removes its icon, leaves
// its message loop and runs the app's exit path, as Quit does. Not testable
// under Wine (no windows without a display); verified only by reading
// systray's wndProc.
func askToQuit(pid int) error {
	hwnds := trayWindows(uint32(pid))
	if len(hwnds) == 0 {
		return errors.New("no tray window found")
	}
	for _, h := range hwnds {
		if r, _, err := procPostMessageW.Call(uintptr(h), wmClose, 0, 0); r == 0 {
			return fmt.Errorf("PostMessage(WM_CLOSE): %w", err)
		}
	}
	return nil
}

// forceKill is TerminateProcess: no cleanup, so the icon may linger in the
// notification area until the mouse passes over it.
func forceKill(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	defer p.Release()
	return p.Kill()
}

const wmClose = 0x0010

var (
	procPostMessageW = windows.NewLazySystemDLL("user32.dll").NewProc("PostMessageW")

	// EnumWindows needs a callback; Windows callbacks are a limited resource
	// in Go, so there is one, and the search state is guarded.
	enumOnce  sync.Once
	enumCB    uintptr
	enumMu    sync.Mutex
	enumPID   uint32
	enumFound []windows.HWND
)

// trayWindows lists pid's top-level windows of systray's class.
func trayWindows(pid uint32) []windows.HWND {
	enumOnce.Do(func() {
		enumCB = windows.NewCallback(func(h windows.HWND, _ uintptr) uintptr {
			var owner uint32
			if _, err := windows.GetWindowThreadProcessId(h, &owner); err != nil || owner != enumPID {
				return 1
			}
			buf := make([]uint16, 64)
			n, err := windows.GetClassName(h, &buf[0], int32(len(buf)))
			if err == nil && windows.UTF16ToString(buf[:n]) == "SystrayClass" {
				enumFound = append(enumFound, h)
			}
			return 1 // keep enumerating
		})
	})
	enumMu.Lock()
	defer enumMu.Unlock()
	enumPID, enumFound = pid, nil
	_ = windows.EnumWindows(enumCB, nil)
	return enumFound
}
