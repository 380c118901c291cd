package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	logSuffix       = ".log"
	indexSuffix     = ".index"
	timeIndexSuffix = ".timeindex"
	deletedSuffix   = ".deleted"
	tmpSuffix       = ".tmp"
)

// segmentName is the 20-digit zero-padded base offset Kafka uses.
func segmentName(base int64) string { return fmt.Sprintf("%020d", base) }

// parseSegmentName returns the base offset of a NNNNNNNNNNNNNNNNNNNN.log name.
func parseSegmentName(name string) (int64, bool) {
	stem, ok := strings.CutSuffix(name, logSuffix)
	if !ok || len(stem) != 20 {
		return 0, false
	}
	base, err := strconv.ParseInt(stem, 10, 64)
	if err != nil || base < 0 {
		return 0, false
	}
	return base, true
}

// segment is one .log file with its two indexes.
//
// base is fixed. The published fields change only with both Log.appendMu
// and Log.mu held and are read under either. The writer fields belong to the
// holder of Log.appendMu. The files (descriptor, sealed indexes, names) are
// in res, under its own lock.
type segment struct {
	base  int64
	files *Files

	// published
	size      int64 // committed bytes; readers never look past it
	next      int64 // last offset of the last batch + 1, base when empty
	maxTs     int64 // -1 when empty
	maxTsOff  int64 // base offset of the first batch carrying maxTs, -1 when empty
	created   time.Time
	lastWrite time.Time
	sealed    bool
	// idx and tim are the active segment's index entries, on the heap; a
	// sealed segment's are loaded into res on demand instead.
	idx offsetIndex
	tim timeIndex

	// writer
	since    int64     // bytes appended since the last offset index entry
	rollBase time.Time // when the first batch was written (zero while empty)
	// idxOnDisk and timOnDisk are how many bytes of idx and tim their files
	// hold (the active segment's index files are written at flush, roll and
	// close; after a crash recovery rebuilds them); -1 means the file must
	// be rewritten from the start.
	idxOnDisk, timOnDisk int

	warnedIndex atomic.Bool // a reader found the offset index wrong (logged once)

	res segFiles
}

// segFiles is what a segment holds open. A pinned segment keeps its files; an
// unpinned one gives them back when idle (see Files).
type segFiles struct {
	mu sync.Mutex
	// pins counts users: readers between snapshot and done, Chunks not yet
	// released, the writer during an append.
	pins int
	f    File // the .log file; nil while closed
	// Sealed segments' indexes while loaded (mapped, or read into memory).
	idx       offsetIndex
	tim       timeIndex
	loaded    bool
	idxMapped bool
	timMapped bool
	// dirty: written since the last successful fsync; writes counts writes
	// so that a sync racing a write never clears dirty for it.
	dirty  bool
	writes uint64
	// gone is set once the log is closed or the segment deleted: nothing is
	// reopened, and whatever is open closes with the last unpin.
	gone    bool
	goneErr error
	listed  bool         // in Files.open (guarded by both this lock and Files.mu)
	lastUse atomic.Int64 // unix nanoseconds
	// Current file names (a deleted segment's end in .deleted).
	logPath, idxPath, timPath string
	warnedLoad                bool
}

func segmentPaths(dir string, base int64) (logPath, indexPath, timePath string) {
	stem := filepath.Join(dir, segmentName(base))
	return stem + logSuffix, stem + indexSuffix, stem + timeIndexSuffix
}

func newSegment(files *Files, dir string, base int64) *segment {
	s := &segment{base: base, files: files, next: base, maxTs: -1, maxTsOff: -1}
	s.res.logPath, s.res.idxPath, s.res.timPath = segmentPaths(dir, base)
	s.res.lastUse.Store(time.Now().UnixNano())
	return s
}

// createSegment creates the files of a new, empty, active segment. Its log
// stays open for the append that is about to write it.
func createSegment(files *Files, dir string, base int64, now time.Time) (*segment, error) {
	s := newSegment(files, dir, base)
	fsys := files.fs
	f, err := fsys.OpenFile(s.res.logPath, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("storage: create segment %d: %w", base, err)
	}
	for _, p := range []string{s.res.idxPath, s.res.timPath} {
		var x File
		if x, err = fsys.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644); err == nil {
			err = x.Close()
		}
		if err != nil {
			break
		}
	}
	if err != nil {
		f.Close()
		for _, p := range []string{s.res.logPath, s.res.idxPath, s.res.timPath} {
			fsys.Remove(p)
		}
		return nil, fmt.Errorf("storage: create segment %d: %w", base, err)
	}
	s.created, s.lastWrite = now, now
	s.res.mu.Lock()
	s.res.f = f
	files.opened(s, 1, 0)
	s.res.mu.Unlock()
	return s, nil
}

// openSegment describes an existing segment from its file's metadata; the
// file itself is opened when first used.
func openSegment(files *Files, dir string, base int64) (*segment, error) {
	s := newSegment(files, dir, base)
	st, err := files.fs.Stat(s.res.logPath)
	if err != nil {
		return nil, err
	}
	s.size, s.created, s.lastWrite = st.Size(), st.ModTime(), st.ModTime()
	return s, nil
}

// builder starts an indexBuilder from the segment's current state, so an
// append continues exactly where the last one stopped. Only for the active
// segment.
func (s *segment) builder(cfg Config) *indexBuilder {
	b := newIndexBuilder(s.base, cfg)
	b.nIdx, b.nTimes = s.idx.n(), s.tim.n()
	if ts, _, ok := s.tim.last(); ok {
		b.lastTs = ts
	}
	b.size, b.since, b.next = s.size, s.since, s.next
	b.maxTs, b.maxTsOff = s.maxTs, s.maxTsOff
	return b
}

// apply publishes what a builder appended. Requires both locks.
func (s *segment) apply(b *indexBuilder) {
	s.size, s.since, s.next = b.size, b.since, b.next
	s.maxTs, s.maxTsOff = b.maxTs, b.maxTsOff
	s.idx = append(s.idx, b.idx...)
	s.tim = append(s.tim, b.times...)
}

// reset makes the segment active with a builder's complete result
// (rebuilds, recovery, truncation); its index files are rewritten at the
// next flush. Requires both locks.
func (s *segment) reset(b *indexBuilder) {
	s.size, s.since, s.next = b.size, b.since, b.next
	s.maxTs, s.maxTsOff = b.maxTs, b.maxTsOff
	s.idx = append(offsetIndex(nil), b.idx...)
	s.tim = append(timeIndex(nil), b.times...)
	s.idxOnDisk, s.timOnDisk = -1, -1
	if s.sealed {
		s.sealed = false
		s.res.mu.Lock()
		maps := s.res.unloadLocked()
		s.files.closed(s, 0, maps, s.res.f == nil)
		s.res.mu.Unlock()
	}
}

// largestTimestamp is what retention.ms compares: the maximum timestamp, or
// the last write when no batch carries one (as Kafka uses the file's mtime).
func (s *segment) largestTimestamp() int64 {
	if s.maxTsOff >= 0 && s.maxTs >= 0 {
		return s.maxTs
	}
	return s.lastWrite.UnixMilli()
}

func (s *segment) info() SegmentInfo {
	return SegmentInfo{BaseOffset: s.base, NextOffset: s.next, Size: s.size, MaxTimestamp: s.maxTs, Created: s.created}
}

// writeIndexes brings the active segment's index files up to its entries,
// fsynced. Requires appendMu.
func (s *segment) writeIndexes() error {
	return s.writeIndexEntries(s.idx, s.tim)
}

// writeIndexesWith writes the index files as they will be once b is applied
// (for a segment being rolled away from). Requires appendMu.
func (s *segment) writeIndexesWith(b *indexBuilder) error {
	if len(b.idx) == 0 && len(b.times) == 0 {
		return s.writeIndexes()
	}
	idx := append(append(offsetIndex(nil), s.idx...), b.idx...)
	tim := append(append(timeIndex(nil), s.tim...), b.times...)
	return s.writeIndexEntries(idx, tim)
}

func (s *segment) writeIndexEntries(idx offsetIndex, tim timeIndex) error {
	if s.sealed || (s.idxOnDisk == len(idx) && s.timOnDisk == len(tim)) {
		return nil
	}
	s.res.mu.Lock()
	idxPath, timPath := s.res.idxPath, s.res.timPath
	s.res.mu.Unlock()
	if s.idxOnDisk != len(idx) {
		if err := writeIndexFile(s.files.fs, idxPath, idx, max(s.idxOnDisk, 0)); err != nil {
			s.idxOnDisk = -1
			return fmt.Errorf("storage: write offset index of segment %d: %w", s.base, err)
		}
		s.idxOnDisk = len(idx)
	}
	if s.timOnDisk != len(tim) {
		if err := writeIndexFile(s.files.fs, timPath, tim, max(s.timOnDisk, 0)); err != nil {
			s.timOnDisk = -1
			return fmt.Errorf("storage: write time index of segment %d: %w", s.base, err)
		}
		s.timOnDisk = len(tim)
	}
	return nil
}

// seal makes a finished segment read-only: its index entries move from the
// heap into res, where they stay loaded until idle. Its index files must
// already be written (writeIndexes). Requires both locks.
func (s *segment) seal() {
	if s.sealed {
		return
	}
	s.sealed = true
	r := &s.res
	r.mu.Lock()
	r.idx, r.tim, r.loaded, r.idxMapped, r.timMapped = s.idx, s.tim, true, false, false
	s.files.opened(s, 0, 2)
	r.mu.Unlock()
	s.idx, s.tim = nil, nil
}

// pin marks the segment in use: its files stay open until unpin.
func (s *segment) pin() {
	s.res.mu.Lock()
	s.res.pins++
	s.res.mu.Unlock()
	s.res.lastUse.Store(time.Now().UnixNano())
}

// unpin ends one use. The last unpin of a closed or deleted segment closes
// its files.
func (s *segment) unpin() {
	r := &s.res
	r.lastUse.Store(time.Now().UnixNano())
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pins--
	if r.pins == 0 && r.gone {
		files, maps := r.closeLocked(s.files.lg, s.base)
		s.files.closed(s, files, maps, true)
	}
}

// file returns the open log file, opening it if needed. Requires a pin.
func (s *segment) file() (File, error) {
	r := &s.res
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f != nil {
		return r.f, nil
	}
	if r.gone {
		return nil, r.goneErr
	}
	f, err := s.files.fs.OpenFile(r.logPath, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("storage: open segment %d: %w", s.base, err)
	}
	r.f = f
	s.files.opened(s, 1, 0)
	return f, nil
}

// writeAt writes p at off in the log file. Requires a pin and appendMu.
func (s *segment) writeAt(p []byte, off int64) error {
	f, err := s.file()
	if err != nil {
		return err
	}
	s.res.mu.Lock()
	s.res.dirty = true
	s.res.writes++
	s.res.mu.Unlock()
	n, err := f.WriteAt(p, off)
	if err == nil && n != len(p) {
		err = fmt.Errorf("short write: %d of %d bytes", n, len(p))
	}
	return err
}

// truncate cuts the log file at size and fsyncs it. Requires a pin.
func (s *segment) truncate(size int64) error {
	f, err := s.file()
	if err != nil {
		return err
	}
	s.res.mu.Lock()
	s.res.dirty = true
	s.res.writes++
	s.res.mu.Unlock()
	if err := f.Truncate(size); err != nil {
		return err
	}
	return s.sync()
}

// isDirty reports writes not yet fsynced.
func (s *segment) isDirty() bool {
	s.res.mu.Lock()
	defer s.res.mu.Unlock()
	return s.res.dirty
}

// sync fsyncs the log file if it has writes not yet fsynced. Requires a pin.
func (s *segment) sync() error {
	r := &s.res
	r.mu.Lock()
	f, dirty, writes := r.f, r.dirty, r.writes
	r.mu.Unlock()
	if !dirty {
		return nil
	}
	if f == nil {
		return fmt.Errorf("storage: segment %d has unsynced writes but no open file", s.base)
	}
	if err := f.Sync(); err != nil {
		return err
	}
	r.mu.Lock()
	if r.writes == writes {
		r.dirty = false
	}
	r.mu.Unlock()
	return nil
}

// sealedIndexes returns a sealed segment's index entries, loading them if
// needed. An index that cannot be loaded is logged once and returned empty:
// readers then scan from the segment's start. Requires a pin.
func (s *segment) sealedIndexes() (offsetIndex, timeIndex) {
	r := &s.res
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.loaded && !r.gone {
		fsys := s.files.fs
		idx, idxMapped, _, err1 := loadIndexFile(fsys, r.idxPath, offsetEntrySize)
		tim, timMapped, _, err2 := loadIndexFile(fsys, r.timPath, timeEntrySize)
		if err := errors.Join(err1, err2); err != nil {
			if !r.warnedLoad {
				r.warnedLoad = true
				s.files.lg.Warn("storage: cannot load the indexes of a segment; scanning it instead",
					"file", r.logPath, "err", err)
			}
		}
		if err1 != nil {
			idx, idxMapped = nil, false
		}
		if err2 != nil {
			tim, timMapped = nil, false
		}
		r.idx, r.tim, r.idxMapped, r.timMapped, r.loaded = idx, tim, idxMapped, timMapped, true
		s.files.opened(s, 0, 2)
	}
	return r.idx, r.tim
}

// unloadLocked drops the loaded sealed indexes and returns how many index
// files it released. Requires res.mu.
func (r *segFiles) unloadLocked() int {
	if !r.loaded {
		return 0
	}
	if r.idxMapped {
		unmapFile(r.idx)
	}
	if r.timMapped {
		unmapFile(r.tim)
	}
	r.idx, r.tim, r.loaded, r.idxMapped, r.timMapped = nil, nil, false, false, false
	return 2
}

// closeLocked closes the log file and unloads the indexes, returning what
// it released. Requires res.mu.
func (r *segFiles) closeLocked(lg *slog.Logger, base int64) (files, maps int) {
	if r.f != nil {
		if err := r.f.Close(); err != nil {
			lg.Warn("storage: closing segment file", "file", r.logPath, "err", err)
		}
		r.f = nil
		files = 1
	}
	return files, r.unloadLocked()
}

// close marks the segment closed with its log: whatever is open closes now,
// or at the last unpin.
func (s *segment) close() {
	r := &s.res
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.gone {
		r.gone, r.goneErr = true, ErrClosed
	}
	if r.pins == 0 {
		files, maps := r.closeLocked(s.files.lg, s.base)
		s.files.closed(s, files, maps, true)
	}
}

// renameDeleted renames the segment's files to *.deleted. Missing index
// files are fine.
func (s *segment) renameDeleted() error {
	r := &s.res
	r.mu.Lock()
	defer r.mu.Unlock()
	var errs []error
	for _, p := range []*string{&r.logPath, &r.idxPath, &r.timPath} {
		if err := s.files.fs.Rename(*p, *p+deletedSuffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		*p += deletedSuffix
	}
	return errors.Join(errs...)
}

// remove deletes the segment's files under their current names; a pinned
// segment keeps reading its open descriptor until the last unpin.
func (s *segment) remove() error {
	r := &s.res
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gone, r.goneErr = true, errRemoved
	var errs []error
	for _, p := range []string{r.logPath, r.idxPath, r.timPath} {
		if err := s.files.fs.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if r.pins == 0 {
		files, maps := r.closeLocked(s.files.lg, s.base)
		s.files.closed(s, files, maps, true)
	}
	return errors.Join(errs...)
}
