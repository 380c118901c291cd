package server

import (
	"errors"
	"io"
	"net"
	"os"

	"golang.org/x/sys/unix"
)

// sendFile copies n bytes at off of f to conn with sendfile(2), waiting for
// the socket to drain when it would block. It returns the bytes sent; fewer
// than n with a nil error cannot happen (a file that shrank is an error).
func sendFile(conn *net.TCPConn, f *os.File, off, n int64) (int64, error) {
	rc, err := conn.SyscallConn()
	if err != nil {
		return 0, err
	}
	fc, err := f.SyscallConn()
	if err != nil {
		return 0, err
	}
	var written int64
	var serr error
	cerr := fc.Control(func(ffd uintptr) {
		werr := rc.Write(func(sfd uintptr) bool {
			for written < n {
				m, e := unix.Sendfile(int(sfd), int(ffd), &off, int(min(n-written, 1<<30)))
				if m > 0 {
					written += int64(m)
				}
				switch {
				case e == unix.EAGAIN:
					return false
				case e == unix.EINTR:
					continue
				case e != nil:
					serr = e
					return true
				case m == 0:
					serr = io.ErrUnexpectedEOF
					return true
				}
			}
			return true
		})
		if werr != nil && serr == nil {
			serr = werr
		}
	})
	return written, errors.Join(cerr, serr)
}

// setCork toggles TCP_CORK so that a response written in pieces leaves in
// full segments.
func setCork(conn *net.TCPConn, on bool) {
	rc, err := conn.SyscallConn()
	if err != nil {
		return
	}
	v := 0
	if on {
		v = 1
	}
	_ = rc.Control(func(fd uintptr) { _ = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_CORK, v) })
}
