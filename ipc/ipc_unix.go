//go:build unix

package ipc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"

	"github.com/trustwatch/trustwatch/internal/rundir"
	"github.com/trustwatch/trustwatch/watcher/engine"
)

// SocketName is the endpoint's file name, beside the instance lock.
const SocketName = rundir.Name + ".sock"

// Listen creates the endpoint in dir (the instance lock's). Call it only
// while holding the instance lock: a socket file left by a tray that died
// is replaced.
func Listen(dir string) (net.Listener, error) {
	p := filepath.Join(dir, SocketName)
	if fi, err := os.Lstat(p); err == nil && fi.Mode()&os.ModeSocket != 0 {
		_ = os.Remove(p)
	}
	l, err := net.Listen("unix", p)
	if err != nil {
		return nil, fmt.Errorf("ipc: %w", err)
	}
	// The directory is private already (0700); the socket is too.
	if err := os.Chmod(p, 0o600); err != nil {
		l.Close()
		return nil, fmt.Errorf("ipc: %w", err)
	}
	return l, nil
}

// dial tries the socket in each candidate dir, in the lock's order.
func dial(ctx context.Context) (net.Conn, error) {
	return dialIn(ctx, rundir.Default())
}

func dialIn(ctx context.Context, dirs []string) (net.Conn, error) {
	var d net.Dialer
	for _, dir := range dirs {
		p := filepath.Join(dir, SocketName)
		c, err := d.DialContext(ctx, "unix", p)
		if err == nil {
			return c, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if !errors.Is(err, syscall.ENOENT) && !errors.Is(err, syscall.ECONNREFUSED) {
			return nil, fmt.Errorf("ipc: %w", err)
		}
	}
	return nil, ErrNotRunning
}

// doIn is Do against the endpoint in dir (tests).
func doIn(ctx context.Context, dir, op, key string) (engine.Snapshot, error) {
	c, err := dialIn(ctx, []string{dir})
	if err != nil {
		return engine.Snapshot{}, err
	}
	return exchange(ctx, c, op, key)
}
