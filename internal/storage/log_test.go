package storage

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strait-kafka/strait/internal/record"
)

func TestStorageAppendReadRoundTrip(t *testing.T) {
	h := newHarness(t, testConfig())
	ms := h.fill(300, 1_700_000_000_000, 1)
	if n := len(h.l.Segments()); n < 5 {
		t.Fatalf("only %d segments; the test wants many", n)
	}
	if got, want := h.l.NextOffset(), ms[len(ms)-1].last+1; got != want {
		t.Fatalf("NextOffset %d, want %d", got, want)
	}
	checkReads(t, h.l, ms)
	equalBatches(t, readAll(t, h.l), visible(ms, 0))

	// Segment bookkeeping agrees with the batches.
	var size int64
	segs := h.l.Segments()
	for i, s := range segs {
		size += s.Size
		if s.Size > h.cfg.SegmentBytes {
			t.Fatalf("segment %d has %d bytes, above segment.bytes", s.BaseOffset, s.Size)
		}
		if i > 0 && s.BaseOffset < segs[i-1].NextOffset {
			t.Fatalf("segment %d starts before the previous one ends (%d)", s.BaseOffset, segs[i-1].NextOffset)
		}
		name := filepath.Join(h.dir, segmentName(s.BaseOffset))
		for _, suffix := range []string{".log", ".index", ".timeindex"} {
			if _, err := os.Stat(name + suffix); err != nil {
				t.Fatalf("segment file: %v", err)
			}
		}
	}
	if size != h.l.Size() {
		t.Fatalf("Size %d, segments sum to %d", h.l.Size(), size)
	}

	// And all of it after a clean reopen, and appends continue.
	h.reopen()
	checkReads(t, h.l, ms)
	ms = append(ms, h.fill(20, 1_700_000_100_000, 2)...)
	checkReads(t, h.l, ms)
	if strings.Contains(h.logs.String(), "recovered log") {
		t.Fatalf("a clean reopen logged recovery work:\n%s", h.logs)
	}
}

func TestStorageAppendMultipleBatchesAcrossSegments(t *testing.T) {
	cfg := testConfig()
	cfg.SegmentBytes = 1024
	h := newHarness(t, cfg)
	var set []byte
	var ms []meta
	off := int64(0)
	for i := 0; i < 40; i++ {
		m := mkBatch(t, off, 2, 0, 1000+int64(i), 3)
		ms = append(ms, m)
		set = append(set, m.raw...)
		off = m.last + 1
	}
	info, err := h.l.Append(set)
	if err != nil {
		t.Fatal(err)
	}
	if info.FirstOffset != 0 || info.LastOffset != off-1 || info.Bytes != len(set) || info.MaxTimestamp != ms[39].maxTs {
		t.Fatalf("AppendInfo %+v", info)
	}
	if n := len(h.l.Segments()); n < 4 {
		t.Fatalf("one append of %d bytes made %d segments", len(set), n)
	}
	checkReads(t, h.l, ms)
}

func TestStorageReadBounds(t *testing.T) {
	h := newHarness(t, testConfig())
	var ms []meta
	for i := int64(0); i < 6; i++ {
		ms = append(ms, mkBatch(t, i*10, 10, 0, 100*i, 0))
	}
	h.appendMetas(ms...)
	size := func(from, to int) int32 { // bytes of ms[from:to]
		var n int
		for _, m := range ms[from:to] {
			n += len(m.raw)
		}
		return int32(n)
	}
	tests := []struct {
		name      string
		offset    int64
		maxBytes  int32
		maxOffset int64
		want      []int // indexes into ms
	}{
		{"first batch always whole", 0, 1, -1, []int{0}},
		{"zero maxBytes", 15, 0, -1, []int{1}},
		{"exactly two", 0, size(0, 2), -1, []int{0, 1}},
		{"just under three", 0, size(0, 3) - 1, -1, []int{0, 1}},
		{"middle of a batch", 27, size(2, 4), -1, []int{2, 3}},
		{"middle of a batch, one byte short", 27, size(2, 4) - 1, -1, []int{2}},
		{"maxOffset stops before a batch starting at it", 0, 1 << 20, 30, []int{0, 1, 2}},
		{"maxOffset inside a batch keeps it", 0, 1 << 20, 31, []int{0, 1, 2, 3}},
		{"maxOffset at the first batch", 30, 1 << 20, 30, nil},
		{"everything", 0, 1 << 20, -1, []int{0, 1, 2, 3, 4, 5}},
		{"last batch", 59, 1 << 20, -1, []int{5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := h.l.Read(tt.offset, tt.maxBytes, tt.maxOffset)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ReadChunk(c)
			c.Release()
			if err != nil {
				t.Fatal(err)
			}
			var want []byte
			for _, i := range tt.want {
				want = append(want, ms[i].raw...)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("got %d bytes, want batches %v (%d bytes)", len(got), tt.want, len(want))
			}
		})
	}
}

func TestStorageAppendRejects(t *testing.T) {
	good := mkBatch(t, 10, 5, 0, 1, 0)
	tests := []struct {
		name  string
		input []byte
		want  error
	}{
		{"below the log end", mkBatch(t, 12, 1, 0, 1, 0).raw, ErrOutOfOrder},
		{"equal to the previous last offset", mkBatch(t, 14, 1, 0, 1, 0).raw, ErrOutOfOrder},
		{"batches out of order within one call", append(mkBatch(t, 20, 5, 0, 1, 0).raw, mkBatch(t, 22, 1, 0, 1, 0).raw...), ErrOutOfOrder},
		{"torn batch", good.raw[:len(good.raw)-1], record.ErrShort},
		{"garbage", bytes.Repeat([]byte{0xff}, 100), record.ErrMagic},
		{"valid batch then garbage", append(mkBatch(t, 30, 1, 0, 1, 0).raw, 0, 0, 0), record.ErrShort},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, testConfig())
			h.appendMetas(good)
			before := h.l.Size()
			if _, err := h.l.Append(tt.input); !errors.Is(err, tt.want) {
				t.Fatalf("Append: %v, want %v", err, tt.want)
			}
			if h.l.Size() != before || h.l.NextOffset() != 15 {
				t.Fatalf("a rejected append changed the log: size %d->%d, next %d", before, h.l.Size(), h.l.NextOffset())
			}
			checkReads(t, h.l, []meta{good})
		})
	}
	t.Run("empty input is a no-op", func(t *testing.T) {
		h := newHarness(t, testConfig())
		info, err := h.l.Append(nil)
		if err != nil || info.FirstOffset != -1 || h.l.NextOffset() != 0 {
			t.Fatalf("Append(nil) = %+v, %v", info, err)
		}
	})
	t.Run("gap at the start is legal", func(t *testing.T) {
		h := newHarness(t, testConfig())
		m := mkBatch(t, 1000, 2, 0, 1, 0)
		h.appendMetas(m)
		if h.l.NextOffset() != 1002 || h.l.StartOffset() != 0 {
			t.Fatalf("start %d next %d", h.l.StartOffset(), h.l.NextOffset())
		}
		checkReads(t, h.l, []meta{m})
	})
}

func TestStorageRoll(t *testing.T) {
	t.Run("by size", func(t *testing.T) {
		cfg := testConfig()
		cfg.SegmentBytes = 1000
		h := newHarness(t, cfg)
		ms := h.fill(30, 1, 0)
		segs := h.l.Segments()
		for i, s := range segs[:len(segs)-1] {
			if s.Size > 1000 {
				t.Fatalf("segment %d: %d bytes", i, s.Size)
			}
			if s.Size+int64(len(ms[0].raw)) <= 1000 && s.Size+400 < 1000 {
				t.Fatalf("segment %d rolled early at %d bytes", i, s.Size)
			}
		}
	})
	t.Run("by time", func(t *testing.T) {
		cfg := testConfig()
		cfg.SegmentMs = 60_000
		h := newHarness(t, cfg)
		h.fill(3, 1, 0)
		h.clock.Advance(59 * time.Second)
		h.fill(1, 1, 0)
		if n := len(h.l.Segments()); n != 1 {
			t.Fatalf("%d segments before segment.ms passed", n)
		}
		h.clock.Advance(time.Second)
		ms := h.fill(1, 1, 0)
		segs := h.l.Segments()
		if len(segs) != 2 || segs[1].BaseOffset != ms[0].base {
			t.Fatalf("segments %+v, want a roll at %d", segs, ms[0].base)
		}
	})
	t.Run("by time when idle, through EnforceRetention", func(t *testing.T) {
		cfg := testConfig()
		cfg.SegmentMs = 60_000
		h := newHarness(t, cfg)
		h.fill(3, h.clock.Now().UnixMilli(), 0)
		if _, err := h.l.EnforceRetention(); err != nil {
			t.Fatal(err)
		}
		if n := len(h.l.Segments()); n != 1 {
			t.Fatalf("rolled before segment.ms: %d segments", n)
		}
		h.clock.Advance(time.Minute)
		if _, err := h.l.EnforceRetention(); err != nil {
			t.Fatal(err)
		}
		segs := h.l.Segments()
		if len(segs) != 2 || segs[1].Size != 0 || segs[1].BaseOffset != h.l.NextOffset() {
			t.Fatalf("segments %+v, want a new empty active segment", segs)
		}
		// An empty active segment does not roll again.
		h.clock.Advance(time.Hour)
		if _, err := h.l.EnforceRetention(); err != nil || len(h.l.Segments()) != 2 {
			t.Fatalf("empty segment rolled: %v, %d segments", err, len(h.l.Segments()))
		}
	})
	t.Run("index full", func(t *testing.T) {
		cfg := testConfig()
		cfg.SegmentBytes = 1 << 20
		cfg.IndexIntervalBytes = 0 // every batch after the first is indexed
		cfg.SegmentIndexBytes = 24 // 3 offset entries, 2 time entries
		h := newHarness(t, cfg)
		ms := h.fill(20, 1, 0)
		segs := h.l.Segments()
		if len(segs) < 5 {
			t.Fatalf("index.bytes=24 made only %d segments", len(segs))
		}
		checkReads(t, h.l, ms)
	})
	t.Run("relative offset overflow", func(t *testing.T) {
		h := newHarness(t, testConfig())
		a := mkBatch(t, 0, 2, 0, 1, 0)
		b := mkBatch(t, math.MaxInt32+10, 2, 0, 2, 0)
		h.appendMetas(a, b)
		segs := h.l.Segments()
		if len(segs) != 2 || segs[1].BaseOffset != b.base {
			t.Fatalf("segments %+v", segs)
		}
		checkReadsSparse(t, h.l, []meta{a, b}, []int64{0, 1, 2, 1000, b.base - 1, b.base, b.base + 1})
		h.reopen()
		checkReadsSparse(t, h.l, []meta{a, b}, []int64{0, 1, 2, b.base, b.base + 1})
	})
	t.Run("relative offset overflow from an empty segment", func(t *testing.T) {
		cfg := testConfig()
		h := newHarness(t, cfg)
		b := mkBatch(t, 3_000_000_000, 2, 0, h.clock.Now().UnixMilli(), 0)
		h.appendMetas(b)
		segs := h.l.Segments()
		if len(segs) != 2 || segs[0].Size != 0 || segs[1].BaseOffset != b.base {
			t.Fatalf("segments %+v", segs)
		}
		checkReadsSparse(t, h.l, []meta{b}, []int64{0, 5, b.base, b.base + 1})
		// The empty segment left behind does not block retention.
		cfg.RetentionBytes = segs[1].Size
		h.l.SetConfig(cfg)
		if n, err := h.l.EnforceRetention(); err != nil || n != 1 {
			t.Fatalf("EnforceRetention: %d, %v", n, err)
		}
		if h.l.StartOffset() != b.base || len(h.l.Segments()) != 1 {
			t.Fatalf("start %d, %d segments", h.l.StartOffset(), len(h.l.Segments()))
		}
	})
}

// checkReadsSparse is checkReads for chosen offsets only.
func checkReadsSparse(t *testing.T, l *Log, ms []meta, offsets []int64) {
	t.Helper()
	for _, off := range offsets {
		c, err := l.Read(off, 1, -1)
		if err != nil {
			t.Fatalf("Read(%d): %v", off, err)
		}
		got, err := ReadChunk(c)
		c.Release()
		if err != nil {
			t.Fatal(err)
		}
		want, _ := expectAt(ms, off)
		if !bytes.Equal(got, want.raw) {
			t.Fatalf("Read(%d) returned the wrong batch", off)
		}
	}
}

func TestStorageSetConfigLive(t *testing.T) {
	h := newHarness(t, testConfig())
	h.fill(5, 1, 0)
	if len(h.l.Segments()) != 1 {
		t.Fatal("rolled too early")
	}
	cfg := h.cfg
	cfg.SegmentBytes = 100 // every batch is bigger: each append rolls
	h.l.SetConfig(cfg)
	h.fill(3, 1, 0)
	if n := len(h.l.Segments()); n != 4 {
		t.Fatalf("%d segments after shrinking segment.bytes, want 4", n)
	}
	bad := cfg
	bad.SegmentBytes = 0
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "segment.bytes=0") {
		t.Fatalf("Validate: %v", err)
	}
	h.l.SetConfig(bad) // clamped to the default, not a panic or a roll per byte
	h.fill(3, 1, 0)
	if n := len(h.l.Segments()); n != 4 {
		t.Fatalf("%d segments after a clamped config, want 4", n)
	}
	if _, err := Open(t.TempDir(), bad, Options{}); err == nil {
		t.Fatal("Open accepted segment.bytes=0")
	}
}

func TestStorageFlush(t *testing.T) {
	readRP := func(t *testing.T, h *harness) int64 {
		t.Helper()
		off, found, err := readOffsetFile(OS, h.dir, recoveryPointFile)
		if err != nil || !found {
			t.Fatalf("recovery point: %v, found %v", err, found)
		}
		return off
	}
	t.Run("flush.messages", func(t *testing.T) {
		cfg := testConfig()
		cfg.FlushMessages = 10
		h := newHarness(t, cfg)
		h.appendMetas(mkBatch(t, 0, 6, 0, 1, 0))
		if _, found, _ := readOffsetFile(OS, h.dir, recoveryPointFile); found {
			t.Fatal("flushed before flush.messages accumulated")
		}
		h.appendMetas(mkBatch(t, 6, 4, 0, 1, 0))
		if rp := readRP(t, h); rp != 10 {
			t.Fatalf("recovery point %d, want 10", rp)
		}
	})
	t.Run("flush.ms through EnforceRetention", func(t *testing.T) {
		cfg := testConfig()
		cfg.FlushMs = 1000
		h := newHarness(t, cfg)
		h.appendMetas(mkBatch(t, 0, 3, 0, h.clock.Now().UnixMilli(), 0))
		if _, err := h.l.EnforceRetention(); err != nil {
			t.Fatal(err)
		}
		if _, found, _ := readOffsetFile(OS, h.dir, recoveryPointFile); found {
			t.Fatal("flushed before flush.ms passed")
		}
		h.clock.Advance(time.Second)
		if _, err := h.l.EnforceRetention(); err != nil {
			t.Fatal(err)
		}
		if rp := readRP(t, h); rp != 3 {
			t.Fatalf("recovery point %d, want 3", rp)
		}
	})
	t.Run("explicit", func(t *testing.T) {
		h := newHarness(t, testConfig())
		h.fill(10, 1, 0)
		if err := h.l.Flush(); err != nil {
			t.Fatal(err)
		}
		if rp := readRP(t, h); rp != h.l.NextOffset() {
			t.Fatalf("recovery point %d, want %d", rp, h.l.NextOffset())
		}
	})
}

func TestStorageClosed(t *testing.T) {
	h := newHarness(t, testConfig())
	h.fill(3, 1, 0)
	h.close()
	l := h.l
	checks := map[string]error{}
	_, checks["Append"] = l.Append(mkBatch(t, 100, 1, 0, 1, 0).raw)
	_, checks["Read"] = l.Read(0, 100, -1)
	_, _, checks["FindTimestamp"] = l.FindTimestamp(0)
	_, _, checks["MaxTimestampBatch"] = l.MaxTimestampBatch()
	checks["SetStartOffset"] = l.SetStartOffset(1)
	checks["TruncateTo"] = l.TruncateTo(1)
	_, checks["EnforceRetention"] = l.EnforceRetention()
	checks["Flush"] = l.Flush()
	checks["ScanHeaders"] = l.ScanHeaders(0, func(record.Header) error { return nil })
	checks["Close"] = l.Close()
	for name, err := range checks {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
	if l.StartOffset() != 0 || l.NextOffset() != 0 || l.Size() != 0 || l.Segments() != nil || l.LatestEpoch() != -1 {
		t.Error("getters after Close must return zero values")
	}
	if e, o := l.EndOffsetForEpoch(0); e != -1 || o != -1 {
		t.Errorf("EndOffsetForEpoch after Close = %d, %d", e, o)
	}
	if _, err := os.Stat(filepath.Join(h.dir, cleanMarkerFile)); err != nil {
		t.Errorf("Close left no clean-shutdown marker: %v", err)
	}
	h.l = nil
}

func TestStorageCloseAndRename(t *testing.T) {
	h := newHarness(t, testConfig())
	ms := h.fill(3, 1, 0)
	dest := h.dir + ".deleting"
	if err := h.l.CloseAndRename(dest); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(h.dir); !os.IsNotExist(err) {
		t.Fatalf("directory still there: %v", err)
	}
	if _, err := h.l.Append(mkBatch(t, 10, 1, 0, 1, 0).raw); !errors.Is(err, ErrClosed) {
		t.Fatalf("Append after CloseAndRename: %v", err)
	}
	// Nothing was deleted: the renamed directory opens with every batch.
	l, err := Open(dest, h.cfg, h.options())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	equalBatches(t, readAll(t, l), visible(ms, 0))
	h.l = nil
}

func TestStorageScanHeaders(t *testing.T) {
	h := newHarness(t, testConfig())
	ms := h.fill(80, 1, 0)
	for _, from := range []int64{0, ms[10].base, ms[10].base + 1, ms[79].last, h.l.NextOffset()} {
		var got []int64
		if err := h.l.ScanHeaders(from, func(hd record.Header) error {
			got = append(got, hd.BaseOffset)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		var want []int64
		for _, m := range ms {
			if m.last >= from {
				want = append(want, m.base)
			}
		}
		if len(got) != len(want) {
			t.Fatalf("from %d: %d headers, want %d", from, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("from %d: header %d at %d, want %d", from, i, got[i], want[i])
			}
		}
	}
	stop := errors.New("stop")
	n := 0
	if err := h.l.ScanHeaders(0, func(record.Header) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Fatalf("ScanHeaders did not stop on the callback's error: %v after %d", err, n)
	}
}
