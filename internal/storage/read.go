package storage

import (
	"errors"
	"fmt"
	"io"

	"github.com/strait-kafka/strait/internal/record"
)

// view is a reader's snapshot of one segment: the segment (pinned, so its
// file stays open), the committed size at snapshot time, and where to begin
// scanning. done unpins it.
type view struct {
	seg    *segment
	size   int64
	pos    int64 // a batch boundary at or before the wanted batch
	verify int64 // base offset expected at pos when pos came from the index, -1 otherwise
}

func (v view) done() { v.seg.unpin() }

// viewAt pins s and snapshots it for a scan toward offset. Requires mu.RLock.
func viewAt(s *segment, offset int64) view {
	s.pin()
	v := view{seg: s, size: s.size, verify: -1}
	if offset > s.base {
		rel := uint32(min(offset-s.base, 1<<32-1))
		idx := s.idx
		if s.sealed {
			idx, _ = s.sealedIndexes()
		}
		readMapped(func() {
			if erel, pos, ok := idx.lookup(rel); ok {
				v.pos, v.verify = int64(pos), s.base+int64(erel)
			}
		})
	}
	return v
}

// timeViewAt is viewAt moved forward by the time index to the batch before
// the first one whose maximum timestamp may reach ts. Requires mu.RLock.
func timeViewAt(s *segment, from, ts int64) view {
	v := viewAt(s, from)
	tim := s.tim
	if s.sealed {
		_, tim = s.sealedIndexes()
	}
	var rel uint32
	ok := false
	readMapped(func() { rel, ok = tim.lookupBelow(ts) })
	if ok {
		idx := s.idx
		if s.sealed {
			idx, _ = s.sealedIndexes()
		}
		readMapped(func() {
			if erel, pos, found := idx.lookup(rel); found && s.base+int64(erel) > v.verify {
				v.pos, v.verify = int64(pos), s.base+int64(erel)
			}
		})
	}
	return v
}

// scan calls fn with every batch header from the view's position on, until
// fn returns false or the committed end is reached. An index position that
// does not hold the batch the index claims (a damaged index) is not trusted:
// the scan restarts from the segment's first batch. A batch cut short by a
// concurrent truncation ends the scan quietly.
func (l *Log) scan(v view, fn func(h record.Header, pos int64) bool) error {
	f, err := v.seg.file()
	if err != nil {
		return err
	}
	sc := newScanner(f, v.size)
	defer sc.release()
	pos := v.pos
	if v.verify >= 0 {
		if h, err := sc.header(pos); err != nil || h.BaseOffset != v.verify {
			if !v.seg.warnedIndex.Swap(true) {
				l.logger.Warn("storage: offset index entry does not match the log; scanning from the segment start",
					"segment", v.seg.base, "position", pos, "want_offset", v.verify)
			}
			pos = 0
		}
	}
	for {
		h, err := sc.header(pos)
		switch {
		case err == nil:
		case errors.Is(err, io.EOF), errors.Is(err, errTorn):
			return nil
		default:
			return fmt.Errorf("storage: segment %d at byte %d: %w", v.seg.base, pos, err)
		}
		if !fn(h, pos) {
			return nil
		}
		pos += int64(h.Size())
	}
}

// Read returns whole batches from one segment, starting with the batch that
// holds offset (or, in a gap, the first batch after it), none starting at or
// past maxOffset (a negative maxOffset means no bound), at most maxBytes
// except that the first batch is always returned whole. offset ==
// NextOffset() gives an empty Chunk (Len 0, File nil); so does an offset in a
// gap at the end of the log. Offsets below StartOffset() or above
// NextOffset() give ErrOffsetOutOfRange.
func (l *Log) Read(offset int64, maxBytes int32, maxOffset int64) (Chunk, error) {
	l.mu.RLock()
	if err := l.readable(); err != nil {
		l.mu.RUnlock()
		return Chunk{}, err
	}
	if offset < l.start || offset > l.next {
		start, next := l.start, l.next
		l.mu.RUnlock()
		return Chunk{}, fmt.Errorf("%w: offset %d, log holds [%d, %d)", ErrOffsetOutOfRange, offset, start, next)
	}
	i := l.segmentFor(offset)
	for i < len(l.segs) && l.segs[i].next <= offset {
		i++ // offset lies in a gap after this segment's last batch
	}
	if offset == l.next || i == len(l.segs) {
		l.mu.RUnlock()
		return Chunk{}, nil
	}
	v := viewAt(l.segs[i], offset)
	l.mu.RUnlock()

	first, total := int64(-1), int64(0)
	err := l.scan(v, func(h record.Header, pos int64) bool {
		if first < 0 {
			if h.LastOffset() < offset {
				return true
			}
			if maxOffset >= 0 && h.BaseOffset >= maxOffset {
				return false
			}
			first, total = pos, int64(h.Size())
			return true
		}
		if maxOffset >= 0 && h.BaseOffset >= maxOffset || total+int64(h.Size()) > int64(maxBytes) {
			return false
		}
		total += int64(h.Size())
		return true
	})
	if err != nil || first < 0 {
		v.done()
		return Chunk{}, err
	}
	f, err := v.seg.file()
	if err != nil {
		v.done()
		return Chunk{}, err
	}
	return Chunk{File: f, Pos: first, Len: total, pin: &pinToken{seg: v.seg}}, nil
}

// readBatch copies the batch of header h at pos of a pinned segment.
func readBatch(s *segment, h record.Header, pos int64) ([]byte, error) {
	f, err := s.file()
	if err != nil {
		return nil, err
	}
	return ReadChunk(Chunk{File: f, Pos: pos, Len: int64(h.Size())})
}

// doneAll unpins views.
func doneAll(vs []view) {
	for _, v := range vs {
		v.done()
	}
}

// FindTimestamp returns the first batch (at or after the start offset) whose
// MaxTimestamp >= ts; ok is false if none. Segments whose maximum is below ts
// are skipped, and the time index jumps close to the batch within a segment.
func (l *Log) FindTimestamp(ts int64) (batch []byte, ok bool, err error) {
	return l.FindTimestampFrom(ts, 0)
}

// FindTimestampFrom is FindTimestamp among the batches holding offsets at or
// after from (clamped to the start offset): a caller whose match in one
// batch lies below an offset it needs continues after that batch.
func (l *Log) FindTimestampFrom(ts, from int64) (batch []byte, ok bool, err error) {
	l.mu.RLock()
	if err := l.readable(); err != nil {
		l.mu.RUnlock()
		return nil, false, err
	}
	start := max(l.start, from)
	var views []view
	for _, s := range l.segs[l.segmentFor(start):] {
		if s.size == 0 || s.maxTsOff < 0 || s.maxTs < ts {
			continue
		}
		views = append(views, timeViewAt(s, start, ts))
	}
	l.mu.RUnlock()
	defer doneAll(views)

	for _, v := range views {
		var found record.Header
		foundPos := int64(-1)
		err := l.scan(v, func(h record.Header, pos int64) bool {
			if h.LastOffset() >= start && h.MaxTimestamp >= ts {
				found, foundPos = h, pos
				return false
			}
			return true
		})
		if err != nil {
			return nil, false, err
		}
		if foundPos >= 0 {
			b, err := readBatch(v.seg, found, foundPos)
			return b, err == nil, err
		}
	}
	return nil, false, nil
}

// MaxTimestampBatch returns the batch holding the largest MaxTimestamp at or
// after the start offset (ties: the earliest); ok is false for an empty log.
func (l *Log) MaxTimestampBatch() (batch []byte, ok bool, err error) {
	l.mu.RLock()
	if err := l.readable(); err != nil {
		l.mu.RUnlock()
		return nil, false, err
	}
	start := l.start
	type cand struct {
		v      view
		ts     int64
		off    int64
		rescan bool // the segment's maximum lies below the start offset
	}
	var cands []cand
	for _, s := range l.segs[l.segmentFor(start):] {
		if s.size == 0 || s.maxTsOff < 0 {
			continue
		}
		c := cand{ts: s.maxTs, off: s.maxTsOff}
		if s.maxTsOff < start {
			c.v, c.rescan = viewAt(s, start), true
		} else {
			c.v = viewAt(s, s.maxTsOff)
		}
		cands = append(cands, c)
	}
	l.mu.RUnlock()
	defer func() {
		for _, c := range cands {
			c.v.done()
		}
	}()

	var best struct {
		seg *segment
		h   record.Header
		pos int64
	}
	best.pos = -1
	for _, c := range cands {
		if best.pos >= 0 && c.ts <= best.h.MaxTimestamp {
			continue // cannot beat (or tie earlier than) the best so far
		}
		var h record.Header
		pos := int64(-1)
		err := l.scan(c.v, func(bh record.Header, bpos int64) bool {
			if c.rescan {
				if bh.LastOffset() >= start && (pos < 0 || bh.MaxTimestamp > h.MaxTimestamp) {
					h, pos = bh, bpos
				}
				return true
			}
			if bh.BaseOffset == c.off {
				h, pos = bh, bpos
				return false
			}
			return bh.BaseOffset < c.off
		})
		if err != nil {
			return nil, false, err
		}
		if pos >= 0 && (best.pos < 0 || h.MaxTimestamp > best.h.MaxTimestamp) {
			best.seg, best.h, best.pos = c.v.seg, h, pos
		}
	}
	if best.pos < 0 {
		return nil, false, nil
	}
	b, err := readBatch(best.seg, best.h, best.pos)
	return b, err == nil, err
}

// ScanHeaders calls fn for each batch header from offset from (clamped to
// the start offset; the batch holding from comes first) to the end of the
// log as it was when the scan began. fn runs without any lock held and may
// call the Log; an error from fn stops the scan and is returned.
func (l *Log) ScanHeaders(from int64, fn func(h record.Header) error) error {
	l.mu.RLock()
	if err := l.readable(); err != nil {
		l.mu.RUnlock()
		return err
	}
	from = max(from, l.start)
	var views []view
	if from < l.next {
		for _, s := range l.segs[l.segmentFor(from):] {
			views = append(views, viewAt(s, from))
		}
	}
	l.mu.RUnlock()

	for i, v := range views {
		var fnErr error
		err := l.scan(v, func(h record.Header, _ int64) bool {
			if h.LastOffset() < from {
				return true
			}
			fnErr = fn(h)
			return fnErr == nil
		})
		v.done() // a long scan keeps one segment's file open at a time
		if fnErr != nil {
			err = fnErr
		}
		if err != nil {
			doneAll(views[i+1:])
			return err
		}
	}
	return nil
}
