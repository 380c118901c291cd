package storage

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// deleter closes and removes deleted segments once file.delete.delay.ms has
// passed, so Chunks handed out before the deletion stay readable until then.
// Its goroutine is owned by the Log: started in Open, stopped and joined in
// Close, which removes everything still pending at once. Deadlines are wall
// clock time (a real timer), not the Log's injected clock.
type deleter struct {
	logger *slog.Logger
	wake   chan struct{}
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	pending []pendingDelete
}

type pendingDelete struct {
	at  time.Time
	seg *segment
}

func startDeleter(logger *slog.Logger) *deleter {
	ctx, cancel := context.WithCancel(context.Background())
	d := &deleter{logger: logger, wake: make(chan struct{}, 1), cancel: cancel, done: make(chan struct{})}
	go d.run(ctx)
	return d
}

// schedule queues an already renamed segment for removal after delay.
func (d *deleter) schedule(s *segment, delay time.Duration) {
	d.mu.Lock()
	d.pending = append(d.pending, pendingDelete{at: time.Now().Add(delay), seg: s})
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// stop removes everything pending now and joins the goroutine.
func (d *deleter) stop() {
	d.cancel()
	<-d.done
}

func (d *deleter) run(ctx context.Context) {
	defer close(d.done)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		next, ok := d.removeDue(time.Now(), false)
		wait := time.Hour
		if ok {
			wait = max(time.Until(next), 0)
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			d.removeDue(time.Time{}, true)
			return
		case <-d.wake:
		case <-timer.C:
		}
	}
}

// removeDue removes the segments due at now (all of them if all is set) and
// returns the earliest remaining deadline.
func (d *deleter) removeDue(now time.Time, all bool) (next time.Time, ok bool) {
	d.mu.Lock()
	var due []*segment
	kept := d.pending[:0]
	for _, p := range d.pending {
		if all || !p.at.After(now) {
			due = append(due, p.seg)
			continue
		}
		kept = append(kept, p)
		if !ok || p.at.Before(next) {
			next, ok = p.at, true
		}
	}
	clear(d.pending[len(kept):])
	d.pending = kept
	d.mu.Unlock()
	for _, s := range due {
		if err := s.close(); err != nil {
			d.logger.Warn("storage: closing deleted segment", "base_offset", s.base, "err", err)
		}
		if err := s.removeFiles(); err != nil {
			d.logger.Warn("storage: removing deleted segment", "base_offset", s.base, "err", err)
		}
	}
	return next, ok
}

// count reports how many segments wait for removal (tests).
func (d *deleter) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.pending)
}
