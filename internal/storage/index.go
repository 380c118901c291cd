package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
)

const (
	offsetEntrySize = 8  // relativeOffset uint32, position uint32
	timeEntrySize   = 12 // timestamp int64, relativeOffset uint32
)

// entryFile is one fixed-width index file whose entries are also held in
// memory: on the heap while its segment is active (entries are appended), in
// a read-only mapping once the segment is sealed.
//
// buf is part of the Log's published state: it changes only with both
// Log.appendMu and Log.mu held and is read under either. f and the pending
// writes belong to the writer (appendMu).
type entryFile struct {
	path   string
	width  int
	f      *os.File // open for writing while active; nil when sealed or closed
	buf    []byte
	mapped bool
}

func (e *entryFile) n() int { return len(e.buf) / e.width }

// openWritable makes e an active index whose file holds exactly e.buf.
func (e *entryFile) openWritable() error {
	f, err := os.OpenFile(e.path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	e.f = f
	return nil
}

// writeAt writes pending entries to the file after the published ones (plus
// skip already-written pending bytes); the entries become visible to readers
// only when publish appends them to buf.
func (e *entryFile) writeAt(p []byte, skip int) error {
	if len(p) == 0 {
		return nil
	}
	if e.f == nil {
		return fmt.Errorf("storage: index %s is not writable", e.path)
	}
	_, err := e.f.WriteAt(p, int64(len(e.buf)+skip))
	return err
}

// publish appends already written entries to the in-memory copy. Requires
// both locks.
func (e *entryFile) publish(p []byte) {
	if len(p) > 0 {
		e.buf = append(e.buf, p...)
	}
}

// replace rewrites the whole file with entries (rebuilds and truncation) and
// makes e active. Requires both locks.
func (e *entryFile) replace(entries []byte) error {
	if err := e.unseal(); err != nil {
		return err
	}
	if e.f == nil {
		if err := e.openWritable(); err != nil {
			return err
		}
	}
	if err := e.f.Truncate(0); err != nil {
		return err
	}
	if _, err := e.f.WriteAt(entries, 0); err != nil {
		return err
	}
	e.buf = append(make([]byte, 0, len(entries)), entries...)
	return nil
}

// finish fsyncs and closes the file of an index that will take no more
// entries. Only the writer uses f, so this needs appendMu alone.
func (e *entryFile) finish() error {
	if e.f == nil {
		return nil
	}
	err := e.f.Sync()
	if cerr := e.f.Close(); err == nil {
		err = cerr
	}
	e.f = nil
	return err
}

// mapSealed swaps the heap copy of a finished index for a mapping of its
// file. Requires both locks.
func (e *entryFile) mapSealed() error {
	if e.mapped || len(e.buf) == 0 {
		return nil
	}
	m, mapped, err := mapFile(e.path, len(e.buf))
	if err != nil {
		return err // keep the heap copy; it is still correct
	}
	e.buf, e.mapped = m, mapped
	return nil
}

// unseal copies a mapping back to the heap and reopens the file for writing.
// Requires both locks.
func (e *entryFile) unseal() error {
	if e.mapped {
		heap := append([]byte(nil), e.buf...)
		if err := unmapFile(e.buf); err != nil {
			return err
		}
		e.buf, e.mapped = heap, false
	}
	if e.f == nil {
		return e.openWritable()
	}
	return nil
}

// load maps (or reads) the file as found on disk for validation. A missing
// file loads as absent.
func (e *entryFile) load() (present bool, err error) {
	st, err := os.Stat(e.path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if st.Size()%int64(e.width) != 0 || st.Size() > 1<<31 {
		return true, errIndexShape
	}
	m, mapped, err := mapFile(e.path, int(st.Size()))
	if err != nil {
		return true, err
	}
	e.buf, e.mapped = m, mapped
	return true, nil
}

var errIndexShape = errors.New("size is not a whole number of entries")

// sync fsyncs the file if it is open.
func (e *entryFile) sync() error {
	if e.f == nil {
		return nil
	}
	return e.f.Sync()
}

// close releases the file and the mapping.
func (e *entryFile) close() error {
	var err error
	if e.f != nil {
		err = e.f.Close()
		e.f = nil
	}
	if e.mapped {
		err = errors.Join(err, unmapFile(e.buf))
	}
	e.buf, e.mapped = nil, false
	return err
}

// offsetIndex maps relative offsets of batch starts to file positions.
type offsetIndex struct{ entryFile }

func newOffsetIndex(path string) offsetIndex {
	return offsetIndex{entryFile{path: path, width: offsetEntrySize}}
}

func (x *offsetIndex) entry(i int) (rel, pos uint32) {
	b := x.buf[i*offsetEntrySize:]
	return binary.BigEndian.Uint32(b), binary.BigEndian.Uint32(b[4:])
}

// lookup returns the last entry with relative offset <= rel; ok is false
// when there is none (start at position 0).
func (x *offsetIndex) lookup(rel uint32) (entryRel, pos uint32, ok bool) {
	i := sort.Search(x.n(), func(i int) bool {
		r, _ := x.entry(i)
		return r > rel
	}) - 1
	if i < 0 {
		return 0, 0, false
	}
	entryRel, pos = x.entry(i)
	return entryRel, pos, true
}

// check validates the shape of the index against a log of size bytes:
// strictly increasing offsets and positions, all inside the file.
func (x *offsetIndex) check(size int64) error {
	var prevRel, prevPos uint32
	for i := 0; i < x.n(); i++ {
		rel, pos := x.entry(i)
		switch {
		case rel > 1<<31-1:
			return fmt.Errorf("entry %d: relative offset %d", i, rel)
		case int64(pos) >= size:
			return fmt.Errorf("entry %d: position %d past the log's %d bytes", i, pos, size)
		case i > 0 && (rel <= prevRel || pos <= prevPos):
			return fmt.Errorf("entry %d: (%d, %d) not after (%d, %d)", i, rel, pos, prevRel, prevPos)
		}
		prevRel, prevPos = rel, pos
	}
	return nil
}

func appendOffsetEntry(dst []byte, rel, pos uint32) []byte {
	dst = binary.BigEndian.AppendUint32(dst, rel)
	return binary.BigEndian.AppendUint32(dst, pos)
}

// timeIndex maps a segment's growing maximum timestamp to the batch that
// first reached it.
type timeIndex struct{ entryFile }

func newTimeIndex(path string) timeIndex {
	return timeIndex{entryFile{path: path, width: timeEntrySize}}
}

func (x *timeIndex) entry(i int) (ts int64, rel uint32) {
	b := x.buf[i*timeEntrySize:]
	return int64(binary.BigEndian.Uint64(b)), binary.BigEndian.Uint32(b[8:])
}

// last returns the newest entry; ok is false when the index is empty.
func (x *timeIndex) last() (ts int64, rel uint32, ok bool) {
	if x.n() == 0 {
		return 0, 0, false
	}
	ts, rel = x.entry(x.n() - 1)
	return ts, rel, true
}

// lookupBelow returns the last entry with timestamp < ts: every batch before
// the one it names has a smaller maximum timestamp than ts.
func (x *timeIndex) lookupBelow(ts int64) (rel uint32, ok bool) {
	i := sort.Search(x.n(), func(i int) bool {
		t, _ := x.entry(i)
		return t >= ts
	}) - 1
	if i < 0 {
		return 0, false
	}
	_, rel = x.entry(i)
	return rel, true
}

// check validates strictly increasing timestamps and offsets, all below
// relative offset end.
func (x *timeIndex) check(end int64) error {
	var prevTs int64
	var prevRel uint32
	for i := 0; i < x.n(); i++ {
		ts, rel := x.entry(i)
		switch {
		case int64(rel) >= end:
			return fmt.Errorf("entry %d: relative offset %d past the segment's end %d", i, rel, end)
		case i > 0 && (ts <= prevTs || rel <= prevRel):
			return fmt.Errorf("entry %d: (%d, %d) not after (%d, %d)", i, ts, rel, prevTs, prevRel)
		}
		prevTs, prevRel = ts, rel
	}
	return nil
}

func appendTimeEntry(dst []byte, ts int64, rel uint32) []byte {
	dst = binary.BigEndian.AppendUint64(dst, uint64(ts))
	return binary.BigEndian.AppendUint32(dst, rel)
}
