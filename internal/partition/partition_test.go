package partition

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/strait-kafka/strait/internal/record"
	"github.com/strait-kafka/strait/internal/storage"
)

func testPartitionConfig() Config {
	c := Config{Storage: storage.DefaultConfig(), MaxMessageBytes: 1 << 20, TimestampBeforeMaxMs: -1, TimestampAfterMaxMs: -1, MinInsyncReplicas: 1}
	c.Storage.SegmentBytes = 2048
	return c
}

func openTest(t *testing.T, dir string) *Partition {
	t.Helper()
	lg := slog.New(slog.NewTextHandler(io.Discard, nil))
	p, err := open(dir, "t", 0, uuid.New(), 0, testPartitionConfig(), storage.Options{Logger: lg})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func idem(t *testing.T, pid int64, epoch int16, seq int32, n int) []byte {
	t.Helper()
	var recs []record.Record
	for i := 0; i < n; i++ {
		recs = append(recs, record.Record{Offset: int64(i), Timestamp: time.Now().UnixMilli(), Value: []byte(fmt.Sprint(seq, i))})
	}
	b, err := record.Build(record.Batch{ProducerID: pid, ProducerEpoch: epoch, BaseSequence: seq, Records: recs})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func codeOf(err error) int16 {
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Code
	}
	if err != nil {
		return -1
	}
	return 0
}

// TestPartitionIdempotenceSurvivesRestart: the last five batches of a
// producer stay duplicates after a clean close (snapshot) and after a crash
// (replay of the whole log), and sequence numbers wrap at MaxInt32.
func TestPartitionIdempotenceSurvivesRestart(t *testing.T) {
	for _, clean := range []bool{true, false} {
		t.Run(fmt.Sprintf("clean=%v", clean), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "t-0")
			p := openTest(t, dir)
			const pid = 42
			seq := int32(1<<31 - 4)
			var firsts []int64
			var seqs []int32
			for i := 0; i < 6; i++ {
				res, err := p.AppendAsLeader(idem(t, pid, 3, seq, 3), -1)
				if err != nil {
					t.Fatalf("batch %d: %v", i, err)
				}
				firsts, seqs = append(firsts, res.BaseOffset), append(seqs, seq)
				seq = int32((int64(seq) + 3) % (1 << 31))
			}
			if clean {
				if err := p.close(); err != nil {
					t.Fatal(err)
				}
			} else {
				// A crash: the files as they are, no snapshot, no marker.
				crashed := filepath.Join(t.TempDir(), "t-0")
				copyDir(t, dir, crashed)
				p.close()
				dir = crashed
			}
			p = openTest(t, dir)
			defer p.close()
			for i := 1; i < 6; i++ {
				res, err := p.AppendAsLeader(idem(t, pid, 3, seqs[i], 3), -1)
				if err != nil || !res.Duplicate || res.BaseOffset != firsts[i] {
					t.Fatalf("retry of batch %d: %+v %v; want a duplicate at %d", i, res, err, firsts[i])
				}
			}
			if _, err := p.AppendAsLeader(idem(t, pid, 3, seqs[0], 3), -1); codeOf(err) != kerr.OutOfOrderSequenceNumber.Code {
				t.Fatalf("retry of a batch older than the last five: %v", err)
			}
			if _, err := p.AppendAsLeader(idem(t, pid, 3, seq+1, 1), -1); codeOf(err) != kerr.OutOfOrderSequenceNumber.Code {
				t.Fatalf("gap after restart: %v", err)
			}
			if res, err := p.AppendAsLeader(idem(t, pid, 3, seq, 1), -1); err != nil || res.Duplicate {
				t.Fatalf("next in sequence after restart: %+v %v", res, err)
			}
			if _, err := p.AppendAsLeader(idem(t, pid, 2, 0, 1), -1); codeOf(err) != kerr.InvalidProducerEpoch.Code {
				t.Fatalf("older epoch after restart: %v", err)
			}
		})
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o755); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPartitionConcurrentAppendsReadsAndTrims runs producers, long-polling
// readers, DeleteRecords and retention against one partition at once (for
// -race): every acknowledged batch gets its own offsets, and readers never
// see an offset twice or out of order.
func TestPartitionConcurrentAppendsReadsAndTrims(t *testing.T) {
	p := openTest(t, filepath.Join(t.TempDir(), "t-0"))
	defer p.close()
	const producers, batches = 4, 60
	var wg sync.WaitGroup
	acked := make(chan int64, producers*batches)
	for pr := 0; pr < producers; pr++ {
		wg.Add(1)
		go func(pid int64) {
			defer wg.Done()
			seq := int32(0)
			for i := 0; i < batches; i++ {
				b := idem(t, pid, 0, seq, 1+i%3)
				res, err := p.AppendAsLeader(b, -1)
				if err != nil {
					t.Errorf("producer %d batch %d: %v", pid, i, err)
					return
				}
				if i%4 == 0 { // a retry
					dup, err := p.AppendAsLeader(idem(t, pid, 0, seq, 1+i%3), -1)
					if err != nil || !dup.Duplicate || dup.BaseOffset != res.BaseOffset {
						t.Errorf("retry: %+v %v, want duplicate at %d", dup, err, res.BaseOffset)
						return
					}
				}
				acked <- res.BaseOffset
				seq += int32(1 + i%3)
			}
		}(int64(pr + 1))
	}
	done := make(chan struct{})
	var rwg sync.WaitGroup
	for r := 0; r < 2; r++ {
		rwg.Add(1)
		go func() {
			defer rwg.Done()
			w := NewWaiter()
			p.AddWaiter(w)
			defer p.RemoveWaiter(w)
			next := int64(0)
			for {
				c, err := p.Log().Read(next, 4096, p.HighWatermark())
				if errors.Is(err, storage.ErrOffsetOutOfRange) {
					next = p.Log().StartOffset()
					continue
				}
				if err != nil {
					t.Errorf("read at %d: %v", next, err)
					return
				}
				if c.Len == 0 {
					select {
					case <-w.C:
						continue
					case <-done:
						return
					}
				}
				data, err := storage.ReadChunk(c)
				c.Release()
				if err != nil {
					t.Errorf("read chunk: %v", err)
					return
				}
				prevLast := int64(-1)
				for rest := data; len(rest) > 0; {
					_, r, h, err := record.Next(rest)
					if err != nil {
						t.Errorf("batch: %v", err)
						return
					}
					if h.LastOffset() < next || h.BaseOffset <= prevLast {
						t.Errorf("read at %d returned batch %d-%d after %d", next, h.BaseOffset, h.LastOffset(), prevLast)
						return
					}
					prevLast = h.LastOffset()
					rest = r
				}
				next = prevLast + 1
			}
		}()
	}
	trims := make(chan struct{})
	go func() {
		defer close(trims)
		for i := 0; i < 20; i++ {
			if off := p.HighWatermark() / 2; off > 0 {
				if err := p.SetStartOffset(off); err != nil {
					t.Errorf("set start offset: %v", err)
				}
			}
			if _, err := p.Log().EnforceRetention(); err != nil {
				t.Errorf("retention: %v", err)
			}
		}
	}()
	wg.Wait()
	<-trims
	close(done)
	rwg.Wait()
	close(acked)
	seen := map[int64]bool{}
	for off := range acked {
		if seen[off] {
			t.Fatalf("offset %d acknowledged twice", off)
		}
		seen[off] = true
	}
}
