package storage

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

// Log is one partition's log: a directory of segments. All methods are safe
// for concurrent use; appends, truncation and retention are serialised inside.
//
// Lock order: appendMu, then mu. Every mutation (Append, TruncateTo,
// SetStartOffset, EnforceRetention, Flush, Close, CloseAndRename) holds appendMu
// for its whole duration, file I/O included, and takes mu only to publish.
// Readers take mu.RLock just long enough to snapshot what they need and do
// their file I/O without any lock.
type Log struct {
	dir      string
	logger   *slog.Logger
	now      func() time.Time
	files    *Files
	fs       FS
	ownFiles bool // files were made for this log alone and close with it
	// sharedMarker and cleanHint: Options.SharedShutdownMarker and Clean.
	sharedMarker, cleanHint bool

	appendMu sync.Mutex
	// Writer state, guarded by appendMu.
	unflushed     int64     // messages appended since the last fsync
	lastFlush     time.Time // injected clock
	recoveryPoint int64     // every offset below it is fsynced
	startOnDisk   int64     // the start offset the checkpoint file holds
	// epochsUnsynced: appends changed the epoch cache since the checkpoint
	// was last written (it is written by flushes and Close).
	epochsUnsynced bool
	dirDirty       bool // a segment was created since the last directory fsync

	mu     sync.RWMutex
	cfg    Config
	closed bool
	// failed is set when an fsync failed: reads and writes return it
	// (wrapping ErrFailed) until the log is closed and opened again.
	failed error
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
	l := &Log{dir: dir, logger: opts.Logger, now: opts.Now, cfg: cfg, files: opts.Files,
		sharedMarker: opts.SharedShutdownMarker, cleanHint: opts.Clean}
	if l.logger == nil {
		l.logger = slog.Default()
	}
	l.logger = l.logger.With("dir", dir)
	if l.now == nil {
		l.now = time.Now
	}
	if l.files == nil {
		l.files = NewFiles(FilesConfig{Logger: l.logger})
		l.ownFiles = true
	}
	l.fs = l.files.fs
	if err := l.fs.MkdirAll(dir, 0o755); err != nil {
		l.releaseFiles()
		return nil, fmt.Errorf("storage: open %s: %w", dir, err)
	}
	if err := l.load(); err != nil {
		for _, s := range l.segs {
			s.close()
		}
		l.releaseFiles()
		return nil, fmt.Errorf("storage: open %s: %w", dir, err)
	}
	l.lastFlush = l.now()
	return l, nil
}

// releaseFiles closes files made for this log alone.
func (l *Log) releaseFiles() {
	if l.ownFiles {
		l.files.Close()
	}
}

// Failed returns the error that failed the log (wrapping ErrFailed), or nil.
func (l *Log) Failed() error {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.failed
}

// fail records a failed fsync: from now on reads and writes return it.
func (l *Log) fail(what string, err error) error {
	ferr := fmt.Errorf("%w: %s: %w", ErrFailed, what, err)
	l.mu.Lock()
	if l.failed == nil {
		l.failed = ferr
	}
	l.mu.Unlock()
	l.logger.Error("storage: log failed; reads and writes are refused until it is reopened", "err", ferr)
	return ferr
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

// lockWriter takes appendMu and fails if the log is closed or failed. On
// success the caller must unlock appendMu.
func (l *Log) lockWriter() error {
	l.appendMu.Lock()
	l.mu.RLock()
	closed, failed := l.closed, l.failed
	l.mu.RUnlock()
	switch {
	case closed:
		l.appendMu.Unlock()
		return ErrClosed
	case failed != nil:
		l.appendMu.Unlock()
		return failed
	}
	return nil
}

// readable reports why the log cannot be read, or nil. Requires mu.RLock.
func (l *Log) readable() error {
	switch {
	case l.closed:
		return ErrClosed
	case l.failed != nil:
		return l.failed
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

// flushLocked fsyncs every segment written since the last flush (and
// writes the active segment's index files), the directory if segments were
// created, and persists the recovery point. A failed fsync fails the log.
// Requires appendMu.
func (l *Log) flushLocked() error {
	next := l.next
	l.mu.RLock()
	segs := append([]*segment(nil), l.segs...)
	l.mu.RUnlock()
	act := segs[len(segs)-1]
	if err := act.writeIndexes(); err != nil {
		return err // derived data: recovery rebuilds it
	}
	for _, s := range segs {
		s.pin()
		err := s.sync()
		s.unpin()
		if err != nil {
			return l.fail(fmt.Sprintf("fsync of segment %d", s.base), err)
		}
	}
	// The start offset and epochs must be durable before the recovery
	// point moves past what they describe; one directory fsync covers
	// each step.
	wrote := false
	if l.startOnDisk != l.start {
		if err := writeFileSynced(l.fs, l.dir, startOffsetFile, offsetFileData(l.start)); err != nil {
			return err
		}
		l.startOnDisk, wrote = l.start, true
	}
	if l.epochsUnsynced {
		l.mu.RLock()
		entries := l.epochs.clone()
		l.mu.RUnlock()
		if err := writeFileSynced(l.fs, l.dir, epochFile, encodeEpochs(entries)); err != nil {
			return err
		}
		l.epochsUnsynced, wrote = false, true
	}
	if wrote || l.dirDirty {
		if err := SyncDir(l.fs, l.dir); err != nil {
			return l.fail("fsync of the directory", err)
		}
		l.dirDirty = false
	}
	l.unflushed = 0
	l.lastFlush = l.now()
	if next != l.recoveryPoint {
		if err := writeOffsetFile(l.fs, l.dir, recoveryPointFile, next); err != nil {
			return err
		}
		l.recoveryPoint = next
	}
	return nil
}

// syncEpochsLocked writes the epoch checkpoint if appends changed the
// cache since. Requires appendMu.
func (l *Log) syncEpochsLocked() error {
	if !l.epochsUnsynced {
		return nil
	}
	l.mu.RLock()
	entries := l.epochs.clone()
	l.mu.RUnlock()
	if err := WriteFileAtomic(l.fs, l.dir, epochFile, encodeEpochs(entries)); err != nil {
		return err
	}
	l.epochsUnsynced = false
	return nil
}

// FlushSealed fsyncs the segments that were rolled away from and not yet
// fsynced, and advances the recovery point past them, as Kafka flushes a
// segment once it is rolled. It does not hold the writer lock during the
// fsyncs, so appends go on. The owner calls it periodically; afterwards
// those segments hold no descriptor once idle.
func (l *Log) FlushSealed() error {
	if err := l.lockWriter(); err != nil {
		return err
	}
	l.mu.RLock()
	var todo []*segment
	for _, s := range l.segs[:len(l.segs)-1] {
		if s.isDirty() {
			todo = append(todo, s)
		}
	}
	for _, s := range todo {
		s.pin()
	}
	l.mu.RUnlock()
	l.appendMu.Unlock()
	if len(todo) == 0 {
		return nil
	}
	var syncErr error
	for _, s := range todo {
		if err := s.sync(); err != nil && syncErr == nil {
			syncErr = l.fail(fmt.Sprintf("fsync of segment %d", s.base), err)
		}
		s.unpin()
	}
	if syncErr != nil {
		return syncErr
	}
	if err := l.lockWriter(); err != nil {
		return err
	}
	defer l.appendMu.Unlock()
	if l.dirDirty {
		if err := SyncDir(l.fs, l.dir); err != nil {
			return l.fail("fsync of the directory", err)
		}
		l.dirDirty = false
	}
	if err := l.syncEpochsLocked(); err != nil {
		return err
	}
	// The recovery point may pass every segment before the first one that
	// still has unsynced writes.
	l.mu.RLock()
	point := l.recoveryPoint
	for _, s := range l.segs[:len(l.segs)-1] {
		if s.isDirty() {
			break
		}
		point = max(point, s.next)
	}
	l.mu.RUnlock()
	if point > l.recoveryPoint {
		if err := writeOffsetFile(l.fs, l.dir, recoveryPointFile, point); err != nil {
			return err
		}
		l.recoveryPoint = point
	}
	return nil
}

// Close flushes and closes, marking a clean shutdown. Deleted segments still
// waiting for file.delete.delay.ms are removed at once. Chunks handed out
// earlier stay readable until they are released. A failed log closes
// without the clean-shutdown marker, so the next Open recovers it.
func (l *Log) Close() error {
	l.appendMu.Lock()
	defer l.appendMu.Unlock()
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	failed := l.failed
	act := l.active()
	var err error
	if failed == nil {
		b := act.builder(l.cfg)
		b.seal() // the final time entry: the segment's maximum timestamp
		act.apply(b)
	}
	l.mu.Unlock()

	if failed == nil {
		err = l.flushLocked()
	}
	l.mu.Lock()
	l.closed = true
	segs := l.segs
	l.mu.Unlock()
	l.files.removeNow(l)
	for _, s := range segs {
		s.close()
	}
	switch {
	case failed != nil:
		err = failed
	case err == nil && !l.sharedMarker:
		// Only a log whose data and indexes all reached the disk is clean.
		err = WriteFileAtomic(l.fs, l.dir, cleanMarkerFile, nil)
	}
	l.releaseFiles()
	if err != nil {
		return fmt.Errorf("storage: close %s: %w", l.dir, err)
	}
	return nil
}

// CloseAndRename closes the log and renames its directory to dest (a topic
// being deleted: the caller removes dest later). Errors from closing are
// returned after the rename was tried.
func (l *Log) CloseAndRename(dest string) error {
	cerr := l.Close()
	if errors.Is(cerr, ErrClosed) {
		cerr = nil
	}
	if err := l.fs.Rename(l.dir, dest); err != nil {
		return errors.Join(cerr, fmt.Errorf("storage: rename %s: %w", l.dir, err))
	}
	if err := SyncDir(l.fs, filepath.Dir(dest)); err != nil {
		return errors.Join(cerr, fmt.Errorf("storage: rename %s: %w", l.dir, err))
	}
	return cerr
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
