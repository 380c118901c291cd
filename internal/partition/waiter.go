package partition

import "sync"

// Waiter is a long-poll fetch parked on one or more partitions. C receives
// (non-blocking, capacity 1) after any of those partitions changes.
type Waiter struct {
	C chan struct{}
}

// NewWaiter makes a waiter.
func NewWaiter() *Waiter { return &Waiter{C: make(chan struct{}, 1)} }

func (w *Waiter) signal() {
	select {
	case w.C <- struct{}{}:
	default:
	}
}

// waiters is a set of parked fetches.
type waiters struct {
	mu  sync.Mutex
	set map[*Waiter]struct{}
}

func (ws *waiters) add(w *Waiter) {
	ws.mu.Lock()
	if ws.set == nil {
		ws.set = make(map[*Waiter]struct{})
	}
	ws.set[w] = struct{}{}
	ws.mu.Unlock()
}

func (ws *waiters) remove(w *Waiter) {
	ws.mu.Lock()
	delete(ws.set, w)
	ws.mu.Unlock()
}

func (ws *waiters) notify() {
	ws.mu.Lock()
	for w := range ws.set {
		w.signal()
	}
	ws.mu.Unlock()
}
