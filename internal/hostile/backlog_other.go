//go:build !unix

package hostile

import (
	"errors"
	"net"
)

func listenBacklog(string, int) (net.Listener, error) {
	return nil, errors.New("hostile: a full unix socket needs a unix system")
}
