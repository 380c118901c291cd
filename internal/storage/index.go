package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime/debug"
	"sort"
)

const (
	offsetEntrySize = 8  // relativeOffset uint32, position uint32
	timeEntrySize   = 12 // timestamp int64, relativeOffset uint32
)

// maxIndexFile bounds an index file that is loaded: segment.index.bytes is
// at most an int32, and a final time entry may follow.
const maxIndexFile = 1 << 31

// offsetIndex is the entries of a .index file: the active segment's on the
// heap, a sealed segment's mapped (or read) from its file.
type offsetIndex []byte

func (x offsetIndex) n() int { return len(x) / offsetEntrySize }

func (x offsetIndex) entry(i int) (rel, pos uint32) {
	b := x[i*offsetEntrySize:]
	return binary.BigEndian.Uint32(b), binary.BigEndian.Uint32(b[4:])
}

// lookup returns the last entry with relative offset <= rel; ok is false
// when there is none (start at position 0).
func (x offsetIndex) lookup(rel uint32) (entryRel, pos uint32, ok bool) {
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
func (x offsetIndex) check(size int64) error {
	if len(x)%offsetEntrySize != 0 {
		return errIndexShape
	}
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

// timeIndex is the entries of a .timeindex file: a segment's growing
// maximum timestamp and the batch that first reached it.
type timeIndex []byte

func (x timeIndex) n() int { return len(x) / timeEntrySize }

func (x timeIndex) entry(i int) (ts int64, rel uint32) {
	b := x[i*timeEntrySize:]
	return int64(binary.BigEndian.Uint64(b)), binary.BigEndian.Uint32(b[8:])
}

// last returns the newest entry; ok is false when the index is empty.
func (x timeIndex) last() (ts int64, rel uint32, ok bool) {
	if x.n() == 0 {
		return 0, 0, false
	}
	ts, rel = x.entry(x.n() - 1)
	return ts, rel, true
}

// lookupBelow returns the last entry with timestamp < ts: every batch before
// the one it names has a smaller maximum timestamp than ts.
func (x timeIndex) lookupBelow(ts int64) (rel uint32, ok bool) {
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
func (x timeIndex) check(end int64) error {
	if len(x)%timeEntrySize != 0 {
		return errIndexShape
	}
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

var errIndexShape = errors.New("size is not a whole number of entries")

// loadIndexFile maps (or, on file systems without descriptors to map,
// reads) a whole index file. present is false when the file does not exist.
// The file is closed before it returns: a mapping holds no descriptor.
func loadIndexFile(fsys FS, path string, width int) (b []byte, mapped, present bool, err error) {
	f, err := fsys.OpenFile(path, os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, false, nil
	}
	if err != nil {
		return nil, false, true, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, false, true, err
	}
	size := st.Size()
	if size%int64(width) != 0 || size > maxIndexFile {
		return nil, false, true, errIndexShape
	}
	if size == 0 {
		return nil, false, true, nil
	}
	if of, ok := OSFile(f); ok {
		if m, err := mapFile(of, int(size)); err == nil {
			return m, true, true, nil
		}
		// Fall back to reading it: the heap is still correct.
	}
	buf := make([]byte, size)
	if _, err := f.ReadAt(buf, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, false, true, err
	}
	return buf, false, true, nil
}

// writeIndexFile writes entries to path from byte from on (the bytes before
// it are already in the file; from 0 rewrites it), cuts the file there, and
// fsyncs and closes it.
func writeIndexFile(fsys FS, path string, entries []byte, from int) error {
	flag := os.O_RDWR | os.O_CREATE
	f, err := fsys.OpenFile(path, flag, 0o644)
	if err != nil {
		return err
	}
	if len(entries) > from {
		if _, err = f.WriteAt(entries[from:], int64(from)); err != nil {
			f.Close()
			return err
		}
	}
	if err = f.Truncate(int64(len(entries))); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// readMapped runs fn, turning a fault while reading a mapped index (the file
// was truncated underneath) into ok == false instead of a crash.
func readMapped(fn func()) (ok bool) {
	old := debug.SetPanicOnFault(true)
	defer func() {
		debug.SetPanicOnFault(old)
		if r := recover(); r != nil {
			if _, fault := r.(interface{ Addr() uintptr }); !fault {
				panic(r)
			}
			ok = false
		}
	}()
	fn()
	return true
}
