package storage

import (
	"os"
	"path/filepath"
	"testing"
)

// TestStorageRecoveryDropsEmptiedOverlappingSegment: a segment file whose
// batches repeat offsets the previous segment already holds is cut to
// nothing by recovery; the empty segment left behind must not pull the log
// end back below data the log still has, or later appends would reuse those
// offsets.
func TestStorageRecoveryDropsEmptiedOverlappingSegment(t *testing.T) {
	h := newHarness(t, testConfig())
	var ms []meta
	for i := int64(0); i < 10; i++ {
		ms = append(ms, mkBatch(t, i*2, 2, 0, 1000+i, 1))
	}
	h.appendMetas(ms...)
	h.close()
	// A stray segment based at offset 10 holding batches 10..13 again.
	stray := filepath.Join(h.dir, segmentName(10)+logSuffix)
	data := append(append([]byte(nil), ms[5].raw...), ms[6].raw...)
	if err := os.WriteFile(stray, data, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(h.dir, cleanMarkerFile))

	h.open()
	if got, want := h.l.NextOffset(), ms[9].last+1; got != want {
		t.Fatalf("NextOffset %d after recovery, want %d (the end of the data kept)", got, want)
	}
	equalBatches(t, readAll(t, h.l), visible(ms, 0))
	more := mkBatch(t, ms[9].last+1, 2, 0, 2000, 1)
	h.appendMetas(more)
	checkReads(t, h.l, append(ms, more))
	h.reopen()
	checkReads(t, h.l, append(ms, more))
}
