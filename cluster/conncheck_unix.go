//go:build unix

package cluster

import (
	"errors"
	"net"
	"syscall"
)

// connAlive reports whether an idle pooled connection can still be used:
// a peek that neither blocks nor consumes finds no EOF, error or stray
// bytes. A connection it cannot inspect (TLS) counts as alive; the client
// then retries idempotent calls once if it was not.
func connAlive(conn net.Conn) bool {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	alive := true
	err = rc.Read(func(fd uintptr) bool {
		var b [1]byte
		_, _, rerr := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case rerr == nil:
			alive = false // EOF, or bytes nobody asked for
		case errors.Is(rerr, syscall.EAGAIN), errors.Is(rerr, syscall.EWOULDBLOCK), errors.Is(rerr, syscall.EINTR):
		default:
			alive = false
		}
		return true
	})
	return err == nil && alive
}
