package server

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"sync"
)

// ErrOverBudget is returned for a request that needs more bytes than the
// whole budget (queued.max.request.bytes): it could never be admitted.
var ErrOverBudget = errors.New("server: request larger than queued.max.request.bytes")

// Budget bounds the request bytes held at once across every connection of
// a broker (queued.max.request.bytes). A connection acquires a frame's size
// after reading its 4-byte length and before allocating the frame, and
// releases it once the response is written. Waiters are served in arrival
// order, so a large request is not starved by a stream of small ones.
// Safe for concurrent use.
type Budget struct {
	capacity int64

	// mu guards used and waiters.
	mu      sync.Mutex
	used    int64
	waiters list.List // of *budgetWaiter, in the order they are served
}

type budgetWaiter struct {
	n     int64
	ready chan struct{} // closed when the bytes were granted
}

// NewBudget returns a budget of capacity bytes, or nil (no limit) when
// capacity is 0 or less, as Kafka reads queued.max.request.bytes.
func NewBudget(capacity int64) *Budget {
	if capacity <= 0 {
		return nil
	}
	return &Budget{capacity: capacity}
}

// Capacity is the budget's size in bytes.
func (b *Budget) Capacity() int64 { return b.capacity }

// InUse is the number of bytes held now.
func (b *Budget) InUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// acquire takes n bytes, waiting until they are free or ctx ends. front
// puts the waiter ahead of those already waiting (see charge.add). It
// reports whether it had to wait.
func (b *Budget) acquire(ctx context.Context, n int64, front bool) (waited bool, err error) {
	if n > b.capacity {
		return false, fmt.Errorf("%w: %d bytes, the budget is %d", ErrOverBudget, n, b.capacity)
	}
	b.mu.Lock()
	if b.waiters.Len() == 0 && b.used+n <= b.capacity {
		b.used += n
		b.mu.Unlock()
		return false, nil
	}
	w := &budgetWaiter{n: n, ready: make(chan struct{})}
	var e *list.Element
	if front {
		e = b.waiters.PushFront(w)
	} else {
		e = b.waiters.PushBack(w)
	}
	b.mu.Unlock()

	select {
	case <-w.ready:
		return true, nil
	case <-ctx.Done():
		b.mu.Lock()
		select {
		case <-w.ready:
			// Granted while we were giving up: hand the bytes back.
			b.used -= n
		default:
			b.waiters.Remove(e)
		}
		b.grantLocked()
		b.mu.Unlock()
		return true, ctx.Err()
	}
}

// tryAcquire takes n bytes only if nobody waits and they are free now.
func (b *Budget) tryAcquire(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.waiters.Len() == 0 && b.used+n <= b.capacity {
		b.used += n
		return true
	}
	return false
}

// release gives back n bytes and wakes the waiters they let through.
func (b *Budget) release(n int64) {
	if n == 0 {
		return
	}
	b.mu.Lock()
	b.used -= n
	if b.used < 0 {
		b.mu.Unlock()
		panic("server: budget released more than was acquired")
	}
	b.grantLocked()
	b.mu.Unlock()
}

// grantLocked serves waiters in order while the first one fits.
func (b *Budget) grantLocked() {
	for e := b.waiters.Front(); e != nil; e = b.waiters.Front() {
		w := e.Value.(*budgetWaiter)
		if b.used+w.n > b.capacity {
			return
		}
		b.used += w.n
		b.waiters.Remove(e)
		close(w.ready)
	}
}

// charge is the part of the budget held by the request a connection is
// serving. A nil budget makes every method a no-op.
type charge struct {
	b    *Budget
	held int64
}

// add charges n more bytes to the request. The frame is charged first,
// before its buffer is allocated; a pre-decode estimate of the bytes that
// decoding will allocate can be charged the same way before decoding.
//
// A request that already holds bytes never waits while holding them: two
// requests each holding part of the budget and each waiting for more would
// wait for each other for ever. If the extra bytes are not free at once,
// the request gives back what it holds and waits, first in line, for the
// whole amount; while it waits no other request is admitted, so the bytes
// resident but uncounted are bounded by what was admitted before.
func (c *charge) add(ctx context.Context, n int64) (waited bool, err error) {
	if c.b == nil || n <= 0 {
		return false, nil
	}
	total := c.held + n
	if total > c.b.capacity {
		return false, fmt.Errorf("%w: %d bytes, the budget is %d", ErrOverBudget, total, c.b.capacity)
	}
	if c.held == 0 {
		waited, err = c.b.acquire(ctx, n, false)
		if err == nil {
			c.held = n
		}
		return waited, err
	}
	if c.b.tryAcquire(n) {
		c.held = total
		return false, nil
	}
	c.b.release(c.held)
	c.held = 0
	if _, err := c.b.acquire(ctx, total, true); err != nil {
		return true, err
	}
	c.held = total
	return true, nil
}

// release gives back everything the request holds.
func (c *charge) release() {
	if c.b != nil {
		c.b.release(c.held)
	}
	c.held = 0
}

// waiting is the number of requests waiting for room (for tests).
func (b *Budget) waiting() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.waiters.Len()
}
