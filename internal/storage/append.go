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
	act := l.active()
	act.pin()
	cur := &run{seg: act, b: act.builder(cfg)}
	runs := []*run{cur}
	defer func() {
		for _, r := range runs {
			r.seg.unpin()
		}
	}()
	info := AppendInfo{FirstOffset: hs[0].h.BaseOffset, LastOffset: prevLast, MaxTimestamp: -1, Bytes: len(batches)}
	var messages int64
	for i, p := range hs {
		if reason := l.rollReason(cur, p.h, cfg, now); reason != "" {
			cur.b.seal()
			cur.sealing = true
			s, err := createSegment(l.files, l.dir, p.h.BaseOffset, now)
			if err != nil {
				l.abortAppend(runs)
				return AppendInfo{}, err
			}
			s.pin()
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
		if r.to > r.from {
			if err := r.seg.writeAt(batches[r.from:r.to], r.seg.size); err != nil {
				l.abortAppend(runs)
				return AppendInfo{}, fmt.Errorf("storage: append to segment %d: %w", r.seg.base, err)
			}
		}
	}

	// The epoch checkpoint is written by the next flush, before the
	// recovery point passes these batches (and at close): until then a
	// crash leaves them to recovery, which reads their epochs from them.
	epochs := epochCache{entries: l.epochs.clone()}
	for _, p := range hs {
		if epochs.assign(p.h.PartitionLeaderEpoch, p.h.BaseOffset) {
			l.epochsUnsynced = true
		}
	}

	var sealErr error
	for _, r := range runs {
		if r.sealing {
			// The finished indexes go to disk before the segment is sealed;
			// a failure leaves a shorter (still correct) index on disk,
			// which a reopen rebuilds.
			sealErr = errors.Join(sealErr, r.seg.writeIndexesWith(r.b))
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
		}
		if r.created {
			l.segs = append(l.segs, r.seg)
			l.dirDirty = true
		}
		if r.sealing {
			r.seg.seal()
		}
	}
	l.next = max(l.next, prevLast+1)
	l.epochs = epochs
	l.mu.Unlock()

	if sealErr != nil {
		l.logger.Warn("storage: writing the indexes of a rolled segment", "err", sealErr)
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

// abortAppend undoes the file effects of a failed append: segments created
// by it are removed, and the others are cut back to their committed sizes
// (bytes past the committed size are never read, and the next append
// writes over them, so a failure here is only logged).
func (l *Log) abortAppend(runs []*run) {
	for _, r := range runs {
		if r.created {
			if err := r.seg.remove(); err != nil {
				l.logger.Warn("storage: removing the segment of a failed append", "segment", r.seg.base, "err", err)
			}
			continue
		}
		f, err := r.seg.file()
		if err == nil {
			err = f.Truncate(r.seg.size)
		}
		if err != nil {
			l.logger.Warn("storage: undoing failed append", "segment", r.seg.base, "err", err)
		}
	}
}
