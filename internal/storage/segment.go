package storage

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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
// base, log and the index paths are fixed at creation. The published fields
// change only with both Log.appendMu and Log.mu held and are read under either.
// The writer fields belong to the holder of Log.appendMu.
type segment struct {
	base    int64
	log     *os.File // shared by readers: ReadAt only
	logPath string
	index   offsetIndex
	times   timeIndex

	// published
	size      int64 // committed bytes; readers never look past it
	next      int64 // last offset of the last batch + 1, base when empty
	maxTs     int64 // -1 when empty
	maxTsOff  int64 // base offset of the first batch carrying maxTs, -1 when empty
	created   time.Time
	lastWrite time.Time

	// writer
	since    int64     // bytes appended since the last offset index entry
	rollBase time.Time // when the first batch was written (zero while empty)
	dirty    bool      // written since the last fsync
	sealed   bool

	warnedIndex atomic.Bool // a reader found the offset index wrong (logged once)
}

func segmentPaths(dir string, base int64) (logPath, indexPath, timePath string) {
	stem := filepath.Join(dir, segmentName(base))
	return stem + logSuffix, stem + indexSuffix, stem + timeIndexSuffix
}

// createSegment creates the files of a new, empty, active segment.
func createSegment(dir string, base int64, now time.Time) (*segment, error) {
	logPath, indexPath, timePath := segmentPaths(dir, base)
	f, err := os.OpenFile(logPath, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("storage: create segment: %w", err)
	}
	s := &segment{
		base: base, log: f, logPath: logPath,
		index: newOffsetIndex(indexPath), times: newTimeIndex(timePath),
		next: base, maxTs: -1, maxTsOff: -1, created: now, lastWrite: now,
	}
	if err := errors.Join(s.index.replace(nil), s.times.replace(nil)); err != nil {
		s.close()
		os.Remove(logPath)
		os.Remove(indexPath)
		os.Remove(timePath)
		return nil, fmt.Errorf("storage: create segment: %w", err)
	}
	return s, nil
}

// openSegment opens the log file of an existing segment; its indexes are
// loaded or rebuilt by recovery.
func openSegment(dir string, base int64) (*segment, error) {
	logPath, indexPath, timePath := segmentPaths(dir, base)
	f, err := os.OpenFile(logPath, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &segment{
		base: base, log: f, logPath: logPath,
		index: newOffsetIndex(indexPath), times: newTimeIndex(timePath),
		size: st.Size(), next: base, maxTs: -1, maxTsOff: -1,
		created: st.ModTime(), lastWrite: st.ModTime(),
	}, nil
}

// builder starts an indexBuilder from the segment's current state, so an
// append continues exactly where the last one stopped.
func (s *segment) builder(cfg Config) *indexBuilder {
	b := newIndexBuilder(s.base, cfg)
	b.nIdx, b.nTimes = s.index.n(), s.times.n()
	if ts, _, ok := s.times.last(); ok {
		b.lastTs = ts
	}
	b.size, b.since, b.next = s.size, s.since, s.next
	b.maxTs, b.maxTsOff = s.maxTs, s.maxTsOff
	return b
}

// apply publishes what a builder wrote. Requires both locks.
func (s *segment) apply(b *indexBuilder) {
	s.size, s.since, s.next = b.size, b.since, b.next
	s.maxTs, s.maxTsOff = b.maxTs, b.maxTsOff
	s.index.publish(b.idx)
	s.times.publish(b.times)
}

// reset replaces the segment's state and index files with a builder's
// complete result (rebuilds, recovery, truncation). Requires both locks.
func (s *segment) reset(b *indexBuilder) error {
	s.size, s.since, s.next = b.size, b.since, b.next
	s.maxTs, s.maxTsOff = b.maxTs, b.maxTsOff
	return errors.Join(s.index.replace(b.idx), s.times.replace(b.times))
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

// finish fsyncs and closes the index files of a segment that is being
// rolled away from. Requires appendMu.
func (s *segment) finish() error {
	return errors.Join(s.index.finish(), s.times.finish())
}

// seal makes a finished, inactive segment read-only: its indexes are mapped
// instead of held on the heap. Requires both locks.
func (s *segment) seal() error {
	if s.sealed {
		return nil
	}
	s.sealed = true
	return errors.Join(s.index.finish(), s.times.finish(), s.index.mapSealed(), s.times.mapSealed())
}

// close releases every file and mapping of the segment.
func (s *segment) close() error {
	err := errors.Join(s.index.close(), s.times.close())
	if s.log != nil {
		err = errors.Join(err, s.log.Close())
	}
	return err
}

// sync fsyncs the log and, if open, the index files.
func (s *segment) sync() error {
	return errors.Join(s.log.Sync(), s.index.sync(), s.times.sync())
}

// renameDeleted renames the segment's files to *.deleted. Missing index files
// are fine.
func (s *segment) renameDeleted() error {
	var errs []error
	for _, p := range []*string{&s.logPath, &s.index.path, &s.times.path} {
		if err := os.Rename(*p, *p+deletedSuffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		*p += deletedSuffix
	}
	return errors.Join(errs...)
}

// removeFiles deletes the segment's files under their current names.
func (s *segment) removeFiles() error {
	var errs []error
	for _, p := range []string{s.logPath, s.index.path, s.times.path} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
