package metadata

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
)

// DefaultMinFreeBytes is metadata.min.free.bytes when none is set: room for
// the embedded etcd to allocate its next WAL file (64 MiB) and grow its
// database, with a margin.
const DefaultMinFreeBytes = 128 << 20

// spaceGuard refuses writes to the embedded etcd before its disk is full:
// etcd ends the process when a write to its WAL or database fails, so the
// broker must never let it get there. Removals (and the broker's own
// registration) need only a quarter of the margin, so that an operator can
// still delete topics to make room. A failed etcd refuses everything.
type spaceGuard struct {
	dir      string
	minFree  uint64
	freeFunc func(dir string) (uint64, error)
	failed   atomic.Pointer[error] // set when the embedded etcd failed
	// stopped ends when the embedded etcd failed, cancelling the writes in
	// flight (they would wait for it for ever).
	stopped context.Context
	stop    context.CancelFunc
}

func newSpaceGuard(dir string) *spaceGuard {
	g := &spaceGuard{dir: dir, freeFunc: freeBytes}
	g.stopped, g.stop = context.WithCancel(context.Background())
	return g
}

func (g *spaceGuard) check(deletes bool) error {
	if p := g.failed.Load(); p != nil {
		return fmt.Errorf("%w: the embedded metadata store stopped after an error (%v); restart the broker", ErrUnavailable, *p)
	}
	if g.minFree == 0 {
		return nil
	}
	free, err := g.freeFunc(g.dir)
	if err != nil {
		return fmt.Errorf("%w: cannot tell the free space of %s: %v", ErrUnavailable, g.dir, err)
	}
	need := g.minFree
	if deletes {
		need /= 4
	}
	if free < need {
		return fmt.Errorf("%w: %s has %s free, below metadata.min.free.bytes (%s); metadata changes are refused until space is freed",
			ErrUnavailable, g.dir, human(free), human(g.minFree))
	}
	return nil
}

// fresh is a guard with the same settings and no failure (a restart).
func (g *spaceGuard) fresh() *spaceGuard {
	n := newSpaceGuard(g.dir)
	n.minFree, n.freeFunc = g.minFree, g.freeFunc
	return n
}

// cause is the failure recorded by fail.
func (g *spaceGuard) cause() error {
	if p := g.failed.Load(); p != nil {
		return *p
	}
	return errors.New("stopped")
}

// fail records that the embedded etcd stopped after err.
func (g *spaceGuard) fail(err error) {
	if err == nil {
		err = errors.New("unknown error")
	}
	g.failed.CompareAndSwap(nil, &err)
	g.stop()
}

func human(b uint64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(b)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", b)
}
