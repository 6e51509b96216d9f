//go:build !linux

package ipc

import "net"

// checkPeer: elsewhere the endpoint's own permissions (socket mode 0600 in
// a 0700 dir, the pipe's DACL) keep other users out.
func checkPeer(net.Conn) error { return nil }
