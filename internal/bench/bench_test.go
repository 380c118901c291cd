package bench

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// newCluster starts an in-process kfake cluster and returns its addresses.
func newCluster(t *testing.T, opts ...kfake.Opt) []string {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1)}, opts...)...)
	if err != nil {
		t.Fatalf("kfake: %v", err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()
}

// testContext bounds a test's runs, so that a bug shows up as a failure
// rather than a hung test binary.
func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func checkLatency(t *testing.T, h *Histogram, n int64) {
	t.Helper()
	if h.Count() != uint64(n) {
		t.Fatalf("latency count = %d, want %d", h.Count(), n)
	}
	qs := []time.Duration{h.Min(), h.Quantile(0.5), h.Quantile(0.95), h.Quantile(0.99), h.Quantile(0.999), h.Max()}
	if qs[len(qs)-1] <= 0 {
		t.Errorf("max latency %v, want > 0", qs[len(qs)-1])
	}
	for i := 1; i < len(qs); i++ {
		if qs[i] < qs[i-1] {
			t.Errorf("latency summary not ordered (min p50 p95 p99 p99.9 max): %v", qs)
		}
	}
}

func TestBenchProduceConsume(t *testing.T) {
	const n = 3000
	tests := []struct {
		name string
		edit func(*ProduceOptions)
	}{
		{"defaults", func(*ProduceOptions) {}},
		{"keys zstd leader acks", func(o *ProduceOptions) {
			o.KeySize = 16
			o.Compression = "zstd"
			o.Acks = AcksLeader
			o.Idempotent = false
			o.MaxInflight = 3
			o.Linger = 0
			o.BatchMaxBytes = 16 << 10
		}},
		{"no acks lz4", func(o *ProduceOptions) {
			o.Acks = AcksNone
			o.Idempotent = false
			o.Compression = "lz4"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			brokers := newCluster(t)
			po := DefaultProduceOptions()
			po.Brokers, po.Topic, po.Records, po.RecordSize = brokers, "bench", n, 100
			tt.edit(&po)

			pr, err := Produce(ctx, po)
			if err != nil {
				t.Fatalf("Produce: %v", err)
			}
			if pr.Sent != n || pr.Acked != n || pr.Errors != 0 || pr.Aborted != 0 {
				t.Fatalf("sent/acked/errors/aborted = %d/%d/%d/%d, want %d/%d/0/0",
					pr.Sent, pr.Acked, pr.Errors, pr.Aborted, n, n)
			}
			recBytes := int64(po.RecordSize + po.KeySize)
			if pr.Bytes != n*recBytes {
				t.Errorf("bytes = %d, want %d", pr.Bytes, n*recBytes)
			}
			if pr.Partitions != DefaultPartitions || !pr.Created || pr.Stopped != StopRecords {
				t.Errorf("partitions %d created %t stopped %q, want %d true %q",
					pr.Partitions, pr.Created, pr.Stopped, DefaultPartitions, StopRecords)
			}
			if pr.Elapsed <= 0 || pr.RecordsPerSec() <= 0 {
				t.Errorf("elapsed %v, %v records/s: want positive", pr.Elapsed, pr.RecordsPerSec())
			}
			checkLatency(t, pr.Latency, n)

			// With acks=0 the last records may still be on their way when
			// Produce returns, so the end offsets are no target; read by
			// count instead.
			co := DefaultConsumeOptions()
			co.Brokers, co.Topic = brokers, po.Topic
			if po.Acks == AcksNone {
				co.UntilEnd, co.Records = false, n
			}
			cr, err := Consume(ctx, co)
			if err != nil {
				t.Fatalf("Consume: %v", err)
			}
			if cr.Records != n || cr.Bytes != n*recBytes || cr.Errors != 0 {
				t.Fatalf("consumed records/bytes/errors = %d/%d/%d, want %d/%d/0",
					cr.Records, cr.Bytes, cr.Errors, n, n*recBytes)
			}
			wantStop := StopEnd
			if !co.UntilEnd {
				wantStop = StopRecords
			}
			if cr.Partitions != DefaultPartitions || cr.Stopped != wantStop {
				t.Errorf("partitions %d stopped %q, want %d %q", cr.Partitions, cr.Stopped, DefaultPartitions, wantStop)
			}
			if cr.FirstRecord <= 0 || cr.FirstRecord > cr.Elapsed {
				t.Errorf("first record after %v, elapsed %v: want 0 < first <= elapsed", cr.FirstRecord, cr.Elapsed)
			}

			// A record limit below the topic's size stops exactly there.
			co = DefaultConsumeOptions()
			co.Brokers, co.Topic, co.Records = brokers, po.Topic, n/3
			cr, err = Consume(ctx, co)
			if err != nil {
				t.Fatalf("Consume with a limit: %v", err)
			}
			if cr.Records != n/3 || cr.Stopped != StopRecords {
				t.Errorf("limited consume: %d records, stopped %q, want %d %q", cr.Records, cr.Stopped, n/3, StopRecords)
			}
		})
	}
}

func TestBenchTopic(t *testing.T) {
	ctx := testContext(t)
	brokers := newCluster(t, kfake.SeedTopics(2, "seeded"))

	po := DefaultProduceOptions()
	po.Brokers, po.Topic, po.Records, po.Partitions = brokers, "seeded", 10, 5
	pr, err := Produce(ctx, po)
	if err != nil {
		t.Fatalf("Produce to existing topic: %v", err)
	}
	if pr.Partitions != 2 || pr.Created || pr.Acked != 10 {
		t.Errorf("existing topic: partitions %d created %t acked %d, want 2 false 10", pr.Partitions, pr.Created, pr.Acked)
	}

	po.Topic, po.Partitions = "missing", 0
	if _, err := Produce(ctx, po); !errors.Is(err, ErrTopicNotFound) {
		t.Errorf("Produce to missing topic without creation: %v, want ErrTopicNotFound", err)
	}

	co := DefaultConsumeOptions()
	co.Brokers, co.Topic = brokers, "missing"
	if _, err := Consume(ctx, co); !errors.Is(err, ErrTopicNotFound) {
		t.Errorf("Consume of missing topic: %v, want ErrTopicNotFound", err)
	}
}

func TestBenchConsumeEmptyTopic(t *testing.T) {
	ctx := testContext(t)
	brokers := newCluster(t, kfake.SeedTopics(4, "empty"))
	co := DefaultConsumeOptions()
	co.Brokers, co.Topic = brokers, "empty"
	cr, err := Consume(ctx, co)
	if err != nil {
		t.Fatalf("Consume: %v", err)
	}
	if cr.Records != 0 || cr.Stopped != StopEnd || cr.Partitions != 4 || cr.FirstRecord != 0 {
		t.Errorf("records %d stopped %q partitions %d first %v, want 0 %q 4 0",
			cr.Records, cr.Stopped, cr.Partitions, cr.FirstRecord, StopEnd)
	}
}

// TestBenchProduceRate checks that pacing never lets send i out before
// i/rate (less the allowed millisecond of burst) after the start, and that
// a duration ends the run.
func TestBenchProduceRate(t *testing.T) {
	ctx := testContext(t)
	brokers := newCluster(t)
	po := DefaultProduceOptions()
	po.Brokers, po.Records, po.Duration, po.Rate = brokers, 0, 150*time.Millisecond, 2000

	before := time.Now()
	pr, err := Produce(ctx, po)
	wall := time.Since(before)
	if err != nil {
		t.Fatalf("Produce: %v", err)
	}
	if pr.Stopped != StopDuration {
		t.Errorf("stopped %q, want %q", pr.Stopped, StopDuration)
	}
	if pr.Sent < 1 || pr.Acked != pr.Sent {
		t.Errorf("sent %d acked %d: want at least one, all acked", pr.Sent, pr.Acked)
	}
	if limit := int64(po.Rate*(wall+time.Millisecond).Seconds()) + 1; pr.Sent > limit {
		t.Errorf("sent %d records in %v at %v/s, more than the %d pacing allows", pr.Sent, wall, po.Rate, limit)
	}
	checkLatency(t, pr.Latency, pr.Acked)
}

// TestBenchProduceInterrupted cancels a run that has no other limit once
// records flow, and checks that every sent record is accounted for.
func TestBenchProduceInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(testContext(t))
	defer cancel()
	brokers := newCluster(t)
	var acked atomic.Int64
	hook := produceHook(func(_ *kgo.Record, err error) {
		if err == nil && acked.Add(1) == 200 {
			cancel()
		}
	})
	po := DefaultProduceOptions()
	po.Brokers, po.Records, po.RecordSize = brokers, 0, 64
	po.ClientOpts = []kgo.Opt{kgo.WithHooks(hook)}

	pr, err := Produce(ctx, po)
	if err != nil {
		t.Fatalf("Produce: %v", err)
	}
	if pr.Stopped != StopInterrupted {
		t.Errorf("stopped %q, want %q", pr.Stopped, StopInterrupted)
	}
	if pr.Acked < 200 || pr.Errors != 0 || pr.Sent != pr.Acked+pr.Errors+pr.Aborted {
		t.Errorf("sent %d acked %d errors %d aborted %d: want >= 200 acked, no errors, sent = acked+errors+aborted",
			pr.Sent, pr.Acked, pr.Errors, pr.Aborted)
	}
	checkLatency(t, pr.Latency, pr.Acked)
}

func TestBenchConsumeInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(testContext(t))
	defer cancel()
	brokers := newCluster(t)
	po := DefaultProduceOptions()
	po.Brokers, po.Records, po.RecordSize = brokers, 500, 10
	if _, err := Produce(ctx, po); err != nil {
		t.Fatalf("Produce: %v", err)
	}

	hook := fetchHook(func(*kgo.Record, bool) { cancel() })
	co := DefaultConsumeOptions()
	co.Brokers, co.UntilEnd = brokers, false // no limit but the context
	co.ClientOpts = []kgo.Opt{kgo.WithHooks(hook)}
	cr, err := Consume(ctx, co)
	if err != nil {
		t.Fatalf("Consume: %v", err)
	}
	if cr.Stopped != StopInterrupted || cr.Records > 500 || cr.Errors != 0 {
		t.Errorf("stopped %q records %d errors %d, want %q, at most 500, no errors",
			cr.Stopped, cr.Records, cr.Errors, StopInterrupted)
	}
}

type produceHook func(*kgo.Record, error)

func (h produceHook) OnProduceRecordUnbuffered(r *kgo.Record, err error) { h(r, err) }

type fetchHook func(*kgo.Record, bool)

func (h fetchHook) OnFetchRecordUnbuffered(r *kgo.Record, polled bool) { h(r, polled) }

func TestBenchOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*ProduceOptions)
		key  string // the option the error must name
	}{
		{"no brokers", func(o *ProduceOptions) { o.Brokers = nil }, "bootstrap-server"},
		{"no topic", func(o *ProduceOptions) { o.Topic = "" }, "topic"},
		{"negative partitions", func(o *ProduceOptions) { o.Partitions = -1 }, "partitions"},
		{"zero replication", func(o *ProduceOptions) { o.ReplicationFactor = 0 }, "replication-factor"},
		{"negative records", func(o *ProduceOptions) { o.Records = -1 }, "records"},
		{"negative rate", func(o *ProduceOptions) { o.Rate = -1 }, "rate"},
		{"negative record size", func(o *ProduceOptions) { o.RecordSize = -1 }, "record-size"},
		{"bad acks", func(o *ProduceOptions) { o.Acks = "2" }, "acks"},
		{"bad compression", func(o *ProduceOptions) { o.Compression = "brotli" }, "compression"},
		{"idempotent without acks all", func(o *ProduceOptions) { o.Acks = AcksLeader }, "acks"},
		{"inflight with idempotence", func(o *ProduceOptions) { o.MaxInflight = 5 }, "max-inflight"},
	}
	if err := DefaultProduceOptions().Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := DefaultProduceOptions()
			tt.edit(&o)
			err := o.Validate()
			if !errors.Is(err, ErrInvalidOption) || !strings.Contains(err.Error(), tt.key+"=") {
				t.Errorf("Validate() = %v, want ErrInvalidOption naming %s", err, tt.key)
			}
			if _, err := Produce(t.Context(), o); !errors.Is(err, ErrInvalidOption) {
				t.Errorf("Produce with invalid options: %v, want ErrInvalidOption", err)
			}
		})
	}

	if err := DefaultConsumeOptions().Validate(); err != nil {
		t.Fatalf("consume defaults invalid: %v", err)
	}
	co := DefaultConsumeOptions()
	co.FetchMaxBytes = -1
	if err := co.Validate(); !errors.Is(err, ErrInvalidOption) || !strings.Contains(err.Error(), "fetch-max-bytes=") {
		t.Errorf("consume Validate() = %v, want ErrInvalidOption naming fetch-max-bytes", err)
	}
}
