package storage

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"sync"
	"testing"

	"github.com/strait-kafka/strait/internal/record"
)

// TestStorageConcurrentReadsDuringAppends runs readers against one appender
// and a retention pass that keeps deleting old segments. Every chunk a reader
// gets must consist of whole, valid batches starting with the one that holds
// the offset asked for; run it with -race.
func TestStorageConcurrentReadsDuringAppends(t *testing.T) {
	cfg := testConfig()
	cfg.SegmentBytes = 2000
	cfg.IndexIntervalBytes = 200
	cfg.RetentionBytes = 30_000
	h := newHarness(t, cfg)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	fail := func(err error) {
		select {
		case errs <- err:
		default:
		}
		cancel()
	}

	const batches = 600
	wg.Add(1)
	go func() { // appender and retention
		defer wg.Done()
		defer cancel()
		off := int64(0)
		for i := 0; i < batches && ctx.Err() == nil; i++ {
			m := mkBatch(t, off, 1+i%5, i%3, h.clock.Now().UnixMilli()+int64(i), int32(i/100))
			if _, err := h.l.Append(m.raw); err != nil {
				fail(err)
				return
			}
			off = m.last + 1 + int64(i%4)
			if i%50 == 0 {
				if _, err := h.l.EnforceRetention(); err != nil {
					fail(err)
					return
				}
			}
		}
	}()

	for r := 0; r < 3; r++ {
		wg.Add(1)
		go func(seed int64) {
			defer wg.Done()
			rng := rand.New(rand.NewSource(seed))
			for ctx.Err() == nil {
				start, next := h.l.StartOffset(), h.l.NextOffset()
				if next == start {
					continue
				}
				off := start + rng.Int63n(next-start)
				if err := checkChunkAt(h.l, off, int32(rng.Intn(5000))); err != nil {
					fail(err)
					return
				}
				switch rng.Intn(4) {
				case 0:
					if _, _, err := h.l.FindTimestamp(h.clock.Now().UnixMilli() + rng.Int63n(batches)); err != nil {
						fail(err)
						return
					}
				case 1:
					if _, _, err := h.l.MaxTimestampBatch(); err != nil {
						fail(err)
						return
					}
				case 2:
					prev := int64(-1)
					if err := h.l.ScanHeaders(off, func(hd record.Header) error {
						if hd.BaseOffset <= prev {
							return fmt.Errorf("ScanHeaders out of order: %d after %d", hd.BaseOffset, prev)
						}
						prev = hd.LastOffset()
						return nil
					}); err != nil {
						fail(err)
						return
					}
				case 3:
					h.l.Segments()
					h.l.EndOffsetForEpoch(int32(rng.Intn(7)))
				}
			}
		}(int64(r))
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if h.l.NextOffset() == 0 {
		t.Fatal("nothing was appended")
	}
}

// checkChunkAt reads at off and validates the chunk.
func checkChunkAt(l *Log, off int64, maxBytes int32) error {
	c, err := l.Read(off, maxBytes, -1)
	if errors.Is(err, ErrOffsetOutOfRange) && off < l.StartOffset() {
		return nil // retention moved the start meanwhile
	}
	if err != nil {
		return fmt.Errorf("Read(%d): %w", off, err)
	}
	defer c.Release()
	data, err := ReadChunk(c)
	if err != nil {
		return fmt.Errorf("ReadChunk at %d: %w", off, err)
	}
	if len(data) == 0 {
		return nil // a gap at the end of the log
	}
	first := true
	for len(data) > 0 {
		b, rest, hd, err := record.Next(data)
		if err != nil {
			return fmt.Errorf("chunk at %d: %w", off, err)
		}
		if _, err := record.Validate(b); err != nil {
			return fmt.Errorf("chunk at %d: batch %d: %w", off, hd.BaseOffset, err)
		}
		if first && hd.LastOffset() < off {
			return fmt.Errorf("Read(%d) began with batch %d-%d", off, hd.BaseOffset, hd.LastOffset())
		}
		first = false
		data = rest
	}
	if int64(maxBytes) < c.Len && !singleBatch(c) {
		return fmt.Errorf("Read(%d, %d) returned %d bytes", off, maxBytes, c.Len)
	}
	return nil
}

func singleBatch(c Chunk) bool {
	data, err := ReadChunk(c)
	if err != nil {
		return false
	}
	_, rest, _, err := record.Next(data)
	return err == nil && len(rest) == 0
}
