package storage

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/strait-kafka/strait/internal/record"
)

// errNeedsRecovery says a segment's framing is damaged and only a full,
// CRC-checked scan can tell how much of it to keep.
var errNeedsRecovery = errors.New("storage: segment needs recovery")

// load opens the segments of l.dir and brings the log to a consistent state
// (the rules are in the package documentation). It runs before any other
// goroutine can see l, so it takes no locks.
func (l *Log) load() error {
	cfg := l.cfg
	var did []string // what recovery changed, for the summary line
	note := func(format string, args ...any) { did = append(did, fmt.Sprintf(format, args...)) }

	entries, err := os.ReadDir(l.dir)
	if err != nil {
		return err
	}
	var bases []int64
	present := map[string]bool{}
	clean := false
	for _, e := range entries {
		name := e.Name()
		switch {
		case e.IsDir():
		case strings.HasSuffix(name, deletedSuffix), strings.HasSuffix(name, tmpSuffix):
			if err := os.Remove(filepath.Join(l.dir, name)); err != nil {
				return err
			}
			note("removed leftover %s", name)
		case name == cleanMarkerFile:
			clean = true
		default:
			present[name] = true
			if base, ok := parseSegmentName(name); ok {
				bases = append(bases, base)
			}
		}
	}
	for name := range present {
		stem, ok := strings.CutSuffix(name, indexSuffix)
		if !ok {
			stem, ok = strings.CutSuffix(name, timeIndexSuffix)
		}
		if ok && len(stem) == 20 && !present[stem+logSuffix] {
			if err := os.Remove(filepath.Join(l.dir, name)); err != nil {
				return err
			}
			note("removed orphan %s", name)
		}
	}
	sort.Slice(bases, func(i, j int) bool { return bases[i] < bases[j] })

	start, startFound, err := readOffsetFile(l.dir, startOffsetFile)
	if err != nil {
		note("ignored unreadable %s (%v)", startOffsetFile, err)
		startFound = false
	}
	rp, _, err := readOffsetFile(l.dir, recoveryPointFile)
	if err != nil {
		note("ignored unreadable %s (%v)", recoveryPointFile, err)
		rp = 0
	}
	rebuildEpochs := false
	lines, epochFound, err := readCheckpoint(l.dir, epochFile)
	switch found := epochFound; {
	case err == nil && found:
		entries, derr := decodeEpochs(lines)
		if derr != nil {
			rebuildEpochs = true
			note("leader epoch checkpoint unreadable (%v)", derr)
		}
		l.epochs.entries = entries
	case err != nil:
		rebuildEpochs = true
		note("leader epoch checkpoint unreadable (%v)", err)
	default:
		rebuildEpochs = len(bases) > 0
		if rebuildEpochs {
			note("leader epoch checkpoint missing")
		}
	}
	if rebuildEpochs {
		l.epochs.entries = nil
	}

	for _, base := range bases {
		s, err := openSegment(l.dir, base)
		if err != nil {
			return err
		}
		l.segs = append(l.segs, s)
	}

	recoverFrom := len(l.segs)
	if !clean && len(l.segs) > 0 {
		recoverFrom = max(sort.Search(len(l.segs), func(i int) bool { return l.segs[i].base > rp })-1, 0)
		note("unclean shutdown: checking segments from %d", l.segs[recoverFrom].base)
	}
	prevNext := int64(0)
	for i := 0; i < recoverFrom; i++ {
		s := l.segs[i]
		if s.base < prevNext {
			recoverFrom = i
			note("segment %d overlaps the previous one", s.base)
			break
		}
		reason, err := l.loadSegment(s, cfg, i < len(l.segs)-1)
		if errors.Is(err, errNeedsRecovery) {
			recoverFrom = i
			note("segment %d is damaged (%s)", s.base, reason)
			break
		}
		if err != nil {
			return fmt.Errorf("segment %d: %w", s.base, err)
		}
		if reason != "" {
			note("rebuilt indexes of segment %d (%s)", s.base, reason)
		}
		prevNext = s.next
	}
	for i := recoverFrom; i < len(l.segs); i++ {
		s := l.segs[i]
		minNext := prevNext
		cut, cause, err := l.recoverSegment(s, minNext, cfg, i < len(l.segs)-1)
		if err != nil {
			return fmt.Errorf("segment %d: %w", s.base, err)
		}
		prevNext = s.next
		if cause == nil {
			continue
		}
		l.logger.Warn("storage: truncated torn or corrupt log tail",
			"segment", s.base, "offset", s.next, "position", s.size, "bytes", cut, "cause", cause)
		note("truncated segment %d at byte %d (offset %d): %d bytes: %v", s.base, s.size, s.next, cut, cause)
		for _, later := range l.segs[i+1:] {
			later.close()
			if err := later.removeFiles(); err != nil {
				return err
			}
			note("dropped segment %d after the damage", later.base)
		}
		l.segs = l.segs[:i+1]
		if i > 0 && s.size == 0 && s.base < minNext {
			// It started inside the previous segment and kept nothing:
			// as the active segment its base would pull the log end
			// back below offsets the previous segment still holds.
			s.close()
			if err := s.removeFiles(); err != nil {
				return err
			}
			note("dropped segment %d: it overlapped the previous one and kept nothing", s.base)
			l.segs = l.segs[:i]
		}
		break
	}

	if len(l.segs) == 0 {
		s, err := createSegment(l.dir, max(start, 0), l.now())
		if err != nil {
			return err
		}
		l.segs = append(l.segs, s)
	}
	if !startFound || start < l.segs[0].base {
		start = l.segs[0].base
	}
	for len(l.segs) > 1 && l.segs[0].next <= start {
		s := l.segs[0]
		s.close()
		if err := s.removeFiles(); err != nil {
			return err
		}
		note("deleted segment %d below the log start offset %d", s.base, start)
		l.segs = l.segs[1:]
	}
	l.start = start
	l.next = max(l.active().next, start)

	if rebuildEpochs {
		for _, s := range l.segs {
			err := l.scan(view{seg: s, size: s.size, verify: -1}, func(h record.Header, _ int64) bool {
				l.epochs.assign(h.PartitionLeaderEpoch, h.BaseOffset)
				return true
			})
			if err != nil {
				return err
			}
		}
		note("rebuilt the leader epoch cache from the batches (%d epochs)", len(l.epochs.entries))
	}
	epochChanged := l.epochs.truncateFromEnd(l.next)
	epochChanged = l.epochs.truncateFromStart(l.start) || epochChanged
	if rebuildEpochs || epochChanged || !epochFound {
		if err := writeFileAtomic(l.dir, epochFile, encodeEpochs(l.epochs.entries)); err != nil {
			return err
		}
	}
	if !startFound || start != l.start {
		if err := writeOffsetFile(l.dir, startOffsetFile, l.start); err != nil {
			return err
		}
	}
	l.recoveryPoint = min(rp, l.next)
	if l.recoveryPoint != rp {
		if err := writeOffsetFile(l.dir, recoveryPointFile, l.recoveryPoint); err != nil {
			return err
		}
	}

	now := l.now()
	for i, s := range l.segs {
		if i < len(l.segs)-1 {
			if err := s.seal(); err != nil {
				return err
			}
			continue
		}
		if err := errors.Join(s.index.unseal(), s.times.unseal()); err != nil {
			return err
		}
		if s.size > 0 {
			s.rollBase = now // the first write time is not persisted
		}
	}

	if clean {
		if err := os.Remove(filepath.Join(l.dir, cleanMarkerFile)); err != nil {
			return err
		}
	}
	if err := syncDir(l.dir); err != nil {
		return err
	}
	if len(did) > 0 {
		l.logger.Info("storage: recovered log", "start_offset", l.start, "next_offset", l.next,
			"segments", len(l.segs), "actions", strings.Join(did, "; "))
	}
	return nil
}

// loadSegment trusts a segment's log but checks its index files: present,
// whole entries, monotonic, inside the log, and the last entry of each
// pointing at the batch it names. It computes the segment's end by scanning
// the batch headers after the last offset index entry. A failed check
// rebuilds both indexes from the batch headers and returns why; framing
// damage in the log returns errNeedsRecovery.
func (l *Log) loadSegment(s *segment, cfg Config, sealed bool) (rebuilt string, err error) {
	reason := l.checkIndexes(s)
	if reason == "" {
		return "", nil
	}
	s.index.close()
	s.times.close()
	b := newIndexBuilder(s.base, cfg)
	if err := l.scanStrict(s, 0, func(h record.Header) error {
		if !b.fits(h) || h.BaseOffset < b.next {
			return fmt.Errorf("%w: batch at offset %d out of order", errNeedsRecovery, h.BaseOffset)
		}
		b.add(h)
		return nil
	}); err != nil {
		return reason, err
	}
	if sealed {
		b.seal()
	}
	return reason, s.reset(b)
}

// checkIndexes loads and validates a segment's index files and, when they are
// sound, sets the segment's end and timestamps from them. It returns why they
// must be rebuilt, or "".
//
// The offset index must be whole, strictly increasing, inside the log, and
// its last entry must name the batch at its position. The time index must be
// whole and strictly increasing, and its last entry must name a batch that
// carries that timestamp and that no later batch exceeds (the final entry
// written when the segment was sealed or the log closed). The headers from
// the earlier of the two last entries to the end are scanned to find the
// segment's end; an empty time index is only accepted when no batch has a
// timestamp.
func (l *Log) checkIndexes(s *segment) string {
	if found, err := s.index.load(); !found || err != nil {
		return fmt.Sprintf("offset index: %v", orMissing(found, err))
	}
	if found, err := s.times.load(); !found || err != nil {
		return fmt.Sprintf("time index: %v", orMissing(found, err))
	}
	if err := s.index.check(s.size); err != nil {
		return "offset index: " + err.Error()
	}
	if err := s.times.check(1 << 32); err != nil {
		return "time index: " + err.Error()
	}
	scanFrom := int64(0)
	if n := s.index.n(); n > 0 {
		rel, pos := s.index.entry(n - 1)
		scanFrom = int64(pos)
		sc := newScanner(s.log, s.size)
		h, err := sc.header(scanFrom)
		sc.release()
		if err != nil || h.BaseOffset != s.base+int64(rel) {
			return fmt.Sprintf("offset index: last entry (%d, %d) does not point at its batch", rel, pos)
		}
	}
	lastTs, lastRel, hasTimes := s.times.last()
	if hasTimes {
		want := s.base + int64(lastRel)
		v := view{seg: s, size: s.size, verify: -1}
		if erel, pos, ok := s.index.lookup(lastRel); ok {
			v.pos, v.verify = int64(pos), s.base+int64(erel)
		}
		holderPos := int64(-1)
		if err := l.scan(v, func(h record.Header, pos int64) bool {
			if h.BaseOffset == want && h.MaxTimestamp == lastTs {
				holderPos = pos
			}
			return h.BaseOffset < want
		}); err != nil || holderPos < 0 {
			return fmt.Sprintf("time index: last entry (%d, %d) does not match its batch", lastTs, lastRel)
		}
		scanFrom = min(scanFrom, holderPos)
	} else {
		scanFrom = 0
	}

	var next, maxTs, maxTsOff, batches int64 = s.base, -1, -1, 0
	err := l.scanStrict(s, scanFrom, func(h record.Header) error {
		if h.BaseOffset < s.base || h.LastOffset()-s.base > 1<<31-1 || (batches > 0 && h.BaseOffset < next) {
			return fmt.Errorf("%w: batch at offset %d out of order", errNeedsRecovery, h.BaseOffset)
		}
		if maxTsOff < 0 || h.MaxTimestamp > maxTs {
			maxTs, maxTsOff = h.MaxTimestamp, h.BaseOffset
		}
		next = h.LastOffset() + 1
		batches++
		return nil
	})
	if err != nil {
		return "log: " + err.Error()
	}
	if scanFrom > 0 && batches == 0 {
		return "offset index: last entry has no batch"
	}
	if err := s.times.check(next - s.base); err != nil {
		return "time index: " + err.Error()
	}
	switch {
	case hasTimes && maxTs > lastTs:
		return fmt.Sprintf("time index: misses the segment's maximum timestamp %d", maxTs)
	case !hasTimes && maxTs >= 0:
		return "time index: empty although the segment has timestamps"
	}
	s.next, s.maxTs, s.maxTsOff = next, maxTs, maxTsOff
	if n := s.index.n(); n > 0 {
		_, pos := s.index.entry(n - 1)
		s.since = s.size - int64(pos)
	} else {
		s.since = s.size
	}
	return ""
}

func orMissing(found bool, err error) error {
	if !found {
		return errors.New("missing")
	}
	return err
}

// scanStrict walks the batch headers of s from pos to its end; any framing
// damage (a torn or garbage header) is errNeedsRecovery.
func (l *Log) scanStrict(s *segment, pos int64, fn func(h record.Header) error) error {
	sc := newScanner(s.log, s.size)
	defer sc.release()
	for {
		h, err := sc.header(pos)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: byte %d: %v", errNeedsRecovery, pos, err)
		}
		if err := fn(h); err != nil {
			return err
		}
		pos += int64(h.Size())
	}
}

// recoverSegment reads every batch of s, validating framing, CRC and offset
// order (each batch after the previous one and at or above minNext). At the
// first bad batch it truncates the file there and returns the bytes cut and
// the cause. The indexes are rebuilt from what remains, and every kept
// batch's epoch goes into the epoch cache.
func (l *Log) recoverSegment(s *segment, minNext int64, cfg Config, sealed bool) (cut int64, cause error, err error) {
	s.index.close()
	s.times.close()
	b := newIndexBuilder(s.base, cfg)
	r := bufio.NewReaderSize(io.NewSectionReader(s.log, 0, s.size), 1<<16)
	var buf []byte
	next := max(minNext, s.base)
	var pos int64
	for pos < s.size {
		var prefix [record.OffLeaderEpoch]byte
		if _, err := io.ReadFull(r, prefix[:]); err != nil {
			cause = fmt.Errorf("torn batch header: %w", err)
			break
		}
		length := int64(int32(binary.BigEndian.Uint32(prefix[record.OffBatchLength:])))
		if length < record.HeaderSize-12 || length+12 > record.MaxBatchSize {
			cause = fmt.Errorf("%w: batch length %d", record.ErrCorrupt, length)
			break
		}
		if pos+12+length > s.size {
			cause = fmt.Errorf("torn batch: %d bytes of %d", s.size-pos, length+12)
			break
		}
		if int64(cap(buf)) < length+12 {
			buf = make([]byte, length+12)
		}
		buf = buf[:length+12]
		copy(buf, prefix[:])
		if _, err := io.ReadFull(r, buf[len(prefix):]); err != nil {
			return 0, nil, err
		}
		h, verr := record.Validate(buf)
		if verr != nil {
			cause = verr
			break
		}
		if h.BaseOffset < next || !b.fits(h) {
			cause = fmt.Errorf("batch at offset %d out of order (expected %d or more)", h.BaseOffset, next)
			break
		}
		b.add(h)
		l.epochs.assign(h.PartitionLeaderEpoch, h.BaseOffset)
		next = h.LastOffset() + 1
		pos += length + 12
	}
	if sealed && cause == nil {
		b.seal()
	}
	if cause != nil {
		cut = s.size - pos
		if err := s.log.Truncate(pos); err != nil {
			return 0, nil, err
		}
		if err := s.log.Sync(); err != nil {
			return 0, nil, err
		}
	}
	if err := s.reset(b); err != nil {
		return 0, nil, err
	}
	return cut, cause, nil
}
