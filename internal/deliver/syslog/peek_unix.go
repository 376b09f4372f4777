//go:build unix

package syslog

import (
	"errors"
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

type peekResult int

const (
	peekNothing peekResult = iota // open, nothing to read
	peekData                      // open, or closed behind data not yet read
	peekClosed
)

// peek looks at the connection's receive queue without reading from it
// or waiting: a readable end-of-file or error means the peer closed.
func peek(c net.Conn) peekResult {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return peekNothing
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return peekClosed
	}
	res := peekNothing
	var b [1]byte
	err = rc.Read(func(fd uintptr) bool {
		n, _, err := unix.Recvfrom(int(fd), b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
		switch {
		case errors.Is(err, unix.EAGAIN), errors.Is(err, unix.EINTR):
		case err != nil, n == 0:
			res = peekClosed
		default:
			res = peekData
		}
		return true // never wait for readiness
	})
	if err != nil {
		return peekClosed
	}
	return res
}
