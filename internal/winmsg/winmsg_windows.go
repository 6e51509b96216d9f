// Package winmsg makes message-only windows (parent HWND_MESSAGE) that pump
// their messages on a goroutine locked to its own OS thread: what Windows
// needs to deliver WM_DEVICECHANGE (USB hotplug) to a program without a
// window.
package winmsg

import (
	"fmt"
	"runtime"
	"sync"
	"unsafe"

	"golang.org/x/sys/windows"
)

var (
	user32               = windows.NewLazySystemDLL("user32.dll")
	procRegisterClassExW = user32.NewProc("RegisterClassExW")
	procCreateWindowExW  = user32.NewProc("CreateWindowExW")
	procDestroyWindow    = user32.NewProc("DestroyWindow")
	procDefWindowProcW   = user32.NewProc("DefWindowProcW")
	procGetMessageW      = user32.NewProc("GetMessageW")
	procDispatchMessageW = user32.NewProc("DispatchMessageW")
	procPostMessageW     = user32.NewProc("PostMessageW")
	procPostQuitMessage  = user32.NewProc("PostQuitMessage")
	procSendMessageTOW   = user32.NewProc("SendMessageTimeoutW")
)

const (
	wmDestroy   = 0x0002
	wmClose     = 0x0010
	hwndMessage = ^uintptr(2) // (HWND)-3
)

// Proc handles one message; handled false passes it to DefWindowProc.
// It runs on the window's thread: return promptly.
type Proc func(msg uint32, wParam uintptr, lParam unsafe.Pointer) (result uintptr, handled bool)

type wndClassEx struct {
	size       uint32
	style      uint32
	wndProc    uintptr
	clsExtra   int32
	wndExtra   int32
	instance   windows.Handle
	icon       windows.Handle
	cursor     windows.Handle
	background windows.Handle
	menuName   *uint16
	className  *uint16
	iconSm     windows.Handle
}

type winMsg struct {
	hwnd    uintptr
	message uint32
	wParam  uintptr
	lParam  uintptr
	time    uint32
	pt      struct{ x, y int32 }
	private uint32
}

var (
	mu       sync.Mutex
	procs    = map[uintptr]Proc{} // hwnd → handler
	classes  = map[string]bool{}
	callback = sync.OnceValue(func() uintptr { return windows.NewCallback(wndProc) })
)

func wndProc(hwnd, msg, wParam uintptr, lParam unsafe.Pointer) uintptr {
	switch msg {
	case wmClose:
		procDestroyWindow.Call(hwnd)
		return 0
	case wmDestroy:
		procPostQuitMessage.Call(0)
		return 0
	}
	mu.Lock()
	p := procs[hwnd]
	mu.Unlock()
	if p != nil {
		if r, ok := p(uint32(msg), wParam, lParam); ok {
			return r
		}
	}
	r, _, _ := procDefWindowProcW.Call(hwnd, msg, wParam, uintptr(lParam))
	return r
}

func registerClass(class *uint16, name string) error {
	mu.Lock()
	defer mu.Unlock()
	if classes[name] {
		return nil
	}
	var inst windows.Handle
	if err := windows.GetModuleHandleEx(0, nil, &inst); err != nil {
		return err
	}
	wc := wndClassEx{wndProc: callback(), instance: inst, className: class}
	wc.size = uint32(unsafe.Sizeof(wc))
	if r, _, err := procRegisterClassExW.Call(uintptr(unsafe.Pointer(&wc))); r == 0 {
		return fmt.Errorf("RegisterClassExW(%s): %w", name, err)
	}
	classes[name] = true
	return nil
}

// Window is a message-only window and the thread that pumps it. It lives
// as long as the process: its thread would exit with it, and under Wine a
// thread that exits while the process exits can hang it or get it killed.
type Window struct {
	HWND uintptr
	done chan struct{}
}

// New makes a message-only window of class (registered on first use) with
// title, calls setup on its thread once it exists (to register for
// notifications; an error destroys the window), and pumps messages to proc
// from then on. teardown, when not nil, runs on the same thread if the loop
// ever ends.
func New(class, title string, proc Proc, setup func(hwnd uintptr) (teardown func(), err error)) (*Window, error) {
	cls, err := windows.UTF16PtrFromString(class)
	if err != nil {
		return nil, err
	}
	ttl, err := windows.UTF16PtrFromString(title)
	if err != nil {
		return nil, err
	}
	if err := registerClass(cls, class); err != nil {
		return nil, err
	}
	w := &Window{done: make(chan struct{})}
	ready := make(chan error, 1)
	go func() {
		defer close(w.done)
		// A window belongs to the thread that made it; the thread exits
		// with this goroutine (never unlocked).
		runtime.LockOSThread()
		hwnd, _, err := procCreateWindowExW.Call(0, uintptr(unsafe.Pointer(cls)), uintptr(unsafe.Pointer(ttl)), 0, 0, 0, 0, 0, hwndMessage, 0, 0, 0)
		if hwnd == 0 {
			ready <- fmt.Errorf("CreateWindowExW(%s): %w", class, err)
			return
		}
		var teardown func()
		if setup != nil {
			if teardown, err = setup(hwnd); err != nil {
				procDestroyWindow.Call(hwnd)
				ready <- err
				return
			}
		}
		mu.Lock()
		procs[hwnd] = proc
		mu.Unlock()
		w.HWND = hwnd
		ready <- nil
		var m winMsg
		for {
			r, _, _ := procGetMessageW.Call(uintptr(unsafe.Pointer(&m)), 0, 0, 0)
			if int32(r) <= 0 { // WM_QUIT (0) or an error (-1)
				break
			}
			procDispatchMessageW.Call(uintptr(unsafe.Pointer(&m)))
		}
		if teardown != nil {
			teardown()
		}
		mu.Lock()
		delete(procs, hwnd)
		mu.Unlock()
	}()
	if err := <-ready; err != nil {
		<-w.done
		return nil, err
	}
	return w, nil
}

// Send sends a message and waits at most timeoutMs for the answer (the
// receiver may be hung); ok false when it did not answer in time. The USB
// tests send WM_DEVICECHANGE with it, as Windows does on a plug.
func Send(hwnd uintptr, msg uint32, wParam uintptr, lParam unsafe.Pointer, timeoutMs uint32) (result uintptr, ok bool) {
	const smtoAbortIfHung, smtoBlock = 0x0002, 0x0001
	r, _, _ := procSendMessageTOW.Call(hwnd, uintptr(msg), wParam, uintptr(lParam), smtoAbortIfHung|smtoBlock, uintptr(timeoutMs), uintptr(unsafe.Pointer(&result)))
	return result, r != 0
}
