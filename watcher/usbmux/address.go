// Package usbmux is trustwatch's client for usbmuxd (Linux, macOS) and
// Apple Mobile Device Service (Windows): device lists, hotplug events, pair
// records and raw connections to device ports.
//
// Every request runs on its own connection with the context's deadline on
// each read and write, as libusbmuxd does; nothing here can block forever.
package usbmux

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
)

// EnvAddress is the variable that overrides the daemon address, shared with
// libimobiledevice and go-ios.
const EnvAddress = "USBMUXD_SOCKET_ADDRESS"

// Address is where usbmuxd listens. Network is "unix" or "tcp".
type Address struct {
	Network string
	Path    string // socket path for unix, host:port for tcp
}

// String renders the address as a URL, the form used in status JSON:
// "unix:///var/run/usbmuxd" or "tcp://127.0.0.1:27015".
func (a Address) String() string {
	switch a.Network {
	case "unix":
		return "unix://" + a.Path
	case "tcp":
		return "tcp://" + a.Path
	default:
		return a.Network + "://" + a.Path
	}
}

// Dial connects to the daemon, honouring ctx for the connect step only.
func (a Address) Dial(ctx context.Context) (net.Conn, error) {
	if a.Network != "unix" && a.Network != "tcp" {
		return nil, fmt.Errorf("usbmux: cannot dial address with network %q", a.Network)
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, a.Network, a.Path)
	if err != nil {
		return nil, fmt.Errorf("usbmux: connect to %s: %w", a, err)
	}
	return c, nil
}

// AddressFromEnv returns the address from USBMUXD_SOCKET_ADDRESS, or the
// platform default when it is unset or empty.
func AddressFromEnv() (Address, error) {
	v := strings.TrimSpace(os.Getenv(EnvAddress))
	if v == "" {
		return DefaultAddress(), nil
	}
	a, err := ParseAddress(v)
	if err != nil {
		return Address{}, fmt.Errorf("%s: %w", EnvAddress, err)
	}
	return a, nil
}

// ParseAddress accepts every form libimobiledevice and go-ios accept:
// UNIX:///abs/path, UNIX:/abs/path, unix:///abs/path, /abs/path, host:port
// and tcp://host:port. Scheme names are case-insensitive.
func ParseAddress(s string) (Address, error) {
	orig := s
	s = strings.TrimSpace(s)
	if s == "" {
		return Address{}, errors.New("usbmux: empty address")
	}
	if strings.ContainsAny(s, "\x00\n\r") {
		return Address{}, fmt.Errorf("usbmux: address %q contains control characters", orig)
	}
	if strings.HasPrefix(s, "/") {
		return unixAddress(s, orig)
	}
	if i := strings.Index(s, ":"); i > 0 {
		scheme := strings.ToLower(s[:i])
		rest := s[i+1:]
		switch scheme {
		case "unix":
			// "unix:///p" and "unix:/p" both name /p; "unix://p" (relative, or a
			// host part) is not something any client produces.
			switch {
			case strings.HasPrefix(rest, "///"):
				rest = rest[2:]
			case strings.HasPrefix(rest, "//"):
				return Address{}, fmt.Errorf("usbmux: address %q: unix socket path must be absolute (unix:///abs/path)", orig)
			}
			return unixAddress(rest, orig)
		case "tcp":
			if !strings.HasPrefix(rest, "//") {
				return Address{}, fmt.Errorf("usbmux: address %q: expected tcp://host:port", orig)
			}
			return tcpAddress(strings.TrimSuffix(rest[2:], "/"), orig)
		}
		if strings.Contains(s, "://") {
			return Address{}, fmt.Errorf("usbmux: address %q: unknown scheme %q (want unix or tcp)", orig, scheme)
		}
	}
	return tcpAddress(s, orig)
}

func unixAddress(p, orig string) (Address, error) {
	if !strings.HasPrefix(p, "/") {
		return Address{}, fmt.Errorf("usbmux: address %q: unix socket path must be absolute", orig)
	}
	if len(p) < 2 {
		return Address{}, fmt.Errorf("usbmux: address %q: unix socket path is the root directory", orig)
	}
	return Address{Network: "unix", Path: p}, nil
}

func tcpAddress(hp, orig string) (Address, error) {
	host, port, err := net.SplitHostPort(hp)
	if err != nil {
		return Address{}, fmt.Errorf("usbmux: address %q: want host:port, an absolute path or unix:///path: %v", orig, err)
	}
	if host == "" {
		return Address{}, fmt.Errorf("usbmux: address %q: missing host", orig)
	}
	if strings.ContainsAny(host, "/ ") {
		return Address{}, fmt.Errorf("usbmux: address %q: invalid host %q", orig, host)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return Address{}, fmt.Errorf("usbmux: address %q: port %q is not a number in 1-65535", orig, port)
	}
	return Address{Network: "tcp", Path: net.JoinHostPort(host, strconv.Itoa(n))}, nil
}
