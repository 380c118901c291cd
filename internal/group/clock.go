package group

import (
	"container/heap"
	"sync"
	"time"
)

// Clock is the coordinator's source of time, injected so that tests can
// drive session, rebalance and retention timeouts without waiting.
type Clock interface {
	Now() time.Time
	NewTimer(d time.Duration) Timer
}

// Timer is a one-shot timer made by a Clock.
type Timer interface {
	C() <-chan time.Time
	Stop() bool
}

type realClock struct{}

func (realClock) Now() time.Time                 { return time.Now() }
func (realClock) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

type realTimer struct{ t *time.Timer }

func (t realTimer) C() <-chan time.Time { return t.t.C }
func (t realTimer) Stop() bool          { return t.t.Stop() }

// deadline is a moment at which a group has something to do (a member's
// session ends, a rebalance phase times out).
type deadline struct {
	at time.Time
	g  *group
}

type deadlineHeap []deadline

func (h deadlineHeap) Len() int           { return len(h) }
func (h deadlineHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h deadlineHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *deadlineHeap) Push(x any)        { *h = append(*h, x.(deadline)) }
func (h *deadlineHeap) Pop() any {
	old := *h
	d := old[len(old)-1]
	old[len(old)-1] = deadline{}
	*h = old[:len(old)-1]
	return d
}

// deadlines is the coordinator's timer queue. A group keeps at most one live
// entry (the one whose time equals the group's nextAt); entries superseded by
// an earlier one stay in the heap and are skipped when they come due.
type deadlines struct {
	// wake receives (without blocking) when an entry earlier than every
	// other is added, so that Run re-arms its timer.
	wake chan struct{}

	mu sync.Mutex
	h  deadlineHeap
}

func newDeadlines() *deadlines { return &deadlines{wake: make(chan struct{}, 1)} }

func (d *deadlines) push(at time.Time, g *group) {
	d.mu.Lock()
	first := len(d.h) == 0 || at.Before(d.h[0].at)
	heap.Push(&d.h, deadline{at, g})
	d.mu.Unlock()
	if first {
		select {
		case d.wake <- struct{}{}:
		default:
		}
	}
}

// next is the earliest entry's time (zero when there is none).
func (d *deadlines) next() time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.h) == 0 {
		return time.Time{}
	}
	return d.h[0].at
}

// due removes and returns the entries at or before now.
func (d *deadlines) due(now time.Time) []deadline {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []deadline
	for len(d.h) > 0 && !d.h[0].at.After(now) {
		out = append(out, heap.Pop(&d.h).(deadline))
	}
	return out
}
