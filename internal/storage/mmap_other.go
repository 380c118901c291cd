//go:build !unix

package storage

import (
	"errors"
	"os"
)

// mapFile is not available here: indexes are read into memory instead.
func mapFile(*os.File, int) ([]byte, error) { return nil, errors.New("storage: mmap is not available") }

func unmapFile([]byte) error { return nil }
