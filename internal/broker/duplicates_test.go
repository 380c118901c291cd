package broker

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-kafka/strait/internal/config"
	"github.com/strait-kafka/strait/internal/group"
	"github.com/strait-kafka/strait/internal/metadata"
	"github.com/strait-kafka/strait/internal/partition"
	"github.com/strait-kafka/strait/internal/record"
)

// dupBroker is a broker over an in-memory store with topic "t" (two
// partitions), whose partition 0 holds 10 records of 1 KB.
func dupBroker(t *testing.T) *Broker {
	t.Helper()
	lg := slog.New(slog.NewTextHandler(io.Discard, nil))
	mgr, err := partition.NewManager(partition.ManagerOptions{Dirs: []string{t.TempDir()}, Logger: lg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mgr.Close() })
	cfg := config.DefaultBroker()
	groups := group.New(group.Options{Config: group.ConfigFromBroker(cfg), Partitions: mgr, Logger: lg})
	b, err := New(Options{Config: cfg, Meta: metadata.NewMemory(""), Partitions: mgr, Groups: groups, Logger: lg})
	if err != nil {
		t.Fatal(err)
	}
	b.SetAdvertised("127.0.0.1", 9092)
	if err := b.Reconcile(); err != nil {
		t.Fatal(err)
	}
	n, err := b.EnsureInternalTopic(context.Background(), group.Topic, 1, group.TopicConfigs())
	if err != nil {
		t.Fatal(err)
	}
	if err := groups.Load(n); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(groups.Close)
	ct := kmsg.NewPtrCreateTopicsRequest()
	ct.Version, ct.TimeoutMillis = 5, 5000
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = "t", 2, 1
	ct.Topics = append(ct.Topics, rt)
	resp := handle(t, b, ct).(*kmsg.CreateTopicsResponse)
	if resp.Topics[0].ErrorCode != 0 {
		t.Fatalf("create topic: %v", kerr.ErrorForCode(resp.Topics[0].ErrorCode))
	}
	pr := produceReq(0, batchOf(t, 10))
	if code := handle(t, b, pr).(*kmsg.ProduceResponse).Topics[0].Partitions[0].ErrorCode; code != 0 {
		t.Fatalf("produce: %v", kerr.ErrorForCode(code))
	}
	return b
}

func batchOf(t *testing.T, n int) []byte {
	t.Helper()
	var recs []record.Record
	for i := 0; i < n; i++ {
		recs = append(recs, record.Record{Offset: int64(i), Timestamp: 1000 + int64(i), Value: bytes.Repeat([]byte{'v'}, 1024)})
	}
	batch, err := record.Build(record.Batch{ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1, Records: recs})
	if err != nil {
		t.Fatal(err)
	}
	return batch
}

func produceReq(p int32, batches ...[]byte) *kmsg.ProduceRequest {
	req := kmsg.NewPtrProduceRequest()
	req.Version, req.Acks, req.TimeoutMillis = 9, -1, 5000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = "t"
	for _, batch := range batches {
		rp := kmsg.NewProduceRequestTopicPartition()
		rp.Partition, rp.Records = p, batch
		rt.Partitions = append(rt.Partitions, rp)
	}
	req.Topics = append(req.Topics, rt)
	return req
}

func handle(t *testing.T, b *Broker, req kmsg.Request) kmsg.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	reply, err := b.Handle(ctx, &Session{}, req)
	if err != nil {
		t.Fatalf("%s: %v", kmsg.NameForKey(req.Key()), err)
	}
	return reply.Msg
}

// TestBrokerFetchDuplicatePartitionAnsweredOnce is the regression test for
// "a Fetch that names one partition 20,000 times returns 295 MB": each
// mention was read and sent. Kafka reads the list into a map.
func TestBrokerFetchDuplicatePartitionAnsweredOnce(t *testing.T) {
	b := dupBroker(t)
	req := kmsg.NewPtrFetchRequest()
	req.Version, req.MaxBytes, req.SessionEpoch = 12, 1<<30, -1
	req.ReplicaID = -1
	const mentions = 20000
	for i := 0; i < mentions; i++ {
		// Half in one topic entry, half in another for the same topic.
		if i == 0 || i == mentions/2 {
			rt := kmsg.NewFetchRequestTopic()
			rt.Topic = "t"
			req.Topics = append(req.Topics, rt)
		}
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.Partition, rp.PartitionMaxBytes, rp.CurrentLeaderEpoch, rp.LastFetchedEpoch = 0, 1<<20, -1, -1
		rt := &req.Topics[len(req.Topics)-1]
		rt.Partitions = append(rt.Partitions, rp)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	reply, err := b.Handle(ctx, &Session{}, req)
	if err != nil {
		t.Fatal(err)
	}
	resp := reply.Msg.(*kmsg.FetchResponse)
	parts := 0
	for _, rt := range resp.Topics {
		parts += len(rt.Partitions)
	}
	var bytesOut int64
	for _, sp := range reply.Splices {
		bytesOut += sp.Chunk.Len
	}
	if len(resp.Topics) != 1 || parts != 1 || len(reply.Splices) != 1 {
		t.Fatalf("answered %d topics, %d partitions, %d record ranges (%d bytes); want each once",
			len(resp.Topics), parts, len(reply.Splices), bytesOut)
	}
	if bytesOut < 10*1024 || bytesOut > 20*1024 {
		t.Fatalf("sent %d record bytes, want the one batch", bytesOut)
	}
}

func TestBrokerListOffsetsDuplicatePartitionRefused(t *testing.T) {
	b := dupBroker(t)
	req := kmsg.NewPtrListOffsetsRequest()
	req.Version, req.ReplicaID = 7, -1
	for _, p := range []int32{0, 1, 0, 0} {
		rt := kmsg.NewListOffsetsRequestTopic()
		rt.Topic = "t"
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Partition, rp.Timestamp, rp.CurrentLeaderEpoch = p, -1, -1
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
	}
	resp := handle(t, b, req).(*kmsg.ListOffsetsResponse)
	got := map[int32][]int16{}
	for _, rt := range resp.Topics {
		for _, rp := range rt.Partitions {
			got[rp.Partition] = append(got[rp.Partition], rp.ErrorCode)
		}
	}
	if len(got[0]) != 1 || got[0][0] != kerr.InvalidRequest.Code {
		t.Errorf("partition 0 (named 3 times) answered %v, want INVALID_REQUEST once", got[0])
	}
	if len(got[1]) != 1 || got[1][0] != 0 {
		t.Errorf("partition 1 answered %v, want once without error", got[1])
	}
}

// TestBrokerProduceDuplicatePartitionAppendedOnce: as in Kafka, the last
// record set named for a partition is the one appended, and answered once.
func TestBrokerProduceDuplicatePartitionAppendedOnce(t *testing.T) {
	b := dupBroker(t)
	resp := handle(t, b, produceReq(1, batchOf(t, 2), batchOf(t, 3), batchOf(t, 5))).(*kmsg.ProduceResponse)
	if n := len(resp.Topics[0].Partitions); n != 1 {
		t.Fatalf("answered %d times, want once", n)
	}
	if p := b.parts.Get("t", 1); p == nil || p.HighWatermark() != 5 {
		t.Fatalf("partition 1 holds %d records, want the last batch's 5", p.HighWatermark())
	}
}

// TestBrokerDuplicatesAnsweredOnce: every other API that takes lists of
// topics, partitions, groups or resources answers each once.
func TestBrokerDuplicatesAnsweredOnce(t *testing.T) {
	b := dupBroker(t)
	const n = 1000
	count := func(resp kmsg.Response) int {
		switch r := resp.(type) {
		case *kmsg.MetadataResponse:
			return len(r.Topics)
		case *kmsg.OffsetForLeaderEpochResponse:
			return countParts(r.Topics, func(t kmsg.OffsetForLeaderEpochResponseTopic) int { return len(t.Partitions) })
		case *kmsg.DeleteRecordsResponse:
			return countParts(r.Topics, func(t kmsg.DeleteRecordsResponseTopic) int { return len(t.Partitions) })
		case *kmsg.DescribeConfigsResponse:
			return len(r.Resources)
		case *kmsg.OffsetCommitResponse:
			return countParts(r.Topics, func(t kmsg.OffsetCommitResponseTopic) int { return len(t.Partitions) })
		case *kmsg.OffsetFetchResponse:
			return countParts(r.Topics, func(t kmsg.OffsetFetchResponseTopic) int { return len(t.Partitions) })
		case *kmsg.DescribeGroupsResponse:
			return len(r.Groups)
		case *kmsg.DeleteGroupsResponse:
			return len(r.Groups)
		case *kmsg.OffsetDeleteResponse:
			return countParts(r.Topics, func(t kmsg.OffsetDeleteResponseTopic) int { return len(t.Partitions) })
		}
		t.Fatalf("unexpected %T", resp)
		return 0
	}
	// In order: OffsetCommit makes the group that OffsetDelete and
	// DeleteGroups then act on.
	for _, tc := range []struct {
		name string
		mk   func() kmsg.Request
	}{
		{"Metadata", func() kmsg.Request {
			r := kmsg.NewPtrMetadataRequest()
			r.Version = 12
			for i := 0; i < n; i++ {
				mt := kmsg.NewMetadataRequestTopic()
				mt.Topic = kmsg.StringPtr("t")
				r.Topics = append(r.Topics, mt)
			}
			return r
		}},
		{"OffsetForLeaderEpoch", func() kmsg.Request {
			r := kmsg.NewPtrOffsetForLeaderEpochRequest()
			r.Version, r.ReplicaID = 4, -1
			rt := kmsg.NewOffsetForLeaderEpochRequestTopic()
			rt.Topic = "t"
			for i := 0; i < n; i++ {
				rp := kmsg.NewOffsetForLeaderEpochRequestTopicPartition()
				rp.CurrentLeaderEpoch = -1
				rt.Partitions = append(rt.Partitions, rp)
			}
			r.Topics = append(r.Topics, rt)
			return r
		}},
		{"DeleteRecords", func() kmsg.Request {
			r := kmsg.NewPtrDeleteRecordsRequest()
			r.Version, r.TimeoutMillis = 2, 5000
			rt := kmsg.NewDeleteRecordsRequestTopic()
			rt.Topic = "t"
			for i := 0; i < n; i++ {
				rp := kmsg.NewDeleteRecordsRequestTopicPartition()
				rp.Offset = int64(i % 3)
				rt.Partitions = append(rt.Partitions, rp)
			}
			r.Topics = append(r.Topics, rt)
			return r
		}},
		{"DescribeConfigs", func() kmsg.Request {
			r := kmsg.NewPtrDescribeConfigsRequest()
			r.Version, r.IncludeSynonyms, r.IncludeDocumentation = 4, true, true
			for i := 0; i < n; i++ {
				rr := kmsg.NewDescribeConfigsRequestResource()
				rr.ResourceType, rr.ResourceName = kmsg.ConfigResourceTypeBroker, "1"
				r.Resources = append(r.Resources, rr)
			}
			return r
		}},
		{"OffsetCommit", func() kmsg.Request {
			r := kmsg.NewPtrOffsetCommitRequest()
			r.Version, r.Group, r.Generation = 8, "g", -1
			for i := 0; i < n; i++ {
				rt := kmsg.NewOffsetCommitRequestTopic()
				rt.Topic = "t"
				rp := kmsg.NewOffsetCommitRequestTopicPartition()
				rp.Offset = 1
				rt.Partitions = append(rt.Partitions, rp)
				r.Topics = append(r.Topics, rt)
			}
			return r
		}},
		{"OffsetFetch", func() kmsg.Request {
			r := kmsg.NewPtrOffsetFetchRequest()
			r.Version, r.Group = 7, "g"
			rt := kmsg.NewOffsetFetchRequestTopic()
			rt.Topic = "t"
			for i := 0; i < n; i++ {
				rt.Partitions = append(rt.Partitions, 0)
			}
			r.Topics = append(r.Topics, rt)
			return r
		}},
		{"DescribeGroups", func() kmsg.Request {
			r := kmsg.NewPtrDescribeGroupsRequest()
			r.Version = 5
			for i := 0; i < n; i++ {
				r.Groups = append(r.Groups, "g")
			}
			return r
		}},
		{"OffsetDelete", func() kmsg.Request {
			r := kmsg.NewPtrOffsetDeleteRequest()
			r.Group = "g"
			rt := kmsg.NewOffsetDeleteRequestTopic()
			rt.Topic = "t"
			for i := 0; i < n; i++ {
				rt.Partitions = append(rt.Partitions, kmsg.NewOffsetDeleteRequestTopicPartition())
			}
			r.Topics = append(r.Topics, rt)
			return r
		}},
		{"DeleteGroups", func() kmsg.Request {
			r := kmsg.NewPtrDeleteGroupsRequest()
			r.Version = 2
			for i := 0; i < n; i++ {
				r.Groups = append(r.Groups, "g")
			}
			return r
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := count(handle(t, b, tc.mk())); got != 1 {
				t.Fatalf("%d answers to %d mentions of one item, want 1", got, n)
			}
		})
	}
}

func countParts[T any](ts []T, n func(T) int) int {
	total := 0
	for _, t := range ts {
		total += n(t)
	}
	return total
}

// TestBrokerDuplicateAdminTargetsRefused: admin changes that name a topic
// or resource twice refuse it with INVALID_REQUEST, once, and change nothing.
func TestBrokerDuplicateAdminTargetsRefused(t *testing.T) {
	b := dupBroker(t)

	cp := kmsg.NewPtrCreatePartitionsRequest()
	cp.Version, cp.TimeoutMillis = 3, 5000
	for _, c := range []int32{3, 4} {
		rt := kmsg.NewCreatePartitionsRequestTopic()
		rt.Topic, rt.Count = "t", c
		cp.Topics = append(cp.Topics, rt)
	}
	cpr := handle(t, b, cp).(*kmsg.CreatePartitionsResponse)
	if len(cpr.Topics) != 1 || cpr.Topics[0].ErrorCode != kerr.InvalidRequest.Code {
		t.Errorf("CreatePartitions answered %+v, want INVALID_REQUEST once", cpr.Topics)
	}
	if tp, _ := b.meta.Topic("t"); len(tp.Partitions) != 2 {
		t.Errorf("topic has %d partitions after a refused CreatePartitions", len(tp.Partitions))
	}

	for _, v := range []int16{4, 6} {
		dt := kmsg.NewPtrDeleteTopicsRequest()
		dt.Version, dt.TimeoutMillis = v, 5000
		if v >= 6 {
			for range 2 {
				tt := kmsg.NewDeleteTopicsRequestTopic()
				tt.Topic = kmsg.StringPtr("t")
				dt.Topics = append(dt.Topics, tt)
			}
		} else {
			dt.TopicNames = []string{"t", "t"}
		}
		dtr := handle(t, b, dt).(*kmsg.DeleteTopicsResponse)
		if len(dtr.Topics) != 1 || dtr.Topics[0].ErrorCode != kerr.InvalidRequest.Code {
			t.Errorf("DeleteTopics v%d answered %+v, want INVALID_REQUEST once", v, dtr.Topics)
		}
		if _, ok := b.meta.Topic("t"); !ok {
			t.Fatalf("DeleteTopics v%d deleted a topic it refused", v)
		}
	}

	ac := kmsg.NewPtrAlterConfigsRequest()
	ac.Version = 2
	for _, v := range []string{"1000", "2000"} {
		rr := kmsg.NewAlterConfigsRequestResource()
		rr.ResourceType, rr.ResourceName = kmsg.ConfigResourceTypeTopic, "t"
		c := kmsg.NewAlterConfigsRequestResourceConfig()
		c.Name, c.Value = "retention.ms", kmsg.StringPtr(v)
		rr.Configs = append(rr.Configs, c)
		ac.Resources = append(ac.Resources, rr)
	}
	acr := handle(t, b, ac).(*kmsg.AlterConfigsResponse)
	if len(acr.Resources) != 1 || acr.Resources[0].ErrorCode != kerr.InvalidRequest.Code {
		t.Errorf("AlterConfigs answered %+v, want INVALID_REQUEST once", acr.Resources)
	}

	ic := kmsg.NewPtrIncrementalAlterConfigsRequest()
	ic.Version = 1
	for range 2 {
		rr := kmsg.NewIncrementalAlterConfigsRequestResource()
		rr.ResourceType, rr.ResourceName = kmsg.ConfigResourceTypeTopic, "t"
		c := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
		c.Name, c.Value = "retention.ms", kmsg.StringPtr("3000")
		rr.Configs = append(rr.Configs, c)
		ic.Resources = append(ic.Resources, rr)
	}
	icr := handle(t, b, ic).(*kmsg.IncrementalAlterConfigsResponse)
	if len(icr.Resources) != 1 || icr.Resources[0].ErrorCode != kerr.InvalidRequest.Code {
		t.Errorf("IncrementalAlterConfigs answered %+v, want INVALID_REQUEST once", icr.Resources)
	}
	if tp, _ := b.meta.Topic("t"); tp.Configs["retention.ms"] != "" {
		t.Errorf("a refused config change was applied: retention.ms=%s", tp.Configs["retention.ms"])
	}
}
