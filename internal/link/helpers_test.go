package link_test

import (
	"errors"
	"net"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// outageSwitch makes every request to src fail (closing the connection)
// while the returned switch is on: the source is down.
func outageSwitch(src *kfake.Cluster) *atomic.Bool {
	var down atomic.Bool
	src.Control(func(kmsg.Request) (kmsg.Response, error, bool) {
		src.KeepControl()
		if down.Load() {
			return nil, errors.New("source is down"), true
		}
		return nil, nil, false
	})
	return &down
}

func netListen() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }

func splitAddr(t *testing.T, addr string) (string, int32) {
	t.Helper()
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return h, int32(n)
}
