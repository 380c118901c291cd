package storage

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/strait-kafka/strait/internal/record"
)

// fakeClock is the injected clock of the tests.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.UnixMilli(1_700_000_000_000)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// logSink collects log output so tests can assert on it.
type logSink struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *logSink) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *logSink) count(substr string) int { return strings.Count(s.String(), substr) }

// harness owns one Log in a temporary directory.
type harness struct {
	t     *testing.T
	dir   string
	cfg   Config
	clock *fakeClock
	logs  *logSink
	l     *Log
}

func testConfig() Config {
	c := DefaultConfig()
	c.SegmentBytes = 4096
	c.IndexIntervalBytes = 256
	return c
}

func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	h := &harness{t: t, dir: filepath.Join(t.TempDir(), "topic-0"), cfg: cfg, clock: newFakeClock(), logs: &logSink{}}
	h.open()
	t.Cleanup(func() {
		if h.l != nil {
			if err := h.l.Close(); err != nil && !errors.Is(err, ErrClosed) {
				t.Errorf("Close: %v", err)
			}
		}
	})
	return h
}

func (h *harness) options() Options {
	return Options{
		Logger: slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:    h.clock.Now,
	}
}

func (h *harness) open() {
	h.t.Helper()
	l, err := Open(h.dir, h.cfg, h.options())
	if err != nil {
		h.t.Fatalf("Open: %v", err)
	}
	h.l = l
}

func (h *harness) close() {
	h.t.Helper()
	if err := h.l.Close(); err != nil {
		h.t.Fatalf("Close: %v", err)
	}
}

func (h *harness) reopen() {
	h.t.Helper()
	h.close()
	h.open()
}

// meta describes an appended batch.
type meta struct {
	base, last int64
	maxTs      int64
	epoch      int32
	raw        []byte
}

// mkBatch builds a batch of n records at base (n > 0) with timestamps ts,
// ts+1, ...; gap > 0 leaves that many offsets unused after each record (a
// compacted batch).
func mkBatch(t testing.TB, base int64, n, gap int, ts int64, epoch int32) meta {
	t.Helper()
	b := record.Batch{BaseOffset: base, PartitionLeaderEpoch: epoch, ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1}
	off := base
	for i := 0; i < n; i++ {
		b.Records = append(b.Records, record.Record{
			Offset: off, Timestamp: ts + int64(i),
			Key: []byte(fmt.Sprintf("k%d", off)), Value: bytes.Repeat([]byte{byte('a' + off%26)}, 40),
		})
		off += int64(1 + gap)
	}
	raw, err := record.Build(b)
	if err != nil {
		t.Fatal(err)
	}
	hd, err := record.ParseHeader(raw)
	if err != nil {
		t.Fatal(err)
	}
	return meta{base: base, last: hd.LastOffset(), maxTs: hd.MaxTimestamp, epoch: epoch, raw: raw}
}

// appendMetas appends each batch in its own call.
func (h *harness) appendMetas(ms ...meta) {
	h.t.Helper()
	for _, m := range ms {
		if _, err := h.l.Append(m.raw); err != nil {
			h.t.Fatalf("Append batch at %d: %v", m.base, err)
		}
	}
}

// fill appends count batches of 1-4 records from NextOffset on; every
// seventh batch leaves a gap before it and every fifth is compacted.
func (h *harness) fill(count int, ts int64, epoch int32) []meta {
	h.t.Helper()
	var out []meta
	off := h.l.NextOffset()
	for i := 0; i < count; i++ {
		if i%7 == 6 {
			off += 3
		}
		gap := 0
		if i%5 == 4 {
			gap = 2
		}
		m := mkBatch(h.t, off, 1+i%4, gap, ts+int64(i)*10, epoch)
		h.appendMetas(m)
		out = append(out, m)
		off = m.last + 1
	}
	return out
}

// expectAt returns the batch a read at offset must start with.
func expectAt(ms []meta, offset int64) (meta, bool) {
	for _, m := range ms {
		if m.last >= offset {
			return m, true
		}
	}
	return meta{}, false
}

// checkReads reads every offset in [StartOffset, NextOffset) and checks the
// first batch of each chunk against ms, plus the boundaries.
func checkReads(t *testing.T, l *Log, ms []meta) {
	t.Helper()
	start, next := l.StartOffset(), l.NextOffset()
	for off := start; off < next; off++ {
		c, err := l.Read(off, 1, -1)
		if err != nil {
			t.Fatalf("Read(%d): %v", off, err)
		}
		want, ok := expectAt(ms, off)
		if !ok {
			if c.Len != 0 {
				t.Fatalf("Read(%d) in the end gap returned %d bytes", off, c.Len)
			}
			continue
		}
		got, err := ReadChunk(c)
		c.Release()
		if err != nil {
			t.Fatalf("ReadChunk at %d: %v", off, err)
		}
		if !bytes.Equal(got, want.raw) {
			hd, _ := record.ParseHeader(got)
			t.Fatalf("Read(%d): got batch at %d (%d bytes), want batch at %d", off, hd.BaseOffset, len(got), want.base)
		}
	}
	if c, err := l.Read(next, 1<<20, -1); err != nil || c.Len != 0 {
		t.Fatalf("Read(next=%d) = %+v, %v; want empty", next, c, err)
	}
	if _, err := l.Read(next+1, 1<<20, -1); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("Read(next+1): %v, want ErrOffsetOutOfRange", err)
	}
	if start > 0 {
		if _, err := l.Read(start-1, 1<<20, -1); !errors.Is(err, ErrOffsetOutOfRange) {
			t.Fatalf("Read(start-1): %v, want ErrOffsetOutOfRange", err)
		}
	}
}

// readAll reads the whole log with large reads and returns its batches.
func readAll(t *testing.T, l *Log) [][]byte {
	t.Helper()
	var out [][]byte
	for off := l.StartOffset(); off < l.NextOffset(); {
		c, err := l.Read(off, 1<<20, -1)
		if err != nil {
			t.Fatalf("Read(%d): %v", off, err)
		}
		if c.Len == 0 {
			break
		}
		data, err := ReadChunk(c)
		c.Release()
		if err != nil {
			t.Fatal(err)
		}
		for len(data) > 0 {
			b, rest, hd, err := record.Next(data)
			if err != nil {
				t.Fatalf("chunk at %d: %v", off, err)
			}
			if _, err := record.Validate(b); err != nil {
				t.Fatalf("batch at %d: %v", hd.BaseOffset, err)
			}
			out = append(out, b)
			off = hd.LastOffset() + 1
			data = rest
		}
	}
	return out
}

// visible returns the batches of ms a reader can see from start on.
func visible(ms []meta, start int64) [][]byte {
	var out [][]byte
	for _, m := range ms {
		if m.last >= start {
			out = append(out, m.raw)
		}
	}
	return out
}

func equalBatches(t *testing.T, got, want [][]byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d batches, want %d", len(got), len(want))
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i]) {
			a, _ := record.ParseHeader(got[i])
			b, _ := record.ParseHeader(want[i])
			t.Fatalf("batch %d: got base %d, want base %d", i, a.BaseOffset, b.BaseOffset)
		}
	}
}

// files lists the directory's file names with suffix.
func files(t *testing.T, dir, suffix string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), suffix) {
			out = append(out, e.Name())
		}
	}
	return out
}
