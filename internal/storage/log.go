package storage

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

// Log is one partition's log: a directory of segments. All methods are safe
// for concurrent use; appends, truncation and retention are serialised inside.
//
// Lock order: appendMu, then mu. Every mutation (Append, TruncateTo,
// SetStartOffset, EnforceRetention, Flush, Close, Delete) holds appendMu
// for its whole duration, file I/O included, and takes mu only to publish.
// Readers take mu.RLock just long enough to snapshot what they need and do
// their file I/O without any lock.
type Log struct {
	dir     string
	logger  *slog.Logger
	now     func() time.Time
	deleter *deleter

	appendMu sync.Mutex
	// Writer state, guarded by appendMu.
	unflushed     int64     // messages appended since the last fsync
	lastFlush     time.Time // injected clock
	recoveryPoint int64     // every offset below it is fsynced
	dirDirty      bool      // a segment was created since the last directory fsync

	mu     sync.RWMutex
	cfg    Config
	closed bool
	segs   []*segment // oldest first; the last one is active
	start  int64
	next   int64
	epochs epochCache
}

// Open opens or creates the log in dir, recovering it if it was not closed
// cleanly (see the package documentation for the rules).
func Open(dir string, cfg Config, opts Options) (*Log, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("storage: open %s: %w", dir, err)
	}
	l := &Log{dir: dir, logger: opts.Logger, now: opts.Now, cfg: cfg}
	if l.logger == nil {
		l.logger = slog.Default()
	}
	l.logger = l.logger.With("dir", dir)
	if l.now == nil {
		l.now = time.Now
	}
	if err := l.load(); err != nil {
		for _, s := range l.segs {
			s.close()
		}
		return nil, fmt.Errorf("storage: open %s: %w", dir, err)
	}
	l.lastFlush = l.now()
	l.deleter = startDeleter(l.logger)
	return l, nil
}

// StartOffset is the log start offset.
func (l *Log) StartOffset() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return 0
	}
	return l.start
}

// NextOffset is the log end offset: the offset the next appended batch may
// start at (or above).
func (l *Log) NextOffset() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return 0
	}
	return l.next
}

// Size is the total size of all segments in bytes.
func (l *Log) Size() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	var n int64
	if l.closed {
		return 0
	}
	for _, s := range l.segs {
		n += s.size
	}
	return n
}

// LatestEpoch is the newest leader epoch in the cache (-1 when empty).
func (l *Log) LatestEpoch() int32 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return -1
	}
	return l.epochs.latest()
}

// EndOffsetForEpoch answers OffsetForLeaderEpoch from the leader-epoch cache,
// which Append fills from the batches' partitionLeaderEpoch fields. It follows
// Kafka's LeaderEpochFileCache.endOffsetFor exactly:
//
//   - epoch -1, an empty cache, or an epoch above every cached one: (-1, -1);
//   - the latest cached epoch: (epoch, NextOffset());
//   - an epoch below every cached one: (epoch, start offset of the first
//     cached epoch) — the data of older epochs is gone;
//   - otherwise: (largest cached epoch <= epoch, start offset of the next
//     cached epoch).
//
// After Close it returns (-1, -1).
func (l *Log) EndOffsetForEpoch(epoch int32) (leaderEpoch int32, endOffset int64) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return -1, -1
	}
	return l.epochs.endOffsetFor(epoch, l.next)
}

// SetConfig changes the configuration live: new thresholds apply from the
// next append or retention pass. Out-of-range values are clamped (Validate
// reports them).
func (l *Log) SetConfig(cfg Config) {
	if err := cfg.Validate(); err != nil {
		l.logger.Warn("storage: invalid config clamped", "err", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cfg = cfg.normalized()
}

func (l *Log) config() Config {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.cfg
}

// Segments describes the segments, oldest first (nil after Close).
func (l *Log) Segments() []SegmentInfo {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return nil
	}
	out := make([]SegmentInfo, len(l.segs))
	for i, s := range l.segs {
		out[i] = s.info()
	}
	return out
}

// Dir is the log's directory.
func (l *Log) Dir() string { return l.dir }

// lockWriter takes appendMu and fails if the log is closed. On success the
// caller must unlock appendMu.
func (l *Log) lockWriter() error {
	l.appendMu.Lock()
	l.mu.RLock()
	closed := l.closed
	l.mu.RUnlock()
	if closed {
		l.appendMu.Unlock()
		return ErrClosed
	}
	return nil
}

func (l *Log) active() *segment { return l.segs[len(l.segs)-1] }

// Flush fsyncs everything appended so far and advances the recovery point.
func (l *Log) Flush() error {
	if err := l.lockWriter(); err != nil {
		return err
	}
	defer l.appendMu.Unlock()
	return l.flushLocked()
}

// flushLocked fsyncs every segment written since the last flush, the
// directory if segments were created, and persists the recovery point.
// Requires appendMu.
func (l *Log) flushLocked() error {
	next := l.next
	for _, s := range l.segs {
		if !s.dirty {
			continue
		}
		if err := s.sync(); err != nil {
			return fmt.Errorf("storage: flush segment %d: %w", s.base, err)
		}
		s.dirty = false
	}
	if l.dirDirty {
		if err := syncDir(l.dir); err != nil {
			return fmt.Errorf("storage: flush directory: %w", err)
		}
		l.dirDirty = false
	}
	l.unflushed = 0
	l.lastFlush = l.now()
	if next != l.recoveryPoint {
		if err := writeOffsetFile(l.dir, recoveryPointFile, next); err != nil {
			return err
		}
		l.recoveryPoint = next
	}
	return nil
}

// Close flushes and closes, marking a clean shutdown. Deleted segments still
// waiting for file.delete.delay.ms are removed at once. Chunks handed out
// earlier become unreadable.
func (l *Log) Close() error {
	if err := l.lockWriter(); err != nil {
		return err
	}
	defer l.appendMu.Unlock()
	l.deleter.stop()

	act := l.active()
	b := act.builder(l.config())
	b.seal()
	err := act.times.writeAt(b.times, 0)
	l.mu.Lock()
	if err == nil {
		act.apply(b)
		act.dirty = true
	}
	l.closed = true
	l.mu.Unlock()

	if err == nil {
		err = l.flushLocked()
	}
	for _, s := range l.segs {
		err = errors.Join(err, s.close())
	}
	if err == nil {
		// Only a log whose data and indexes all reached the disk is clean.
		err = writeFileAtomic(l.dir, cleanMarkerFile, nil)
	}
	if err != nil {
		return fmt.Errorf("storage: close %s: %w", l.dir, err)
	}
	return nil
}

// Delete closes the log without flushing and removes its directory. It also
// removes the directory of a log already closed.
func (l *Log) Delete() error {
	l.appendMu.Lock()
	defer l.appendMu.Unlock()
	l.mu.Lock()
	wasClosed := l.closed
	l.closed = true
	segs := l.segs
	l.segs = nil
	l.mu.Unlock()
	if !wasClosed {
		l.deleter.stop()
		for _, s := range segs {
			s.close()
		}
	} else if segs == nil {
		return ErrClosed // already deleted
	}
	if err := os.RemoveAll(l.dir); err != nil {
		return fmt.Errorf("storage: delete %s: %w", l.dir, err)
	}
	return nil
}

// ReadChunk copies a chunk into memory (for TLS connections, mirrors and tests).
func ReadChunk(c Chunk) ([]byte, error) {
	if c.Len <= 0 {
		return nil, nil
	}
	if c.File == nil {
		return nil, fmt.Errorf("storage: chunk of %d bytes without a file", c.Len)
	}
	buf := make([]byte, c.Len)
	n, err := c.File.ReadAt(buf, c.Pos)
	if n == len(buf) {
		return buf, nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return nil, fmt.Errorf("storage: read chunk of %s at %d: %w", filepath.Base(c.File.Name()), c.Pos, err)
}

// segmentFor returns the index of the segment holding offset: the last one
// with base <= offset (0 if none). Requires mu.
func (l *Log) segmentFor(offset int64) int {
	i := sort.Search(len(l.segs), func(i int) bool { return l.segs[i].base > offset }) - 1
	return max(i, 0)
}
