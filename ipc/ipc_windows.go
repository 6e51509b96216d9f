package ipc

import (
	"context"
	"fmt"
	"net"

	"golang.org/x/sys/windows"
)

// pipeName is per user (SID) and per logon session, like the instance
// mutex (Local\…).
func pipeName() (name, sid string, err error) {
	tok := windows.GetCurrentProcessToken()
	u, err := tok.GetTokenUser()
	if err != nil {
		return "", "", fmt.Errorf("ipc: current user: %w", err)
	}
	sid = u.User.Sid.String()
	var session uint32
	_ = windows.ProcessIdToSessionId(windows.GetCurrentProcessId(), &session)
	return fmt.Sprintf(`\\.\pipe\trustwatch-%s-%d`, sid, session), sid, nil
}

// Listen creates the named pipe; only this user's SID may open it. dir is
// unused on Windows.
func Listen(string) (net.Listener, error) {
	name, sid, err := pipeName()
	if err != nil {
		return nil, err
	}
	l, err := listenPipe(name, "D:P(A;;GA;;;"+sid+")")
	if err != nil {
		return nil, fmt.Errorf("ipc: %w", err)
	}
	return l, nil
}

func dial(ctx context.Context) (net.Conn, error) {
	name, _, err := pipeName()
	if err != nil {
		return nil, err
	}
	return dialPipe(ctx, name)
}
