//go:build unix

package app

import "golang.org/x/sys/unix"

// fileLimit is the soft RLIMIT_NOFILE (Go raises it to the hard limit at
// start).
func fileLimit() (uint64, bool) {
	var r unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &r); err != nil {
		return 0, false
	}
	return r.Cur, true
}
