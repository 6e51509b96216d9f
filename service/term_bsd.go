//go:build darwin || freebsd || netbsd || openbsd || dragonfly

package service

import "golang.org/x/sys/unix"

const ioctlGetTermios = unix.TIOCGETA
