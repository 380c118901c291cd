package storage

import (
	"errors"
	"fmt"
	"time"
)

// EnforceRetention is the Log's periodic housekeeping; the owner calls it on
// a timer. In order it:
//
//  1. rolls the active segment if it is non-empty and segment.ms has passed
//     since its first batch was written (an idle partition still rolls);
//  2. deletes the oldest segments whose largest timestamp is more than
//     retention.ms old, then the oldest segments while the log stays at or
//     above retention.bytes without them (Kafka's rules). If that takes in a
//     non-empty active segment, it rolls first, so the log keeps an empty
//     active segment at its end offset;
//  3. advances and persists the start offset to the first remaining segment;
//  4. fsyncs if flush.ms has passed since the last flush and something was
//     written since (flush.ms is only as precise as the call period).
//
// It returns how many segments it deleted.
func (l *Log) EnforceRetention() (deletedSegments int, err error) {
	if err := l.lockWriter(); err != nil {
		return 0, err
	}
	defer l.appendMu.Unlock()
	cfg := l.config()
	now := l.now()

	if act := l.active(); act.size > 0 && !act.rollBase.IsZero() && now.Sub(act.rollBase) >= msDuration(cfg.SegmentMs) {
		if err := l.rollLocked(now, cfg, "segment.ms"); err != nil {
			return 0, err
		}
	}

	// Any segment may go except an empty active one (Kafka's rule): an empty
	// segment before it (left by a roll for offset range) holds nothing.
	deletable := func(i int) bool { return i < len(l.segs) && (i < len(l.segs)-1 || l.segs[i].size > 0) }
	n := 0
	var reasons []string
	// Segments wholly below the start offset (left by a start offset that
	// was persisted just before a crash) go first, whatever the policy.
	for deletable(n) && l.segs[n].next <= l.start && n < len(l.segs)-1 {
		n++
		reasons = append(reasons, "log start offset")
	}
	if cfg.RetentionMs >= 0 {
		for deletable(n) && now.UnixMilli()-l.segs[n].largestTimestamp() > cfg.RetentionMs {
			n++
			reasons = append(reasons, "retention.ms")
		}
	}
	if cfg.RetentionBytes >= 0 {
		var total int64
		for _, s := range l.segs[n:] {
			total += s.size
		}
		diff := total - cfg.RetentionBytes
		for deletable(n) && diff-l.segs[n].size >= 0 {
			diff -= l.segs[n].size
			n++
			reasons = append(reasons, "retention.bytes")
		}
	}
	if n > 0 {
		if n == len(l.segs) {
			if err := l.rollLocked(now, cfg, reasons[n-1]); err != nil {
				return 0, err
			}
		}
		if err := l.deleteSegmentsLocked(n, l.segs[n].base, reasons); err != nil {
			return n, err
		}
	}

	if cfg.flushMsEnabled() && l.hasDirty() && now.Sub(l.lastFlush) >= msDuration(cfg.FlushMs) {
		if err := l.flushLocked(); err != nil {
			return n, err
		}
	}
	return n, nil
}

// hasDirty reports unflushed writes. Requires appendMu.
func (l *Log) hasDirty() bool {
	for _, s := range l.segs {
		if s.isDirty() {
			return true
		}
	}
	return l.active().idxOnDisk != len(l.active().idx) || l.active().timOnDisk != len(l.active().tim)
}

// rollLocked seals the non-empty active segment and starts a new one at the
// log end offset. Requires appendMu.
func (l *Log) rollLocked(now time.Time, cfg Config, reason string) error {
	act := l.active()
	b := act.builder(cfg)
	b.seal()
	indexErr := act.writeIndexesWith(b)
	s, err := createSegment(l.files, l.dir, l.next, now)
	if err != nil {
		return fmt.Errorf("storage: roll: %w", err)
	}
	l.mu.Lock()
	act.apply(b)
	act.seal()
	l.segs = append(l.segs, s)
	l.mu.Unlock()
	l.dirDirty = true
	if indexErr != nil {
		l.logger.Warn("storage: writing the indexes of a rolled segment", "segment", act.base, "err", indexErr)
	}
	l.logger.Debug("storage: rolled segment", "segment", s.base, "reason", reason)
	return nil
}

// deleteSegmentsLocked removes the n oldest segments (never all of them)
// and raises the start offset to newStart. The files are renamed to
// *.deleted first, which needs no disk space, so retention frees space even
// on a full disk; they are removed after file.delete.delay.ms. The start
// offset is persisted afterwards: until it is, a reopen computes it from
// the first remaining segment, which is exact whenever the new start is
// that segment's base (retention). When it is not (DeleteRecords inside a
// segment) a failure to persist it is returned, and retried by the next
// call, flush or close. reasons has one entry per segment, or one for all.
// Requires appendMu.
func (l *Log) deleteSegmentsLocked(n int, newStart int64, reasons []string) error {
	if n <= 0 || n >= len(l.segs) {
		return fmt.Errorf("storage: cannot delete %d of %d segments", n, len(l.segs))
	}
	victims := append([]*segment(nil), l.segs[:n]...)
	l.mu.Lock()
	l.segs = append([]*segment(nil), l.segs[n:]...)
	l.start = max(l.start, newStart)
	epochChanged := l.epochs.truncateFromStart(l.start)
	epochs := l.epochs.clone()
	cfg := l.cfg
	l.mu.Unlock()

	for i, s := range victims {
		reason := reasons[min(i, len(reasons)-1)]
		l.retire(s, reason, msDuration(cfg.FileDeleteDelayMs))
	}
	var errs []error
	if err := SyncDir(l.fs, l.dir); err != nil {
		errs = append(errs, err)
	}
	if err := l.persistStartLocked(); err != nil {
		if l.start != l.segs[0].base {
			errs = append(errs, err)
		} else {
			l.logger.Warn("storage: the new start offset is not persisted yet; the segment files say it", "start_offset", l.start, "err", err)
		}
	}
	if epochChanged {
		if err := WriteFileAtomic(l.fs, l.dir, epochFile, encodeEpochs(epochs)); err != nil {
			// Epochs below the start offset are trimmed at the next open.
			l.logger.Warn("storage: trimming the leader epoch checkpoint", "err", err)
		}
	}
	return errors.Join(errs...)
}

// persistStartLocked writes the start offset if the file is behind it.
// Requires appendMu.
func (l *Log) persistStartLocked() error {
	if l.startOnDisk == l.start {
		return nil
	}
	if err := writeOffsetFile(l.fs, l.dir, startOffsetFile, l.start); err != nil {
		return err
	}
	l.startOnDisk = l.start
	return nil
}

// retire renames a segment already removed from the list to *.deleted and
// hands it to the deleter, logging the deletion once.
func (l *Log) retire(s *segment, reason string, delay time.Duration) {
	if err := s.renameDeleted(); err != nil {
		l.logger.Warn("storage: renaming deleted segment", "segment", s.base, "err", err)
	}
	l.logger.Info("storage: deleted segment", "segment", s.base, "next_offset", s.next,
		"bytes", s.size, "reason", reason)
	l.files.schedule(l, s, delay)
}

// SetStartOffset advances the log start offset (DeleteRecords, mirrors),
// persists it, and deletes segments that lie wholly below it; the active
// segment is never deleted unless off >= NextOffset(), in which case the log
// becomes empty and continues at off (a new empty segment based at off).
// Reads below the start offset fail with ErrOffsetOutOfRange even while the
// bytes are still in a segment. An offset at or below the current start
// offset changes nothing.
func (l *Log) SetStartOffset(off int64) error {
	if err := l.lockWriter(); err != nil {
		return err
	}
	defer l.appendMu.Unlock()
	if off <= l.start {
		return l.persistStartLocked() // a retry after a failure to persist it
	}
	if off >= l.next {
		if act := l.active(); act.size != 0 || act.base != off {
			s, err := createSegment(l.files, l.dir, off, l.now())
			if err != nil {
				return err
			}
			l.dirDirty = true
			l.mu.Lock()
			l.segs = append(l.segs, s)
			l.next = off
			l.mu.Unlock()
		}
		if n := len(l.segs) - 1; n > 0 {
			return l.deleteSegmentsLocked(n, off, []string{"log start offset"})
		}
		return l.setStartLocked(off)
	}
	n := 0
	for n < len(l.segs)-1 && l.segs[n].next <= off {
		n++
	}
	if n > 0 {
		return l.deleteSegmentsLocked(n, off, []string{"log start offset"})
	}
	return l.setStartLocked(off)
}

// setStartLocked persists and publishes a new start offset without deleting
// segments. Requires appendMu.
func (l *Log) setStartLocked(off int64) error {
	if off != l.startOnDisk {
		if err := writeOffsetFile(l.fs, l.dir, startOffsetFile, off); err != nil {
			return err
		}
		l.startOnDisk = off
	}
	l.mu.Lock()
	l.start = off
	l.next = max(l.next, off)
	changed := l.epochs.truncateFromStart(off)
	epochs := l.epochs.clone()
	l.mu.Unlock()
	if changed {
		return WriteFileAtomic(l.fs, l.dir, epochFile, encodeEpochs(epochs))
	}
	return nil
}
