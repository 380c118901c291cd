package app

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-kafka/strait/internal/storage"
	"github.com/strait-kafka/strait/internal/storage/errorfs"
)

// TestAppDiskFullLeavesNoTraceAndResumes is the regression test for a
// CreateTopics that failed with KAFKA_STORAGE_ERROR but left its topic in
// the metadata. With the disk full, creating a topic or partitions fails
// with KAFKA_STORAGE_ERROR and the metadata has no trace of it, produce
// fails with KAFKA_STORAGE_ERROR and appends nothing, and everything works
// again, with nothing lost, once space returns.
func TestAppDiskFullLeavesNoTraceAndResumes(t *testing.T) {
	full := &errorfs.Full{Ops: errorfs.Of(errorfs.OpWrite, errorfs.OpCreate, errorfs.OpMkdir, errorfs.OpSync, errorfs.OpTruncate)}
	tb := &testBroker{t: t, dir: t.TempDir(), memory: true, fs: errorfs.Wrap(storage.OS, full),
		flags: map[string]string{"auto.create.topics.enable": "false"}}
	tb.start()
	t.Cleanup(tb.stop)
	cl := tb.client(kgo.RequestRetries(0), kgo.RecordRetries(0), kgo.ProducerLinger(0))
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	if _, err := adm.CreateTopic(ctx, 2, 1, nil, "before"); err != nil {
		t.Fatal(err)
	}
	r := kgo.StringRecord("kept")
	r.Topic = "before"
	r.Partition = 0
	pcl := tb.client(kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.RecordRetries(0), kgo.RequestRetries(0))
	if err := pcl.ProduceSync(ctx, r).FirstErr(); err != nil {
		t.Fatal(err)
	}

	full.Set(true)
	resp, err := adm.CreateTopic(ctx, 3, 1, nil, "during")
	if err == nil {
		err = resp.Err
	}
	if !errors.Is(err, kerr.KafkaStorageError) {
		t.Fatalf("CreateTopic on a full disk: %v, want KAFKA_STORAGE_ERROR", err)
	}
	if _, ok := tb.app.meta.Topic("during"); ok {
		t.Fatal("the failed topic is in the metadata")
	}
	cp, err := adm.CreatePartitions(ctx, 3, "before")
	if err == nil {
		err = cp["before"].Err
	}
	if !errors.Is(err, kerr.KafkaStorageError) {
		t.Fatalf("CreatePartitions on a full disk: %v, want KAFKA_STORAGE_ERROR", err)
	}
	if topic, _ := tb.app.meta.Topic("before"); len(topic.Partitions) != 2 {
		t.Fatalf("the failed partitions are in the metadata: %d partitions", len(topic.Partitions))
	}
	end := tb.app.mgr.Get("before", 0).Log().NextOffset()
	r2 := kgo.StringRecord("refused")
	r2.Topic, r2.Partition = "before", 0
	if err := pcl.ProduceSync(ctx, r2).FirstErr(); !errors.Is(err, kerr.KafkaStorageError) {
		t.Fatalf("produce on a full disk: %v, want KAFKA_STORAGE_ERROR", err)
	}
	if got := tb.app.mgr.Get("before", 0).Log().NextOffset(); got != end {
		t.Fatalf("log end moved from %d to %d on a full disk", end, got)
	}
	if full.Hits() == 0 {
		t.Fatal("the full disk was never hit")
	}

	full.Set(false)
	if _, err := adm.CreateTopic(ctx, 3, 1, nil, "during"); err != nil {
		t.Fatalf("CreateTopic once space returned: %v", err)
	}
	if err := pcl.ProduceSync(ctx, r2).FirstErr(); err != nil {
		t.Fatalf("produce once space returned: %v", err)
	}
	fetched := consumeN(t, tb.client(kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"before": {0: kgo.NewOffset().AtStart()}})), 2)
	if string(fetched[0].Value) != "kept" || string(fetched[1].Value) != "refused" {
		t.Fatalf("records %q, %q", fetched[0].Value, fetched[1].Value)
	}
}

func consumeN(t *testing.T, cl *kgo.Client, n int) []*kgo.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consumed %d of %d records: %v", len(out), n, err)
		}
		fs.EachRecord(func(r *kgo.Record) { out = append(out, r) })
	}
	return out
}
