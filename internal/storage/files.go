package storage

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"sync"
	"time"
)

// FilesConfig configures the resources that the logs of one broker share.
type FilesConfig struct {
	FS     FS           // nil = OS
	Logger *slog.Logger // nil = slog.Default()
	// MaxOpen bounds the segment files held open while nobody uses them
	// (0 = DefaultMaxOpen). Files in use (a read in progress, a Chunk not
	// yet released) and files with writes not yet fsynced stay open beyond
	// it: the bound is what the cache keeps, not what the broker needs.
	MaxOpen int
	// MaxMapped bounds the index files of sealed segments held in memory
	// (mapped), in the same way (0 = DefaultMaxMapped).
	MaxMapped int
	// IdleTimeout closes files and unmaps indexes not used for this long
	// (0 = DefaultIdleTimeout).
	IdleTimeout time.Duration
}

const (
	// DefaultMaxOpen is the open segment file bound when none is set.
	DefaultMaxOpen = 4096
	// DefaultMaxMapped is the mapped index bound when none is set (well
	// under vm.max_map_count, 65530 by default on Linux).
	DefaultMaxMapped = 8192
	// DefaultIdleTimeout is how long an unused segment keeps its files.
	DefaultIdleTimeout = time.Minute
)

// Files holds what the logs of one broker share: the file system, the cache
// of open segment files and mapped indexes, and the goroutine that closes
// idle ones and removes deleted segments once file.delete.delay.ms has
// passed. Safe for concurrent use. NewFiles starts its goroutine; Close
// stops and joins it.
//
// Descriptors scale with what is in use: a segment opens its log file when
// it is first read or written, maps its indexes (sealed segments) when first
// looked up, and gives both back when it has not been used for IdleTimeout,
// or sooner when the cache is over MaxOpen or MaxMapped. A segment is never
// closed while pinned (in use) or while it has writes that were not fsynced
// (so a write-back error is always reported to the descriptor that made the
// writes).
//
// Lock order: a segment's files lock, then Files.mu. Code holding Files.mu
// only ever TryLocks segment locks, so it can never wait on one.
type Files struct {
	fs        FS
	lg        *slog.Logger
	maxOpen   int
	maxMapped int
	idle      time.Duration

	mu      sync.Mutex
	open    map[*segment]struct{} // segments holding a descriptor or a mapping
	nFiles  int                   // open log descriptors
	nMapped int                   // mapped (or loaded) index files
	pending []pendingDelete

	wake   chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
}

type pendingDelete struct {
	at  time.Time
	log *Log
	seg *segment
}

// FilesStats is a snapshot of the shared resources (metrics, tests).
type FilesStats struct {
	OpenFiles      int // log descriptors held
	MappedIndexes  int // index files held in memory
	PendingDeletes int // deleted segments waiting for file.delete.delay.ms
}

// NewFiles starts the shared resources of a broker's logs.
func NewFiles(c FilesConfig) *Files {
	if c.FS == nil {
		c.FS = OS
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.MaxOpen <= 0 {
		c.MaxOpen = DefaultMaxOpen
	}
	if c.MaxMapped <= 0 {
		c.MaxMapped = DefaultMaxMapped
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	ctx, cancel := context.WithCancel(context.Background())
	f := &Files{
		fs: c.FS, lg: c.Logger, maxOpen: c.MaxOpen, maxMapped: c.MaxMapped, idle: c.IdleTimeout,
		open: map[*segment]struct{}{}, wake: make(chan struct{}, 1), cancel: cancel, done: make(chan struct{}),
	}
	go f.run(ctx)
	return f
}

// FS is the file system the logs use.
func (f *Files) FS() FS { return f.fs }

// Close stops the goroutine and removes every pending deletion at once. The
// logs using f must be closed first.
func (f *Files) Close() {
	f.cancel()
	<-f.done
}

// Stats reports the shared resources in use.
func (f *Files) Stats() FilesStats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return FilesStats{OpenFiles: f.nFiles, MappedIndexes: f.nMapped, PendingDeletes: len(f.pending)}
}

// CloseIdle closes the files and mappings of every segment not used for at
// least idle and not pinned or dirty, and returns how many segments it
// released. The goroutine calls it every IdleTimeout/4; tests and operators
// may call it directly.
func (f *Files) CloseIdle(idle time.Duration) int {
	cutoff := time.Now().Add(-idle).UnixNano()
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for s := range f.open {
		if s.res.lastUse.Load() > cutoff {
			continue
		}
		if f.releaseLocked(s) {
			n++
		}
	}
	return n
}

// releaseLocked closes s's files if it can take s's lock without waiting
// and nothing needs them. Requires f.mu.
func (f *Files) releaseLocked(s *segment) bool {
	r := &s.res
	if !r.mu.TryLock() {
		return false
	}
	defer r.mu.Unlock()
	if r.pins > 0 || r.dirty {
		return false
	}
	files, maps := r.closeLocked(f.lg, s.base)
	f.nFiles -= files
	f.nMapped -= maps
	delete(f.open, s)
	r.listed = false
	return files+maps > 0
}

// opened records that s (whose files lock the caller holds) now holds files
// more descriptors and maps more mappings, and makes room by releasing the
// least recently used other segments when a bound is exceeded.
func (f *Files) opened(s *segment, files, maps int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nFiles += files
	f.nMapped += maps
	if !s.res.listed {
		f.open[s] = struct{}{}
		s.res.listed = true
	}
	for f.nFiles > f.maxOpen || f.nMapped > f.maxMapped {
		if !f.evictLocked(s) {
			return // everything else is in use: the bound is soft
		}
	}
}

// closed records that a segment (whose files lock the caller holds) gave
// back files descriptors and maps mappings, and is no longer listed when it
// holds nothing.
func (f *Files) closed(s *segment, files, maps int, empty bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nFiles -= files
	f.nMapped -= maps
	if empty && s.res.listed {
		delete(f.open, s)
		s.res.listed = false
	}
}

// evictLocked releases the least recently used releasable segment other
// than keep; when only segments with unsynced writes are left, it fsyncs
// the least recently used of them first. Requires f.mu.
func (f *Files) evictLocked(keep *segment) bool {
	tried := map[*segment]bool{keep: true}
	var dirty []*segment
	for {
		var victim *segment
		oldest := int64(math.MaxInt64)
		for s := range f.open {
			if tried[s] {
				continue
			}
			if t := s.res.lastUse.Load(); t < oldest {
				victim, oldest = s, t
			}
		}
		if victim == nil {
			break
		}
		if f.releaseLocked(victim) {
			return true
		}
		tried[victim] = true
		dirty = append(dirty, victim)
	}
	for _, s := range dirty {
		if f.syncAndReleaseLocked(s) {
			return true
		}
	}
	return false
}

// syncAndReleaseLocked fsyncs an unpinned segment with unsynced writes and
// releases it (descriptors stay bounded when more partitions are written
// than the bound allows; the fsync happens while its descriptor is open,
// so a write-back error is reported to it). A failed fsync keeps it open:
// its log notices at its next flush. Requires f.mu.
func (f *Files) syncAndReleaseLocked(s *segment) bool {
	r := &s.res
	if !r.mu.TryLock() {
		return false
	}
	defer r.mu.Unlock()
	if r.pins > 0 || r.f == nil || !r.dirty {
		return false
	}
	if err := r.f.Sync(); err != nil {
		return false
	}
	r.dirty = false
	files, maps := r.closeLocked(f.lg, s.base)
	f.nFiles -= files
	f.nMapped -= maps
	delete(f.open, s)
	r.listed = false
	return true
}

// schedule queues a segment that is already out of its log and renamed to
// *.deleted for removal after delay.
func (f *Files) schedule(l *Log, s *segment, delay time.Duration) {
	f.mu.Lock()
	f.pending = append(f.pending, pendingDelete{at: time.Now().Add(delay), log: l, seg: s})
	f.mu.Unlock()
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// removeNow removes the pending deletions of l at once (Close).
func (f *Files) removeNow(l *Log) {
	f.removeDue(time.Time{}, l, false)
}

// removeDue removes the deletions that are due at now (all of log's, or
// all, when those are set) and returns the earliest remaining deadline.
func (f *Files) removeDue(now time.Time, log *Log, all bool) (next time.Time, ok bool) {
	f.mu.Lock()
	var due []pendingDelete
	kept := f.pending[:0]
	for _, p := range f.pending {
		if all || (log != nil && p.log == log) || (log == nil && !p.at.After(now)) {
			due = append(due, p)
			continue
		}
		kept = append(kept, p)
		if !ok || p.at.Before(next) {
			next, ok = p.at, true
		}
	}
	clear(f.pending[len(kept):])
	f.pending = kept
	f.mu.Unlock()
	for _, p := range due {
		if err := p.seg.remove(); err != nil {
			f.lg.Warn("storage: removing deleted segment", "dir", p.log.dir, "segment", p.seg.base, "err", err)
		}
	}
	return next, ok
}

func (f *Files) run(ctx context.Context) {
	defer close(f.done)
	sweep := time.NewTicker(max(f.idle/4, 10*time.Millisecond))
	defer sweep.Stop()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		next, ok := f.removeDue(time.Now(), nil, false)
		wait := time.Hour
		if ok {
			wait = max(time.Until(next), 0)
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			f.removeDue(time.Time{}, nil, true)
			return
		case <-f.wake:
		case <-timer.C:
		case <-sweep.C:
			f.CloseIdle(f.idle)
		}
	}
}

// errRemoved is a read of a segment whose files were removed meanwhile.
var errRemoved = errors.New("storage: segment was deleted")
