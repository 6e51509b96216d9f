package service

import (
	"errors"
	"fmt"
	"unsafe"

	"github.com/trustwatch/trustwatch/internal/winmsg"
)

// Action hand-off on Windows: the running tray owns a message-only window
// (class actionClass, titled with its per-user mutex name); a second
// trustwatch process, started by Windows for a "trustwatch:" URL, finds it
// and sends the URL with WM_COPYDATA. Window messages stay inside the
// user's desktop session, so another user's process cannot reach it.

const (
	actionClass  = "trustwatch-actions"
	wmCopyData   = 0x004A
	copyDataMark = 0x74776163 // "twac": ours, not a stray WM_COPYDATA
	maxActionLen = 1024
	sendTimeout  = 3000 // ms
)

// copyDataStruct is COPYDATASTRUCT.
type copyDataStruct struct {
	data uintptr
	size uint32
	ptr  unsafe.Pointer
}

// ServeActions receives the URLs that SendAction hands over, until stop.
// handle runs on the window's thread: it must return promptly.
func ServeActions(handle func(url string)) (stop func(), err error) {
	e, err := defaultEnv()
	if err != nil {
		return nil, err
	}
	return e.serveActions(handle)
}

func (e *env) serveActions(handle func(url string)) (func(), error) {
	w, err := winmsg.New(actionClass, e.mutexName(), func(msg uint32, _ uintptr, lParam unsafe.Pointer) (uintptr, bool) {
		if msg != wmCopyData || lParam == nil {
			return 0, false
		}
		cds := (*copyDataStruct)(lParam)
		if cds.data != copyDataMark || cds.size == 0 || cds.size > maxActionLen || cds.ptr == nil {
			return 0, true // FALSE: refused
		}
		handle(string(unsafe.Slice((*byte)(cds.ptr), cds.size)))
		return 1, true
	}, nil)
	if err != nil {
		return nil, err
	}
	return w.Close, nil
}

// ErrNoTray is returned by SendAction when no tray of this user runs.
var ErrNoTray = errors.New("trustwatch is not running")

// SendAction hands url to the running tray of this user.
func SendAction(url string) error {
	e, err := defaultEnv()
	if err != nil {
		return err
	}
	return e.sendAction(url)
}

func (e *env) sendAction(url string) error {
	if url == "" || len(url) > maxActionLen {
		return fmt.Errorf("action of %d bytes", len(url))
	}
	hwnd := winmsg.Find(actionClass, e.mutexName())
	if hwnd == 0 {
		return ErrNoTray
	}
	b := []byte(url)
	cds := copyDataStruct{data: copyDataMark, size: uint32(len(b)), ptr: unsafe.Pointer(&b[0])}
	r, ok := winmsg.Send(hwnd, wmCopyData, 0, unsafe.Pointer(&cds), sendTimeout)
	switch {
	case !ok:
		return errors.New("the running trustwatch did not answer within 3 s")
	case r != 1:
		return errors.New("the running trustwatch refused the action")
	}
	return nil
}
