//go:build !unix

package metadata

import "errors"

// lockFile: the embedded etcd listens on unix sockets, so it runs on unix
// systems only.
func lockFile(string) (func() error, error) {
	return nil, errors.New("metadata: the embedded etcd needs a unix system")
}
