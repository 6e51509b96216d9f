// Package plistval decodes the plist dictionaries that usbmuxd and lockdownd
// send, and reads their loosely typed values, without ever panicking.
package plistval

import (
	"bytes"
	"errors"
	"fmt"

	"howett.net/plist"
)

// ErrNotPlist means a body is neither an XML nor a binary plist dictionary.
// Callers wrap it in their own protocol error.
var ErrNotPlist = errors.New("not a plist dictionary")

// Dict decodes an XML or binary plist whose top level is a dictionary.
// Other dialects (OpenStep text) are not spoken by either daemon.
func Dict(body []byte) (m map[string]any, err error) {
	trimmed := bytes.TrimLeft(body, " \t\r\n\x00")
	if !bytes.HasPrefix(trimmed, []byte("bplist00")) && !bytes.HasPrefix(trimmed, []byte("<")) {
		return nil, fmt.Errorf("%w: neither XML nor a binary plist", ErrNotPlist)
	}
	// howett.net/plist re-panics runtime errors on some malformed binary
	// plists; a broken phone or daemon must not take the tray down.
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf("%w: malformed plist: %v", ErrNotPlist, r)
		}
	}()
	var v any
	if _, err := plist.Unmarshal(body, &v); err != nil {
		return nil, fmt.Errorf("%w: malformed plist: %v", ErrNotPlist, err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: top level is %T", ErrNotPlist, v)
	}
	return m, nil
}

// Int reads an integer, tolerating the encodings daemons have used
// (integers of any width, whole reals, decimal strings).
func Int(v any) (int64, bool) {
	switch x := v.(type) {
	case uint64:
		if x > 1<<63-1 {
			return 0, false
		}
		return int64(x), true
	case int64:
		return x, true
	case int:
		return int64(x), true
	case uint32:
		return int64(x), true
	case int32:
		return int64(x), true
	case float64:
		if x != x || x < -1<<62 || x > 1<<62 || x != float64(int64(x)) {
			return 0, false
		}
		return int64(x), true
	case string:
		var n int64
		if _, err := fmt.Sscan(x, &n); err != nil {
			return 0, false
		}
		return n, true
	}
	return 0, false
}

// String reads a string.
func String(v any) (string, bool) {
	s, ok := v.(string)
	return s, ok
}

// Bool reads a boolean (integers count: 0 is false).
func Bool(v any) (bool, bool) {
	switch x := v.(type) {
	case bool:
		return x, true
	case uint64:
		return x != 0, true
	case int64:
		return x != 0, true
	}
	return false, false
}
