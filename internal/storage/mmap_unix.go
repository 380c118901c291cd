//go:build unix

package storage

import (
	"os"

	"golang.org/x/sys/unix"
)

// mapFile maps the first size bytes of path read-only. Sealed segments keep
// their indexes mapped, so the page cache, not the heap, holds them.
func mapFile(path string, size int) ([]byte, bool, error) {
	if size == 0 {
		return nil, false, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	b, err := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, false, err
	}
	return b, true, nil
}

func unmapFile(b []byte) error { return unix.Munmap(b) }
