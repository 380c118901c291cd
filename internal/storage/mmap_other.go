//go:build !unix

package storage

import (
	"io"
	"os"
)

// mapFile reads the first size bytes of path into memory where mmap is not
// available.
func mapFile(path string, size int) ([]byte, bool, error) {
	if size == 0 {
		return nil, false, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	b := make([]byte, size)
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, false, err
	}
	return b, false, nil
}

func unmapFile([]byte) error { return nil }
