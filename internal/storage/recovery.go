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
	"strconv"
	"strings"

	"github.com/strait-kafka/strait/internal/record"
)

// errNeedsRecovery says a segment's framing is damaged and only a full,
// CRC-checked scan can tell how much of it to keep.
var errNeedsRecovery = errors.New("storage: segment needs recovery")

// ErrDamaged means a log cannot be opened because data that had already
// reached the disk (below the recovery point, or after a clean shutdown) is
// damaged: that is not an interrupted write that recovery may cut, so the
// files are left exactly as they are.
var ErrDamaged = errors.New("storage: damaged log")

// damagedSuffix ends the name of bytes that recovery set aside instead of
// deleting: a cut tail or a segment after the damage. Open ignores them.
const damagedSuffix = ".damaged"

// loadReport collects what recovery changed, for the summary line.
type loadReport struct{ did []string }

func (r *loadReport) note(format string, args ...any) {
	r.did = append(r.did, fmt.Sprintf(format, args...))
}

// load opens the segments of l.dir and brings the log to a consistent state
// (the rules are in the package documentation). It runs before any other
// goroutine can see l, so it takes no locks.
func (l *Log) load() error {
	rep := &loadReport{}
	bases, ownMarker, err := l.sweepDir(rep)
	if err != nil {
		return err
	}
	clean := ownMarker || (l.sharedMarker && l.cleanHint)
	start, startFound, rp, epochFound, rebuildEpochs := l.readCheckpoints(rep, len(bases) > 0)

	for _, base := range bases {
		s, err := openSegment(l.files, l.dir, base)
		if err != nil {
			return err
		}
		l.segs = append(l.segs, s)
	}
	if err := l.loadSegments(rep, clean, rp); err != nil {
		return err
	}

	if len(l.segs) == 0 {
		s, err := createSegment(l.files, l.dir, max(start, 0), l.now())
		if err != nil {
			return err
		}
		l.segs = append(l.segs, s)
	}
	if !startFound || start < l.segs[0].base {
		start = l.segs[0].base
	}
	l.start = start
	l.next = max(l.active().next, start)

	if err := l.loadEpochs(rep, rebuildEpochs, epochFound); err != nil {
		return err
	}
	if !startFound || start != l.start {
		if err := writeOffsetFile(l.fs, l.dir, startOffsetFile, l.start); err != nil {
			return err
		}
	}
	l.startOnDisk = l.start
	l.recoveryPoint = min(rp, l.next)
	if l.recoveryPoint != rp {
		if err := writeOffsetFile(l.fs, l.dir, recoveryPointFile, l.recoveryPoint); err != nil {
			return err
		}
	}

	now := l.now()
	for i, s := range l.segs {
		if i < len(l.segs)-1 {
			if err := s.writeIndexes(); err != nil {
				l.logger.Warn("storage: writing rebuilt indexes", "segment", s.base, "err", err)
			}
			s.seal()
			continue
		}
		if s.size > 0 {
			s.rollBase = now // the first write time is not persisted
		}
	}

	if ownMarker {
		if err := l.fs.Remove(filepath.Join(l.dir, cleanMarkerFile)); err != nil {
			return err
		}
	}
	if ownMarker || !l.sharedMarker {
		if err := SyncDir(l.fs, l.dir); err != nil {
			return err
		}
	}
	if len(rep.did) > 0 {
		l.logger.Info("storage: recovered log", "start_offset", l.start, "next_offset", l.next,
			"segments", len(l.segs), "actions", strings.Join(rep.did, "; "))
	}
	return nil
}

// sweepDir lists the segments and removes what is safe to remove: leftovers
// of deletions already decided (*.deleted), incomplete atomic writes (*.tmp)
// and index files whose log is gone (derived data).
func (l *Log) sweepDir(rep *loadReport) (bases []int64, clean bool, err error) {
	entries, err := l.fs.ReadDir(l.dir)
	if err != nil {
		return nil, false, err
	}
	present := map[string]bool{}
	for _, e := range entries {
		name := e.Name()
		switch {
		case e.IsDir():
		case strings.HasSuffix(name, deletedSuffix), strings.HasSuffix(name, tmpSuffix):
			// A deletion still being carried out by the shared Files may
			// remove it first.
			if err := l.fs.Remove(filepath.Join(l.dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return nil, false, err
			}
			rep.note("removed leftover %s", name)
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
			if err := l.fs.Remove(filepath.Join(l.dir, name)); err != nil {
				return nil, false, err
			}
			rep.note("removed orphan %s", name)
		}
	}
	sort.Slice(bases, func(i, j int) bool { return bases[i] < bases[j] })
	return bases, clean, nil
}

// readCheckpoints reads the start offset, the recovery point and the leader
// epoch checkpoint. An unreadable checkpoint is never fatal: the start
// offset falls back to the first segment, the recovery point to 0 (all is
// checked), and the epochs are rebuilt from the batches.
func (l *Log) readCheckpoints(rep *loadReport, haveSegments bool) (start int64, startFound bool, rp int64, epochFound, rebuildEpochs bool) {
	start, startFound, err := readOffsetFile(l.fs, l.dir, startOffsetFile)
	if err != nil {
		rep.note("ignored unreadable %s (%v)", startOffsetFile, err)
		startFound = false
	}
	rp, _, err = readOffsetFile(l.fs, l.dir, recoveryPointFile)
	if err != nil {
		rep.note("ignored unreadable %s (%v)", recoveryPointFile, err)
		rp = 0
	}
	lines, epochFound, err := readCheckpoint(l.fs, l.dir, epochFile)
	switch {
	case err == nil && epochFound:
		entries, derr := decodeEpochs(lines)
		if derr != nil {
			rebuildEpochs = true
			rep.note("leader epoch checkpoint unreadable (%v)", derr)
		}
		l.epochs.entries = entries
	case err != nil:
		rebuildEpochs = true
		rep.note("leader epoch checkpoint unreadable (%v)", err)
	default:
		rebuildEpochs = haveSegments
		if rebuildEpochs {
			rep.note("leader epoch checkpoint missing")
		}
	}
	if rebuildEpochs {
		l.epochs.entries = nil
	}
	return start, startFound, rp, epochFound, rebuildEpochs
}

// loadSegments checks every segment. Segments that reached the disk before
// (below the one holding the recovery point, or all of them after a clean
// shutdown) keep their logs; damage in one of them stops the open with
// ErrDamaged and changes nothing. The others are read in full, and at the
// first torn or corrupt batch the rest of that segment and every later
// segment are set aside (renamed *.damaged, never deleted).
func (l *Log) loadSegments(rep *loadReport, clean bool, rp int64) error {
	cfg := l.cfg
	recoverFrom := len(l.segs)
	if !clean && len(l.segs) > 0 {
		recoverFrom = max(sort.Search(len(l.segs), func(i int) bool { return l.segs[i].base > rp })-1, 0)
		rep.note("unclean shutdown: checking segments from %d", l.segs[recoverFrom].base)
	}
	prevNext := int64(0)
	for i := 0; i < recoverFrom; i++ {
		s := l.segs[i]
		if i > 0 && s.base < prevNext {
			return fmt.Errorf("%w: segment %d starts inside the previous segment, which ends at offset %d",
				ErrDamaged, s.base, prevNext)
		}
		reason, err := l.loadSegment(s, cfg, i < len(l.segs)-1)
		if errors.Is(err, errNeedsRecovery) {
			return fmt.Errorf("%w: segment %d (%s): %v; it had reached the disk, so this is not an interrupted write, and nothing was changed",
				ErrDamaged, s.base, filepath.Join(l.dir, segmentName(s.base)+logSuffix), err)
		}
		if err != nil {
			return fmt.Errorf("segment %d: %w", s.base, err)
		}
		if reason != "" {
			rep.note("rebuilt indexes of segment %d (%s)", s.base, reason)
		}
		prevNext = s.next
	}
	for i := recoverFrom; i < len(l.segs); i++ {
		s := l.segs[i]
		minNext := prevNext
		cut, aside, cause, err := l.recoverSegment(s, minNext, cfg, i < len(l.segs)-1)
		if err != nil {
			return fmt.Errorf("segment %d: %w", s.base, err)
		}
		prevNext = s.next
		if cause == nil {
			continue
		}
		l.logger.Warn("storage: cut a torn or corrupt log tail; the cut bytes are kept aside",
			"segment", s.base, "offset", s.next, "position", s.size, "bytes", cut, "kept_in", aside, "cause", cause)
		rep.note("truncated segment %d at byte %d (offset %d): %d bytes, kept in %s: %v", s.base, s.size, s.next, cut, aside, cause)
		for _, later := range l.segs[i+1:] {
			name, err := l.setAsideSegment(later)
			if err != nil {
				return err
			}
			l.logger.Warn("storage: set aside a segment after the damage", "segment", later.base, "bytes", later.size, "kept_in", name)
			rep.note("set aside segment %d after the damage (%d bytes, kept in %s)", later.base, later.size, name)
		}
		l.segs = l.segs[:i+1]
		if i > 0 && s.size == 0 && s.base < minNext {
			// It started inside the previous segment and kept nothing:
			// as the active segment its base would pull the log end
			// back below offsets the previous segment still holds.
			if _, err := l.setAsideSegment(s); err != nil {
				return err
			}
			rep.note("set aside segment %d: it overlapped the previous one and kept nothing", s.base)
			l.segs = l.segs[:i]
		}
		break
	}
	return nil
}

// setAsideSegment takes a segment out of the log without deleting its data:
// its log file is renamed *.damaged (its indexes, derived data, are removed).
func (l *Log) setAsideSegment(s *segment) (string, error) {
	s.close()
	r := &s.res
	dest := fmt.Sprintf("%s.%d%s", r.logPath, l.now().UnixMilli(), damagedSuffix)
	if err := l.fs.Rename(r.logPath, dest); err != nil {
		return "", fmt.Errorf("storage: setting aside segment %d: %w", s.base, err)
	}
	for _, p := range []string{r.idxPath, r.timPath} {
		if err := l.fs.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
	}
	return filepath.Base(dest), nil
}

// loadEpochs rebuilds the leader epoch cache from the batch headers when its
// checkpoint was unusable, trims it to the log, and writes it back if it
// changed.
func (l *Log) loadEpochs(rep *loadReport, rebuild, found bool) error {
	if rebuild {
		for _, s := range l.segs {
			s.pin()
			err := l.scan(view{seg: s, size: s.size, verify: -1}, func(h record.Header, _ int64) bool {
				l.epochs.assign(h.PartitionLeaderEpoch, h.BaseOffset)
				return true
			})
			s.unpin()
			if err != nil {
				return err
			}
		}
		rep.note("rebuilt the leader epoch cache from the batches (%d epochs)", len(l.epochs.entries))
	}
	changed := l.epochs.truncateFromEnd(l.next)
	changed = l.epochs.truncateFromStart(l.start) || changed
	if rebuild || changed || !found {
		return WriteFileAtomic(l.fs, l.dir, epochFile, encodeEpochs(l.epochs.entries))
	}
	return nil
}

// loadedIndexes are index files loaded for checking.
type loadedIndexes struct {
	idx                  offsetIndex
	tim                  timeIndex
	idxMapped, timMapped bool
}

func (x *loadedIndexes) release() {
	if x.idxMapped {
		unmapFile(x.idx)
	}
	if x.timMapped {
		unmapFile(x.tim)
	}
	*x = loadedIndexes{}
}

// loadSegment trusts a segment's log but checks its index files: present,
// whole entries, monotonic, inside the log, and the last entry of each
// pointing at the batch it names. It computes the segment's end by scanning
// the batch headers after the last offset index entry. A failed check
// rebuilds both indexes from the batch headers and returns why; framing
// damage in the log returns errNeedsRecovery. Sound indexes are kept: a
// sealed segment's stay loaded in res, the active one's move to the heap.
func (l *Log) loadSegment(s *segment, cfg Config, sealed bool) (rebuilt string, err error) {
	s.pin()
	defer s.unpin()
	var x loadedIndexes
	reason := l.checkIndexes(s, &x)
	if reason == "" {
		if sealed {
			r := &s.res
			r.mu.Lock()
			r.idx, r.tim, r.idxMapped, r.timMapped, r.loaded = x.idx, x.tim, x.idxMapped, x.timMapped, true
			s.files.opened(s, 0, 2)
			r.mu.Unlock()
			s.sealed = true // published below by seal(), which sees it sealed already
		} else {
			s.idx = append(offsetIndex(nil), x.idx...)
			s.tim = append(timeIndex(nil), x.tim...)
			s.idxOnDisk, s.timOnDisk = len(s.idx), len(s.tim)
			x.release()
		}
		return "", nil
	}
	x.release()
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
	s.reset(b)
	return reason, nil
}

// checkIndexes loads and validates a segment's index files into x and, when
// they are sound, sets the segment's end and timestamps from them. It
// returns why they must be rebuilt, or "". Requires a pin.
//
// The offset index must be whole, strictly increasing, inside the log, and
// its last entry must name the batch at its position. The time index must be
// whole and strictly increasing, and its last entry must name a batch that
// carries that timestamp and that no later batch exceeds (the final entry
// written when the segment was sealed or the log closed). The headers from
// the earlier of the two last entries to the end are scanned to find the
// segment's end; an empty time index is only accepted when no batch has a
// timestamp.
func (l *Log) checkIndexes(s *segment, x *loadedIndexes) string {
	r := &s.res
	idx, idxMapped, found, err := loadIndexFile(l.fs, r.idxPath, offsetEntrySize)
	if !found || err != nil {
		return fmt.Sprintf("offset index: %v", orMissing(found, err))
	}
	x.idx, x.idxMapped = idx, idxMapped
	tim, timMapped, found, err := loadIndexFile(l.fs, r.timPath, timeEntrySize)
	if !found || err != nil {
		return fmt.Sprintf("time index: %v", orMissing(found, err))
	}
	x.tim, x.timMapped = tim, timMapped
	var reason string
	if !readMapped(func() { reason = l.checkLoadedIndexes(s, x.idx, x.tim) }) {
		return "index file changed while it was read"
	}
	return reason
}

func (l *Log) checkLoadedIndexes(s *segment, idx offsetIndex, tim timeIndex) string {
	if err := idx.check(s.size); err != nil {
		return "offset index: " + err.Error()
	}
	if err := tim.check(1 << 32); err != nil {
		return "time index: " + err.Error()
	}
	f, err := s.file()
	if err != nil {
		return "log: " + err.Error()
	}
	scanFrom := int64(0)
	if n := idx.n(); n > 0 {
		rel, pos := idx.entry(n - 1)
		scanFrom = int64(pos)
		sc := newScanner(f, s.size)
		h, err := sc.header(scanFrom)
		sc.release()
		if err != nil || h.BaseOffset != s.base+int64(rel) {
			return fmt.Sprintf("offset index: last entry (%d, %d) does not point at its batch", rel, pos)
		}
	}
	lastTs, lastRel, hasTimes := tim.last()
	if hasTimes {
		want := s.base + int64(lastRel)
		v := view{seg: s, size: s.size, verify: -1}
		if erel, pos, ok := idx.lookup(lastRel); ok {
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
	err = l.scanStrict(s, scanFrom, func(h record.Header) error {
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
	if err := tim.check(next - s.base); err != nil {
		return "time index: " + err.Error()
	}
	switch {
	case hasTimes && maxTs > lastTs:
		return fmt.Sprintf("time index: misses the segment's maximum timestamp %d", maxTs)
	case !hasTimes && maxTs >= 0:
		return "time index: empty although the segment has timestamps"
	}
	s.next, s.maxTs, s.maxTsOff = next, maxTs, maxTsOff
	if n := idx.n(); n > 0 {
		_, pos := idx.entry(n - 1)
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
// damage (a torn or garbage header) is errNeedsRecovery. Requires a pin.
func (l *Log) scanStrict(s *segment, pos int64, fn func(h record.Header) error) error {
	f, err := s.file()
	if err != nil {
		return err
	}
	sc := newScanner(f, s.size)
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
// first bad batch it copies the rest of the file aside (named in aside),
// truncates the file there and returns the bytes cut and the cause. The
// indexes are rebuilt from what remains, and every kept batch's epoch goes
// into the epoch cache.
func (l *Log) recoverSegment(s *segment, minNext int64, cfg Config, sealed bool) (cut int64, aside string, cause error, err error) {
	s.pin()
	defer s.unpin()
	f, err := s.file()
	if err != nil {
		return 0, "", nil, err
	}
	b := newIndexBuilder(s.base, cfg)
	r := bufio.NewReaderSize(io.NewSectionReader(f, 0, s.size), 1<<16)
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
			return 0, "", nil, err
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
		if aside, err = l.copyAside(s, f, pos); err != nil {
			return 0, "", nil, err
		}
		if err := s.truncate(pos); err != nil {
			return 0, "", nil, err
		}
	}
	s.reset(b)
	return cut, aside, cause, nil
}

// copyAside copies the bytes of s from pos to its end into a *.damaged file
// next to it, fsynced, before recovery cuts them.
func (l *Log) copyAside(s *segment, f File, pos int64) (string, error) {
	if pos >= s.size {
		return "", nil
	}
	s.res.mu.Lock()
	logPath := s.res.logPath
	s.res.mu.Unlock()
	dest := logPath + "." + strconv.FormatInt(pos, 10) + "." + strconv.FormatInt(l.now().UnixMilli(), 10) + damagedSuffix
	out, err := l.fs.OpenFile(dest, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return "", fmt.Errorf("storage: keeping the cut bytes of segment %d: %w", s.base, err)
	}
	_, err = io.Copy(out, io.NewSectionReader(f, pos, s.size-pos))
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = SyncDir(l.fs, l.dir)
	}
	if err != nil {
		l.fs.Remove(dest)
		return "", fmt.Errorf("storage: keeping the cut bytes of segment %d: %w", s.base, err)
	}
	return filepath.Base(dest), nil
}
