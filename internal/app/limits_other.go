//go:build !unix

package app

func fileLimit() (uint64, bool) { return 0, false }
