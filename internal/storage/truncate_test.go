package storage

import (
	"errors"
	"testing"
)

// truncLog builds, across several segments: [0-4] e1, [5-9] e1, gap,
// [20-24] e2 (compacted: records 20, 22, 24), [25-29] e3, [30-34] e3.
func truncLog(t *testing.T) (*harness, []meta) {
	t.Helper()
	cfg := testConfig()
	cfg.SegmentBytes = 700
	h := newHarness(t, cfg)
	ms := []meta{
		mkBatch(t, 0, 5, 0, 100, 1),
		mkBatch(t, 5, 5, 0, 200, 1),
		mkBatch(t, 20, 3, 1, 300, 2),
		mkBatch(t, 25, 5, 0, 400, 3),
		mkBatch(t, 30, 5, 0, 500, 3),
	}
	h.appendMetas(ms...)
	if len(h.l.Segments()) < 3 {
		t.Fatalf("want several segments, got %d", len(h.l.Segments()))
	}
	return h, ms
}

func TestStorageTruncateTo(t *testing.T) {
	tests := []struct {
		name      string
		setStart  int64 // applied before truncating when > 0
		off       int64
		wantNext  int64
		wantStart int64
		keep      int // batches kept
		wantEpoch int32
	}{
		{"at a batch boundary", 0, 25, 25, 0, 3, 2},
		// The segment based at 20 keeps no batch: the end is its base.
		{"in the middle of a segment's first batch", 0, 22, 20, 0, 2, 1},
		{"in the middle of a later batch drops the whole batch", 0, 27, 25, 0, 3, 2},
		{"in a gap", 0, 15, 10, 0, 2, 1},
		{"at the first batch of a segment", 0, 30, 30, 0, 4, 3},
		{"inside the last batch", 0, 33, 30, 0, 4, 3},
		{"to zero", 0, 0, 0, 0, 0, -1},
		{"at the end is a no-op", 0, 35, 35, 0, 5, 3},
		{"past the end is a no-op", 0, 100, 35, 0, 5, 3},
		{"below the start offset lowers it", 7, 3, 3, 3, 0, -1},
		{"below every segment restarts the log", 30, 12, 12, 12, 0, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, ms := truncLog(t)
			if tt.setStart > 0 {
				if err := h.l.SetStartOffset(tt.setStart); err != nil {
					t.Fatal(err)
				}
			}
			if err := h.l.TruncateTo(tt.off); err != nil {
				t.Fatal(err)
			}
			check := func(stage string) {
				t.Helper()
				if got := h.l.NextOffset(); got != tt.wantNext {
					t.Fatalf("%s: NextOffset %d, want %d", stage, got, tt.wantNext)
				}
				if got := h.l.StartOffset(); got != tt.wantStart {
					t.Fatalf("%s: StartOffset %d, want %d", stage, got, tt.wantStart)
				}
				if got := h.l.LatestEpoch(); got != tt.wantEpoch {
					t.Fatalf("%s: LatestEpoch %d, want %d", stage, got, tt.wantEpoch)
				}
				equalBatches(t, readAll(t, h.l), visible(ms[:tt.keep], tt.wantStart))
				checkReads(t, h.l, ms[:tt.keep])
			}
			check("after truncation")
			h.reopen()
			check("after reopen")
			// Appends continue at the new end.
			m := mkBatch(t, h.l.NextOffset(), 2, 0, 900, 4)
			h.appendMetas(m)
			if got := h.l.LatestEpoch(); got != 4 {
				t.Fatalf("LatestEpoch after append %d", got)
			}
			if e, o := h.l.EndOffsetForEpoch(4); e != 4 || o != m.last+1 {
				t.Fatalf("EndOffsetForEpoch(4) = %d, %d", e, o)
			}
			kept := append(append([]meta(nil), ms[:tt.keep]...), m)
			checkReads(t, h.l, kept)
		})
	}
	t.Run("negative offset", func(t *testing.T) {
		h, _ := truncLog(t)
		if err := h.l.TruncateTo(-1); !errors.Is(err, ErrOffsetOutOfRange) {
			t.Fatalf("TruncateTo(-1): %v", err)
		}
	})
}

func TestStorageTruncateLowersRecoveryPoint(t *testing.T) {
	h, ms := truncLog(t)
	if err := h.l.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := h.l.TruncateTo(25); err != nil {
		t.Fatal(err)
	}
	rp, _, err := readOffsetFile(OS, h.dir, recoveryPointFile)
	if err != nil || rp != 25 {
		t.Fatalf("recovery point %d (%v), want 25", rp, err)
	}
	// Re-append different data over the truncated range, then crash: the new
	// batches must survive recovery.
	m := mkBatch(t, 25, 7, 0, 999, 5)
	h.appendMetas(m)
	crashDir := copyLogDir(t, h.dir)
	c := &harness{t: t, dir: crashDir, cfg: h.cfg, clock: h.clock, logs: &logSink{}}
	c.open()
	t.Cleanup(func() { c.l.Close() })
	equalBatches(t, readAll(t, c.l), visible(append(append([]meta(nil), ms[:3]...), m), 0))
}
