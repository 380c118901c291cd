package link

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-kafka/strait/internal/metadata"
	"github.com/strait-kafka/strait/internal/partition"
	"github.com/strait-kafka/strait/internal/record"
	"github.com/strait-kafka/strait/internal/storage"
)

// Regression tests of the runner's and fetcher's internals, with no source
// cluster: each is named after the defect it pins down.

// bareRunner is a runner with only what the code under test uses.
func bareRunner(t *testing.T, meta metadata.Store) *runner {
	t.Helper()
	lg := slog.New(slog.NewTextHandler(io.Discard, nil))
	m := &Manager{lg: lg, meta: meta, now: time.Now}
	m.metrics = newMetrics(m, nil)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return &runner{m: m, lg: lg, name: "l", id: "link-id", ctx: ctx, cancel: cancel,
		dialer: newSourceDialer(nil, 0, 0, dialHooks{}, lg),
		kick:   make(chan struct{}, 1), notify: make(chan struct{}, 1),
		problems: make(map[string]topicProblem), parts: make(map[partKey]*mpart)}
}

func testPartition(t *testing.T, topic string) *partition.Partition {
	t.Helper()
	mgr, err := partition.NewManager(partition.ManagerOptions{Dirs: []string{t.TempDir()},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mgr.Close() })
	pc := partition.Config{
		Storage: storage.Config{
			SegmentBytes: 1 << 20, SegmentMs: math.MaxInt64, RetentionMs: -1, RetentionBytes: -1,
			IndexIntervalBytes: 4096, SegmentIndexBytes: 1 << 20, FlushMessages: math.MaxInt64,
			FlushMs: math.MaxInt64, FileDeleteDelayMs: 60000,
		},
		MaxMessageBytes: 1 << 20, TimestampBeforeMaxMs: -1, TimestampAfterMaxMs: -1, MinInsyncReplicas: 1,
	}
	if err := mgr.Reconcile([]partition.Assignment{{Topic: topic, TopicID: uuid.New(), Config: pc}}); err != nil {
		t.Fatal(err)
	}
	return mgr.Get(topic, 0)
}

func testBatch(t *testing.T, base int64, n int) []byte {
	t.Helper()
	var recs []record.Record
	for i := 0; i < n; i++ {
		recs = append(recs, record.Record{Offset: base + int64(i), Timestamp: time.Now().UnixMilli(), Value: []byte("v")})
	}
	b, err := record.Build(record.Batch{BaseOffset: base, ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1, Records: recs})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A fetch response was applied against the log end at apply time, not the
// offset it was fetched at: after the partition was truncated while the
// fetch was in flight (another fetcher's epoch check, after a leader
// move), its batches were appended past a hole, the truncated range
// skipped for good.
func TestLinkRegressionStaleFetchResponseAppendedPastHole(t *testing.T) {
	r := bareRunner(t, nil)
	f := newFetcher(r, 1)
	p := testPartition(t, "m")
	mp := newMpart("m", 0, "src", uuid.New(), p, 0)
	for _, b := range [][]byte{testBatch(t, 0, 5), testBatch(t, 5, 5)} {
		if _, err := p.AppendVerbatim(b, -1); err != nil {
			t.Fatal(err)
		}
	}
	fetchOffset := p.Log().NextOffset() // 10: what the in-flight fetch asked for
	if err := p.TruncateTo(5); err != nil {
		t.Fatal(err)
	}
	rp := kmsg.NewFetchResponseTopicPartition()
	rp.HighWatermark, rp.LogStartOffset = 15, 0
	rp.RecordBatches = testBatch(t, 10, 5)
	if err := f.apply(mp, fetchOffset, &rp); err != nil {
		t.Fatalf("apply: %v", err)
	}
	if end := p.Log().NextOffset(); end != 5 {
		t.Fatalf("log end %d after a stale response, want 5 (offsets 5-9 skipped)", end)
	}
	// The next fetch, from the log end, is applied.
	rp.RecordBatches = testBatch(t, 5, 10)
	if err := f.apply(mp, 5, &rp); err != nil {
		t.Fatalf("apply: %v", err)
	}
	if end := p.Log().NextOffset(); end != 15 {
		t.Fatalf("log end %d, want 15", end)
	}
}

// flakyStore fails topic updates while fail is set.
type flakyStore struct {
	metadata.Store
	fail    atomic.Bool
	updates atomic.Int32
}

func (s *flakyStore) UpdateTopic(ctx context.Context, name string, fn func(*metadata.Topic) error) error {
	s.updates.Add(1)
	if s.fail.Load() {
		return errors.New("metadata store unavailable")
	}
	return s.Store.UpdateTopic(ctx, name, fn)
}

// A source problem that outlived the retry timeout was dropped before
// FAILED was persisted: when the store write failed, the mirror stayed
// ACTIVE with no problem, was fetched again, and its retry timeout started
// over.
func TestLinkRegressionFailedStateLostOnStoreError(t *testing.T) {
	mem := metadata.NewMemory("")
	t.Cleanup(func() { _ = mem.Close() })
	ctx := context.Background()
	if _, err := mem.CreateTopic(ctx, metadata.TopicSpec{Name: "m", Partitions: []metadata.Partition{{Replicas: []int32{1}, Leader: 1}},
		Mirror: &metadata.Mirror{Link: "l", LinkID: "link-id", SourceTopic: "src", State: StateActive}}); err != nil {
		t.Fatal(err)
	}
	store := &flakyStore{Store: mem}
	r := bareRunner(t, store)
	r.s.retryTimeout = time.Minute
	since := time.Now().Add(-2 * time.Minute)
	r.problems["m"] = topicProblem{code: "SOURCE_TOPIC_ID_CHANGED", message: "recreated", since: since}

	store.fail.Store(true)
	r.failExpiredProblems()
	if store.updates.Load() == 0 {
		t.Fatal("FAILED was not written")
	}
	r.mu.Lock()
	p, kept := r.problems["m"]
	r.mu.Unlock()
	if !kept || p.since != since {
		t.Fatalf("problem after a failed write: %+v (kept %v); want it kept as it was", p, kept)
	}
	store.fail.Store(false)
	r.failExpiredProblems()
	tp, _ := mem.Topic("m")
	if tp.Mirror.State != StateFailed || tp.Mirror.Error != "SOURCE_TOPIC_ID_CHANGED" {
		t.Fatalf("mirror %s (%s), want FAILED", tp.Mirror.State, tp.Mirror.Error)
	}
}
