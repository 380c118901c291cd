package storage

import (
	"errors"
	"fmt"
	"time"

	"github.com/strait-kafka/strait/internal/record"
)

// TruncateTo removes every batch with offsets at or after off, cutting at a
// batch boundary as Kafka does: batches whose last offset is below off stay,
// and a batch that straddles off goes entirely.
//
// The new NextOffset is the last kept batch's last offset + 1 (or the base of
// the segment that remains, when it keeps no batch), but never below the start
// offset. It can therefore be below off, and that value is exactly what a
// reopen computes from the files. If off is below the start offset, the start
// offset comes down to off (Kafka's truncateTo does the same); if no segment
// starts at or below off, the log is emptied and restarts at off. The leader
// epoch cache drops epochs starting at or after the new end. off >=
// NextOffset() changes nothing.
//
// A Chunk handed out before the truncation may afterwards read bytes that a
// later append wrote over the removed ones; callers truncate only replicas
// that do not serve consumers.
func (l *Log) TruncateTo(off int64) error {
	if err := l.lockWriter(); err != nil {
		return err
	}
	defer l.appendMu.Unlock()
	if off < 0 {
		return fmt.Errorf("%w: truncate to %d", ErrOffsetOutOfRange, off)
	}
	if off >= l.next {
		return nil
	}
	cfg := l.config()
	if l.segs[0].base > off {
		return l.restartAtLocked(off)
	}

	k := l.segmentFor(off)
	seg := l.segs[k]
	b := newIndexBuilder(seg.base, cfg)
	seg.pin()
	defer seg.unpin()
	err := l.scan(view{seg: seg, size: seg.size, verify: -1}, func(h record.Header, _ int64) bool {
		if h.LastOffset() >= off {
			return false
		}
		b.add(h)
		return true
	})
	if err != nil {
		return fmt.Errorf("storage: truncate to %d: %w", off, err)
	}
	cut := b.size
	newStart := min(l.start, off)
	newNext := max(b.next, newStart)
	if newStart != l.start {
		if err := writeOffsetFile(l.fs, l.dir, startOffsetFile, newStart); err != nil {
			return err
		}
		l.startOnDisk = newStart
	}
	victims := append([]*segment(nil), l.segs[k+1:]...)

	l.mu.Lock()
	l.segs = l.segs[:k+1]
	l.start, l.next = newStart, newNext
	seg.reset(b)
	epochChanged := l.epochs.truncateFromEnd(newNext)
	epochs := l.epochs.clone()
	l.mu.Unlock()

	var errs []error
	if err := seg.truncate(cut); err != nil {
		errs = append(errs, l.fail(fmt.Sprintf("truncating segment %d", seg.base), err))
	}
	switch {
	case cut == 0:
		seg.rollBase = time.Time{} // the next batch starts the segment.ms clock
	case seg.rollBase.IsZero():
		seg.rollBase = l.now() // a sealed segment became the active one
	}
	for _, s := range victims {
		l.retire(s, "truncation", msDuration(cfg.FileDeleteDelayMs))
	}
	if len(victims) > 0 {
		errs = append(errs, SyncDir(l.fs, l.dir))
	}
	if epochChanged {
		errs = append(errs, WriteFileAtomic(l.fs, l.dir, epochFile, encodeEpochs(epochs)))
	}
	errs = append(errs, l.lowerRecoveryPointLocked())
	l.logger.Info("storage: truncated log", "to_offset", off, "next_offset", newNext,
		"segment", seg.base, "segment_bytes", cut, "deleted_segments", len(victims))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("storage: truncate to %d: %w", off, err)
	}
	return nil
}

// restartAtLocked empties the log and restarts it at off (below every
// segment's base). Requires appendMu.
func (l *Log) restartAtLocked(off int64) error {
	cfg := l.config()
	s, err := createSegment(l.files, l.dir, off, l.now())
	if err != nil {
		return err
	}
	l.dirDirty = true
	if err := writeOffsetFile(l.fs, l.dir, startOffsetFile, off); err != nil {
		s.remove()
		return err
	}
	l.startOnDisk = off
	victims := l.segs
	l.mu.Lock()
	l.segs = []*segment{s}
	l.start, l.next = off, off
	changed := l.epochs.truncateFromEnd(off)
	epochs := l.epochs.clone()
	l.mu.Unlock()
	for _, v := range victims {
		l.retire(v, "truncation", msDuration(cfg.FileDeleteDelayMs))
	}
	errs := []error{SyncDir(l.fs, l.dir)}
	if changed {
		errs = append(errs, WriteFileAtomic(l.fs, l.dir, epochFile, encodeEpochs(epochs)))
	}
	errs = append(errs, l.lowerRecoveryPointLocked())
	l.logger.Info("storage: truncated log fully", "next_offset", off, "deleted_segments", len(victims))
	return errors.Join(errs...)
}

// lowerRecoveryPointLocked brings the persisted recovery point down to the
// log end after a truncation, so that bytes appended later over the removed
// ones are scanned after a crash. Requires appendMu.
func (l *Log) lowerRecoveryPointLocked() error {
	if l.recoveryPoint <= l.next {
		return nil
	}
	if err := writeOffsetFile(l.fs, l.dir, recoveryPointFile, l.next); err != nil {
		return err
	}
	l.recoveryPoint = l.next
	return nil
}
