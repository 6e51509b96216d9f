// Package plistval decodes the plist dictionaries that usbmuxd and lockdownd
// send, and reads their loosely typed values, without ever panicking.
package plistval

import (
	"context"
	"errors"
	"fmt"
)

// ErrNotPlist means a body is neither an XML nor a binary plist dictionary.
// Callers wrap it in their own protocol error.
var ErrNotPlist = errors.New("not a plist dictionary")

// Dict decodes an XML or binary plist whose top level is a dictionary,
// within DefaultLimits. Other dialects (OpenStep text) are not spoken by
// either daemon.
func Dict(body []byte) (map[string]any, error) {
	return DictContext(context.Background(), body, DefaultLimits)
}

// DictContext is Dict within lim, giving up when ctx ends.
func DictContext(ctx context.Context, body []byte, lim Limits) (map[string]any, error) {
	v, err := Decode(ctx, body, lim)
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %w", ErrNotPlist, err)
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
