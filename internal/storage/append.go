package storage

import (
	"errors"
	"fmt"
	"time"

	"github.com/strait-kafka/strait/internal/record"
)

// run is the part of an append that goes to one segment.
type run struct {
	seg      *segment
	b        *indexBuilder
	from, to int // byte range of the appended batches
	created  bool
	sealing  bool // the segment is rolled away from by this append
}

// Append writes one or more complete batches whose base offsets are already
// set. The first base offset must be >= NextOffset() and every batch must
// start after the previous batch's last offset (gaps are legal), else
// ErrOutOfOrder. Framing is checked here (CRCs are the caller's job); on any
// error nothing is appended. The batches become visible to readers only when
// Append returns.
//
// Before each batch the active segment rolls when the batch would take it
// past segment.bytes, when segment.ms has passed since its first batch was
// written, when an index is full, or when the batch's offsets are too far
// from the segment's base for the 32-bit relative offsets of the indexes.
// The log fsyncs when flush.messages messages have accumulated.
func (l *Log) Append(batches []byte) (AppendInfo, error) {
	type parsed struct {
		h        record.Header
		from, to int
	}
	var hs []parsed
	for pos := 0; pos < len(batches); {
		_, _, h, err := record.Next(batches[pos:])
		if err != nil {
			return AppendInfo{}, fmt.Errorf("storage: append: batch at byte %d: %w", pos, err)
		}
		if h.LastOffsetDelta < 0 || h.BaseOffset < 0 {
			return AppendInfo{}, fmt.Errorf("storage: append: batch at byte %d: %w: offsets %d+%d",
				pos, record.ErrInvalid, h.BaseOffset, h.LastOffsetDelta)
		}
		hs = append(hs, parsed{h, pos, pos + h.Size()})
		pos += h.Size()
	}
	if len(hs) == 0 {
		return AppendInfo{FirstOffset: -1, LastOffset: -1, MaxTimestamp: -1}, nil
	}

	if err := l.lockWriter(); err != nil {
		return AppendInfo{}, err
	}
	defer l.appendMu.Unlock()

	prevLast := l.next - 1
	for _, p := range hs {
		if p.h.BaseOffset <= prevLast {
			return AppendInfo{}, fmt.Errorf("%w: batch at %d, log end %d, previous batch ends at %d",
				ErrOutOfOrder, p.h.BaseOffset, l.next, prevLast)
		}
		prevLast = p.h.LastOffset()
	}

	cfg := l.config()
	now := l.now()
	cur := &run{seg: l.active(), b: l.active().builder(cfg)}
	runs := []*run{cur}
	info := AppendInfo{FirstOffset: hs[0].h.BaseOffset, LastOffset: prevLast, MaxTimestamp: -1, Bytes: len(batches)}
	var messages int64
	for i, p := range hs {
		if reason := l.rollReason(cur, p.h, cfg, now); reason != "" {
			cur.b.seal()
			cur.sealing = true
			s, err := createSegment(l.dir, p.h.BaseOffset, now)
			if err != nil {
				l.abortAppend(runs)
				return AppendInfo{}, err
			}
			l.logger.Debug("storage: rolled segment", "base_offset", s.base, "reason", reason)
			cur = &run{seg: s, b: s.builder(cfg), from: p.from, created: true}
			runs = append(runs, cur)
		}
		cur.b.add(p.h)
		cur.to = p.to
		if i == 0 || p.h.MaxTimestamp > info.MaxTimestamp {
			info.MaxTimestamp = p.h.MaxTimestamp
		}
		messages += int64(max(p.h.NumRecords, 0))
	}

	for _, r := range runs {
		if err := l.writeRun(r, batches); err != nil {
			l.abortAppend(runs)
			return AppendInfo{}, fmt.Errorf("storage: append to segment %d: %w", r.seg.base, err)
		}
	}

	var sealErr error
	for _, r := range runs {
		if r.sealing {
			// fsync the finished indexes before taking mu, so readers never
			// wait on it.
			sealErr = errors.Join(sealErr, r.seg.finish())
		}
	}
	l.mu.Lock()
	for _, r := range runs {
		r.seg.apply(r.b)
		if r.to > r.from {
			if r.seg.rollBase.IsZero() {
				r.seg.rollBase = now
			}
			r.seg.lastWrite = now
			r.seg.dirty = true
		}
		if r.created {
			l.segs = append(l.segs, r.seg)
			l.dirDirty = true
		}
		if r.sealing {
			sealErr = errors.Join(sealErr, r.seg.seal())
		}
	}
	l.next = max(l.next, prevLast+1)
	epochChanged := false
	for _, p := range hs {
		if l.epochs.assign(p.h.PartitionLeaderEpoch, p.h.BaseOffset) {
			epochChanged = true
		}
	}
	epochs := l.epochs.clone()
	l.mu.Unlock()

	if sealErr != nil {
		// The data is in place and readable; only the mapping of an old
		// index failed, which leaves it on the heap.
		l.logger.Warn("storage: sealing rolled segment", "err", sealErr)
	}
	if epochChanged {
		if err := writeFileAtomic(l.dir, epochFile, encodeEpochs(epochs)); err != nil {
			return info, err
		}
	}
	l.unflushed += messages
	if cfg.flushMessagesEnabled() && l.unflushed >= cfg.FlushMessages {
		if err := l.flushLocked(); err != nil {
			return info, err
		}
	}
	return info, nil
}

// rollReason says why the batch h cannot go into the run's segment ("" if
// it can). Requires appendMu.
func (l *Log) rollReason(r *run, h record.Header, cfg Config, now time.Time) string {
	b := r.b
	if !b.fits(h) {
		return "offset range"
	}
	if b.size == 0 {
		return "" // never roll an empty segment
	}
	rollBase := r.seg.rollBase
	if rollBase.IsZero() {
		rollBase = now // its first batch is part of this append
	}
	switch {
	case b.size+int64(h.Size()) > cfg.segmentBytes():
		return "segment.bytes"
	case b.full():
		return "index full"
	case now.Sub(rollBase) >= msDuration(cfg.SegmentMs):
		return "segment.ms"
	}
	return ""
}

// writeRun writes a run's batches and index entries after the segment's
// committed bytes. Nothing becomes visible until the run is published.
func (l *Log) writeRun(r *run, batches []byte) error {
	if r.to > r.from {
		if _, err := r.seg.log.WriteAt(batches[r.from:r.to], r.seg.size); err != nil {
			return err
		}
	}
	if err := r.seg.index.writeAt(r.b.idx, 0); err != nil {
		return err
	}
	return r.seg.times.writeAt(r.b.times, 0)
}

// abortAppend undoes the file effects of a failed append: segments created
// by it are removed, and the others are cut back to their committed sizes.
func (l *Log) abortAppend(runs []*run) {
	for _, r := range runs {
		if r.created {
			r.seg.close()
			r.seg.removeFiles()
			continue
		}
		if err := r.seg.log.Truncate(r.seg.size); err != nil {
			l.logger.Warn("storage: undoing failed append", "base_offset", r.seg.base, "err", err)
		}
		for _, e := range []*entryFile{&r.seg.index.entryFile, &r.seg.times.entryFile} {
			if e.f != nil {
				e.f.Truncate(int64(len(e.buf)))
			}
		}
	}
}
