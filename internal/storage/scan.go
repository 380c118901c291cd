package storage

import (
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/strait-kafka/strait/internal/record"
)

// errTorn marks a batch that runs past the end of the bytes being scanned.
var errTorn = errors.New("storage: batch runs past the end of the segment")

const scanBufSize = 16 << 10

var scanBufs = sync.Pool{New: func() any { b := make([]byte, scanBufSize); return &b }}

// scanner reads batch headers from a segment file with ReadAt only, never
// past end (the committed size when scanning began). It reads ahead up to
// scanBufSize bytes so runs of small batches cost one pread.
type scanner struct {
	f        File
	end      int64
	buf      *[]byte
	bufStart int64
	bufLen   int
}

func newScanner(f File, end int64) *scanner {
	return &scanner{f: f, end: end, buf: scanBufs.Get().(*[]byte)}
}

func (s *scanner) release() {
	if s.buf != nil {
		scanBufs.Put(s.buf)
		s.buf = nil
	}
}

// header returns the header of the batch starting at pos: io.EOF when pos is
// the end, errTorn when the batch does not fit before the end, and an error
// wrapping record.ErrCorrupt or record.ErrMagic for bytes that are not a
// batch.
func (s *scanner) header(pos int64) (record.Header, error) {
	if pos >= s.end {
		return record.Header{}, io.EOF
	}
	if s.end-pos < record.HeaderSize {
		return record.Header{}, errTorn
	}
	if pos < s.bufStart || pos+record.HeaderSize > s.bufStart+int64(s.bufLen) {
		n := int(min(int64(len(*s.buf)), s.end-pos))
		m, err := s.f.ReadAt((*s.buf)[:n], pos)
		if m < record.HeaderSize {
			s.bufLen = 0
			if err == nil || errors.Is(err, io.EOF) {
				// The file shrank under us (a concurrent truncation).
				return record.Header{}, errTorn
			}
			return record.Header{}, err
		}
		s.bufStart, s.bufLen = pos, m
	}
	b := (*s.buf)[pos-s.bufStart : pos-s.bufStart+record.HeaderSize]
	h, err := record.ParseHeader(b)
	if err != nil {
		return h, err
	}
	if h.Length < record.HeaderSize-12 || int64(h.Size()) > record.MaxBatchSize {
		return h, fmt.Errorf("%w: batch length %d", record.ErrCorrupt, h.Length)
	}
	if h.LastOffsetDelta < 0 {
		return h, fmt.Errorf("%w: last offset delta %d", record.ErrCorrupt, h.LastOffsetDelta)
	}
	if pos+int64(h.Size()) > s.end {
		return h, errTorn
	}
	return h, nil
}

// indexBuilder reproduces the indexing rules of an append, for appends,
// rebuilds and recovery alike:
//
//   - a batch is indexed when more than interval bytes were appended since
//     the previous entry (the first batch of a segment never is: position 0);
//   - at that moment the time index gets (max timestamp so far, the batch
//     that first reached it) if the maximum rose since its last entry;
//   - sealing adds a final time entry for the segment's maximum, so a sealed
//     segment's last time entry is always its maximum timestamp.
//
// Entries beyond the capacities are dropped (the index is sparse; the log
// rolls at the next append).
type indexBuilder struct {
	base     int64
	interval int64
	maxIdx   int
	maxTimes int

	nIdx, nTimes int
	lastTs       int64 // timestamp of the newest time entry, -1 when none
	idx, times   []byte

	size, since  int64
	next         int64
	maxTs        int64
	maxTsOff     int64 // base offset of the batch holding maxTs, -1 when empty
	batches      int64
	lastBatchPos int64
}

func newIndexBuilder(base int64, cfg Config) *indexBuilder {
	return &indexBuilder{
		base: base, interval: int64(cfg.IndexIntervalBytes),
		maxIdx: cfg.indexEntries(), maxTimes: cfg.timeEntries(),
		lastTs: -1, next: base, maxTs: -1, maxTsOff: -1, lastBatchPos: -1,
	}
}

// fits reports whether a batch with these offsets can be indexed relative to
// the builder's base.
func (b *indexBuilder) fits(h record.Header) bool {
	return h.BaseOffset >= b.base && h.LastOffset()-b.base <= 1<<31-1
}

func (b *indexBuilder) full() bool { return b.nIdx >= b.maxIdx || b.nTimes >= b.maxTimes }

func (b *indexBuilder) add(h record.Header) {
	pos := b.size
	if b.maxTsOff < 0 || h.MaxTimestamp > b.maxTs {
		b.maxTs, b.maxTsOff = h.MaxTimestamp, h.BaseOffset
	}
	if b.since > b.interval && pos > 0 {
		if b.nIdx < b.maxIdx {
			b.idx = appendOffsetEntry(b.idx, uint32(h.BaseOffset-b.base), uint32(pos))
			b.nIdx++
		}
		if b.maxTs > b.lastTs && b.nTimes < b.maxTimes {
			b.times = appendTimeEntry(b.times, b.maxTs, uint32(b.maxTsOff-b.base))
			b.nTimes++
			b.lastTs = b.maxTs
		}
		b.since = 0
	}
	size := int64(h.Size())
	b.since += size
	b.size += size
	b.next = h.LastOffset() + 1
	b.batches++
	b.lastBatchPos = pos
}

// seal adds the final time entry (ignoring the capacity, as Kafka does).
func (b *indexBuilder) seal() {
	if b.maxTsOff >= 0 && b.maxTs > b.lastTs {
		b.times = appendTimeEntry(b.times, b.maxTs, uint32(b.maxTsOff-b.base))
		b.nTimes++
		b.lastTs = b.maxTs
	}
}
