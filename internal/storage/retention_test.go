package storage

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/strait-kafka/strait/internal/testutil"
)

// groups appends count batches per group, advancing the clock by step
// between groups; with segment.ms <= step every group gets its own segment.
// Record timestamps follow the clock.
func (h *harness) groups(n, count int, step time.Duration) [][]meta {
	h.t.Helper()
	var out [][]meta
	for g := 0; g < n; g++ {
		if g > 0 {
			h.clock.Advance(step)
		}
		out = append(out, h.fill(count, h.clock.Now().UnixMilli(), 0))
	}
	return out
}

func flatten(gs [][]meta) []meta {
	var out []meta
	for _, g := range gs {
		out = append(out, g...)
	}
	return out
}

func TestStorageRetentionTime(t *testing.T) {
	cfg := testConfig()
	cfg.SegmentBytes = 1 << 20
	cfg.SegmentMs = (10 * time.Minute).Milliseconds()
	cfg.RetentionMs = time.Hour.Milliseconds()
	h := newHarness(t, cfg)
	t0 := h.clock.Now()
	gs := h.groups(4, 5, 10*time.Minute) // segments at t0, +10m, +20m, +30m (active)
	if n := len(h.l.Segments()); n != 4 {
		t.Fatalf("%d segments, want 4", n)
	}

	h.clock.Advance(t0.Add(75 * time.Minute).Sub(h.clock.Now())) // cutoff t0+15m
	deleted, err := h.l.EnforceRetention()
	if err != nil {
		t.Fatal(err)
	}
	if deleted != 2 {
		t.Fatalf("deleted %d segments, want 2", deleted)
	}
	if got, want := h.l.StartOffset(), gs[2][0].base; got != want {
		t.Fatalf("start offset %d, want %d", got, want)
	}
	if n := h.logs.count("reason=retention.ms"); n != 2 {
		t.Fatalf("%d deletion log lines, want 2:\n%s", n, h.logs)
	}
	checkReads(t, h.l, flatten(gs[2:]))

	// Everything expires; the active segment rolls first so the log keeps an
	// empty segment at its end.
	next := h.l.NextOffset()
	h.clock.Advance(2 * time.Hour)
	if _, err := h.l.EnforceRetention(); err != nil {
		t.Fatal(err)
	}
	segs := h.l.Segments()
	if len(segs) != 1 || segs[0].Size != 0 || segs[0].BaseOffset != next || h.l.StartOffset() != next || h.l.NextOffset() != next {
		t.Fatalf("after full expiry: segments %+v start %d next %d", segs, h.l.StartOffset(), h.l.NextOffset())
	}
	h.reopen()
	if h.l.StartOffset() != next || h.l.NextOffset() != next {
		t.Fatalf("after reopen: start %d next %d, want %d", h.l.StartOffset(), h.l.NextOffset(), next)
	}
	more := h.fill(3, h.clock.Now().UnixMilli(), 0)
	checkReads(t, h.l, more)
}

func TestStorageRetentionActiveSegmentExpired(t *testing.T) {
	cfg := testConfig()
	cfg.SegmentBytes = 1 << 20
	cfg.RetentionMs = 1000
	h := newHarness(t, cfg)
	h.fill(5, h.clock.Now().UnixMilli(), 0)
	h.clock.Advance(time.Second)
	if n, err := h.l.EnforceRetention(); err != nil || n != 0 {
		t.Fatalf("deleted %d (%v) before retention.ms passed", n, err)
	}
	h.clock.Advance(time.Second)
	if n, err := h.l.EnforceRetention(); err != nil || n != 1 {
		t.Fatalf("deleted %d (%v), want the expired active segment", n, err)
	}
	if h.l.Size() != 0 || h.l.StartOffset() != h.l.NextOffset() {
		t.Fatalf("size %d start %d next %d", h.l.Size(), h.l.StartOffset(), h.l.NextOffset())
	}
}

func TestStorageRetentionBytes(t *testing.T) {
	cfg := testConfig()
	cfg.SegmentBytes = 1000
	h := newHarness(t, cfg)
	ms := h.fill(60, h.clock.Now().UnixMilli(), 0)
	before := h.l.Segments()
	cfg.RetentionBytes = 2500
	h.l.SetConfig(cfg)
	deleted, err := h.l.EnforceRetention()
	if err != nil {
		t.Fatal(err)
	}
	after := h.l.Segments()
	if deleted == 0 || len(after) != len(before)-deleted {
		t.Fatalf("deleted %d: %d -> %d segments", deleted, len(before), len(after))
	}
	size := h.l.Size()
	if size < cfg.RetentionBytes || size-after[0].Size >= cfg.RetentionBytes {
		t.Fatalf("size %d after retention.bytes=%d (oldest segment %d bytes)", size, cfg.RetentionBytes, after[0].Size)
	}
	if h.l.StartOffset() != after[0].BaseOffset {
		t.Fatalf("start %d, want %d", h.l.StartOffset(), after[0].BaseOffset)
	}
	if n := h.logs.count("reason=retention.bytes"); n != deleted {
		t.Fatalf("%d deletion log lines for %d deletions", n, deleted)
	}
	checkReads(t, h.l, ms)
	// A second pass has nothing to do.
	if n, err := h.l.EnforceRetention(); err != nil || n != 0 {
		t.Fatalf("second pass deleted %d (%v)", n, err)
	}
}

func TestStorageChunkSurvivesDeletion(t *testing.T) {
	t.Run("within the delay", func(t *testing.T) {
		cfg := testConfig()
		cfg.SegmentBytes = 1000
		h := newHarness(t, cfg)
		ms := h.fill(30, h.clock.Now().UnixMilli(), 0)
		c, err := h.l.Read(0, 1<<20, -1)
		if err != nil {
			t.Fatal(err)
		}
		want, err := ReadChunk(c)
		if err != nil {
			t.Fatal(err)
		}
		h.clock.Advance(8 * 24 * time.Hour) // past the default retention.ms
		if n, err := h.l.EnforceRetention(); err != nil || n == 0 {
			t.Fatalf("EnforceRetention: %d, %v", n, err)
		}
		if _, err := h.l.Read(0, 1, -1); !errors.Is(err, ErrOffsetOutOfRange) {
			t.Fatalf("read of deleted data: %v", err)
		}
		got, err := ReadChunk(c)
		c.Release()
		if err != nil {
			t.Fatalf("chunk of a deleted segment: %v", err)
		}
		if string(got) != string(want) || len(got) < len(ms[0].raw) {
			t.Fatal("chunk bytes changed after deletion")
		}
		if len(files(t, h.dir, ".log.deleted")) == 0 {
			t.Fatal("no *.deleted files while the delay runs")
		}
		// Close does not wait for file.delete.delay.ms.
		h.close()
		if left := files(t, h.dir, deletedSuffix); len(left) != 0 {
			t.Fatalf("Close left %v", left)
		}
		h.l = nil
	})
	t.Run("removed after the delay", func(t *testing.T) {
		cfg := testConfig()
		cfg.SegmentBytes = 1000
		cfg.FileDeleteDelayMs = 1
		h := newHarness(t, cfg)
		h.fill(30, h.clock.Now().UnixMilli(), 0)
		if err := h.l.SetStartOffset(h.l.NextOffset() - 1); err != nil {
			t.Fatal(err)
		}
		testutil.WaitFor(t, 10*time.Second, func() (bool, string) {
			left := files(t, h.dir, deletedSuffix)
			return len(left) == 0 && h.l.files.Stats().PendingDeletes == 0, fmt.Sprintf("deleted segments not removed: %v", left)
		})
		if logs := files(t, h.dir, ".log"); len(logs) != 1 {
			t.Fatalf("segment files left: %v", logs)
		}
	})
}

func TestStorageSetStartOffset(t *testing.T) {
	cfg := testConfig()
	cfg.SegmentBytes = 1000
	h := newHarness(t, cfg)
	ms := h.fill(50, h.clock.Now().UnixMilli(), 0)
	segs := h.l.Segments()
	mid := segs[2].BaseOffset + 1 // inside the third segment
	if err := h.l.SetStartOffset(mid); err != nil {
		t.Fatal(err)
	}
	if got := h.l.Segments(); got[0].BaseOffset != segs[2].BaseOffset {
		t.Fatalf("first segment %d, want %d", got[0].BaseOffset, segs[2].BaseOffset)
	}
	if n := h.logs.count("reason=\"log start offset\""); n != 2 {
		t.Fatalf("%d deletion log lines, want 2:\n%s", n, h.logs)
	}
	// Below the start offset is out of range although the bytes remain.
	if _, err := h.l.Read(mid-1, 1, -1); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("Read below start: %v", err)
	}
	checkReads(t, h.l, ms)
	if err := h.l.SetStartOffset(mid - 1); err != nil || h.l.StartOffset() != mid {
		t.Fatalf("SetStartOffset moved backwards: %v, start %d", err, h.l.StartOffset())
	}
	h.reopen()
	if h.l.StartOffset() != mid {
		t.Fatalf("start offset after reopen %d, want %d", h.l.StartOffset(), mid)
	}
	checkReads(t, h.l, ms)

	// Past the end: the log empties and continues there.
	beyond := h.l.NextOffset() + 100
	if err := h.l.SetStartOffset(beyond); err != nil {
		t.Fatal(err)
	}
	if h.l.StartOffset() != beyond || h.l.NextOffset() != beyond || h.l.Size() != 0 || len(h.l.Segments()) != 1 {
		t.Fatalf("start %d next %d size %d segments %d", h.l.StartOffset(), h.l.NextOffset(), h.l.Size(), len(h.l.Segments()))
	}
	if _, err := h.l.Append(mkBatch(t, beyond-1, 1, 0, 1, 0).raw); !errors.Is(err, ErrOutOfOrder) {
		t.Fatalf("append below the new start: %v", err)
	}
	h.reopen()
	if h.l.StartOffset() != beyond || h.l.NextOffset() != beyond {
		t.Fatalf("after reopen: start %d next %d", h.l.StartOffset(), h.l.NextOffset())
	}
	more := h.fill(5, h.clock.Now().UnixMilli(), 0)
	if more[0].base != beyond {
		t.Fatalf("appends continue at %d, want %d", more[0].base, beyond)
	}
	checkReads(t, h.l, more)

	// Exactly at the end, with an empty active segment already there.
	h2 := newHarness(t, cfg)
	if err := h2.l.SetStartOffset(0); err != nil || h2.l.StartOffset() != 0 {
		t.Fatal("no-op SetStartOffset failed")
	}
	if err := h2.l.SetStartOffset(7); err != nil {
		t.Fatal(err)
	}
	if err := h2.l.SetStartOffset(7); err != nil {
		t.Fatal(err)
	}
	if segs := h2.l.Segments(); len(segs) != 1 || segs[0].BaseOffset != 7 {
		t.Fatalf("segments %+v", segs)
	}
	if _, err := os.Stat(filepath.Join(h2.dir, startOffsetFile)); err != nil {
		t.Fatal(err)
	}
}
