package storage

import (
	"bytes"
	"testing"

	"github.com/strait-kafka/strait/internal/record"
)

// tsLog appends batches whose maximum timestamps go up and down, across
// several segments, with some indexes in between.
func tsLog(t *testing.T) (*harness, []meta) {
	t.Helper()
	cfg := testConfig()
	cfg.SegmentBytes = 900
	cfg.IndexIntervalBytes = 150
	h := newHarness(t, cfg)
	maxima := []int64{100, 300, 200, 500, 400, 900, 50, 900, 600, 700, 1200, 1100, 80, 1300, 10}
	var ms []meta
	off := int64(0)
	for i, ts := range maxima {
		n := 1 + i%3
		m := mkBatch(t, off, n, 0, ts-int64(n-1), 0) // max = ts
		if m.maxTs != ts {
			t.Fatalf("batch max %d, want %d", m.maxTs, ts)
		}
		ms = append(ms, m)
		off = m.last + 1 + int64(i%2) // some gaps
	}
	h.appendMetas(ms...)
	if len(h.l.Segments()) < 3 {
		t.Fatalf("%d segments", len(h.l.Segments()))
	}
	return h, ms
}

func TestStorageFindTimestamp(t *testing.T) {
	h, ms := tsLog(t)
	checkFindTimestamp(t, h.l, ms)
	h.reopen()
	checkFindTimestamp(t, h.l, ms)
	// From a start offset in the middle of a segment.
	if err := h.l.SetStartOffset(ms[6].base + 1); err != nil {
		t.Fatal(err)
	}
	checkFindTimestamp(t, h.l, ms)
	if _, ok, err := h.l.FindTimestamp(1301); ok || err != nil {
		t.Fatalf("FindTimestamp past every timestamp: ok %v, %v", ok, err)
	}
}

func TestStorageMaxTimestampBatch(t *testing.T) {
	h, ms := tsLog(t)
	check := func(stage string) {
		t.Helper()
		start := h.l.StartOffset()
		var want []byte
		best := int64(-1 << 62)
		for _, m := range ms {
			if m.last >= start && m.maxTs > best {
				best, want = m.maxTs, m.raw
			}
		}
		got, ok, err := h.l.MaxTimestampBatch()
		if err != nil || !ok {
			t.Fatalf("%s: MaxTimestampBatch: ok %v, %v", stage, ok, err)
		}
		if !bytes.Equal(got, want) {
			gh, _ := record.ParseHeader(got)
			wh, _ := record.ParseHeader(want)
			t.Fatalf("%s: batch at %d (max %d), want %d (max %d)", stage, gh.BaseOffset, gh.MaxTimestamp, wh.BaseOffset, wh.MaxTimestamp)
		}
	}
	check("live")
	h.reopen()
	check("reopened")
	// The earliest of two equal maxima: 900 at ms[5] and ms[7] before 1200 is
	// appended; start after 1300 to see the holder move back.
	if err := h.l.SetStartOffset(ms[13].last + 1); err != nil {
		t.Fatal(err)
	}
	check("start past the maximum")

	h2 := newHarness(t, testConfig())
	if _, ok, err := h2.l.MaxTimestampBatch(); ok || err != nil {
		t.Fatalf("empty log: ok %v, %v", ok, err)
	}
	a, b := mkBatch(t, 0, 1, 0, 500, 0), mkBatch(t, 1, 1, 0, 500, 0)
	h2.appendMetas(a, b)
	got, _, _ := h2.l.MaxTimestampBatch()
	if !bytes.Equal(got, a.raw) {
		t.Fatal("a tie must return the earliest batch")
	}
}

// TestStorageFindTimestampFrom: the search can begin past the start offset
// (ListOffsets continues after a batch whose qualifying records all lie
// below the log start), skipping earlier batches even when the time index
// would jump before them.
func TestStorageFindTimestampFrom(t *testing.T) {
	h, ms := tsLog(t)
	for _, from := range []int64{0, ms[3].base, ms[3].last + 1, ms[8].base + 1, ms[14].last, ms[14].last + 1, 1 << 40} {
		for _, ts := range []int64{0, 150, 500, 901, 1300} {
			var want []byte
			for _, m := range ms {
				if m.last >= from && m.maxTs >= ts {
					want = m.raw
					break
				}
			}
			got, ok, err := h.l.FindTimestampFrom(ts, from)
			if err != nil {
				t.Fatalf("FindTimestampFrom(%d, %d): %v", ts, from, err)
			}
			if ok != (want != nil) || !bytes.Equal(got, want) {
				gh, _ := record.ParseHeader(got)
				wh, _ := record.ParseHeader(want)
				t.Fatalf("FindTimestampFrom(%d, %d) = batch %d (ok %v), want batch %d", ts, from, gh.BaseOffset, ok, wh.BaseOffset)
			}
		}
	}
}
