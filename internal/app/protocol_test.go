package app

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-kafka/strait/internal/record"
)

// These are regression tests for protocol behaviour that differed from
// Kafka's; each names the rule it checks.

// TestBrokerAcksZeroProduceErrorClosesConnection: a producer with acks=0
// never reads a response, so Kafka closes the connection when one of its
// partitions failed; a successful acks=0 produce keeps it open.
func TestBrokerAcksZeroProduceErrorClosesConnection(t *testing.T) {
	tb := startBroker(t, true, map[string]string{"auto.create.topics.enable": "false"})
	c := tb.client()
	ctx := context.Background()
	if _, err := kadm.NewClient(c).CreateTopic(ctx, 1, 1, nil, "acks0-ok"); err != nil {
		t.Fatal(err)
	}
	produce := func(topic string) *kmsg.ProduceRequest {
		req := kmsg.NewPtrProduceRequest()
		req.Version = 7
		req.Acks = 0
		req.TimeoutMillis = 5000
		rt := kmsg.NewProduceRequestTopic()
		rt.Topic = topic
		rp := kmsg.NewProduceRequestTopicPartition()
		rp.Records = idemBatch(t, -1, -1, -1, 1)
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		return req
	}
	raw := dialRaw(t, tb.addr)
	raw.send((&kmsg.RequestFormatter{}).AppendRequest(nil, produce("acks0-ok"), 1))
	// Still open: the next request on it is answered.
	meta := kmsg.NewPtrMetadataRequest()
	meta.Version = 1
	if b := raw.request(meta, 2); len(b) < 4 || b[3] != 2 {
		t.Fatal("no answer after a successful acks=0 produce")
	}
	raw.send((&kmsg.RequestFormatter{}).AppendRequest(nil, produce("acks0-missing"), 3))
	raw.expectClosed()
}

// TestBrokerDeleteRecordsRefusals: DeleteRecords never touches internal
// topics (INVALID_TOPIC_EXCEPTION; the committed offsets live there) nor a
// topic whose cleanup.policy lacks "delete" (POLICY_VIOLATION).
func TestBrokerDeleteRecordsRefusals(t *testing.T) {
	tb := startBroker(t, true, nil)
	c := tb.client()
	ctx := context.Background()
	adm := kadm.NewClient(c)
	compact := "compact"
	if _, err := adm.CreateTopic(ctx, 1, 1, map[string]*string{"cleanup.policy": &compact}, "compacted"); err != nil {
		t.Fatal(err)
	}
	if err := c.ProduceSync(ctx, &kgo.Record{Topic: "compacted", Key: []byte("k"), Value: []byte("v")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		topic string
		want  error
	}{
		{"internal topic", "__consumer_offsets", kerr.InvalidTopicException},
		{"compacted topic", "compacted", kerr.PolicyViolation},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dels := kadm.Offsets{}
			dels.Add(kadm.Offset{Topic: tc.topic, Partition: 0, At: -1})
			res, err := adm.DeleteRecords(ctx, dels)
			if err != nil {
				t.Fatal(err)
			}
			if r := res[tc.topic][0]; !errors.Is(r.Err, tc.want) {
				t.Fatalf("delete records on %s: %v, want %v", tc.topic, r.Err, tc.want)
			}
		})
	}
	if p := tb.app.Broker().Partition("compacted", 0); p == nil || p.Log().StartOffset() != 0 {
		t.Fatal("the compacted topic's log start offset moved")
	}
}

// TestBrokerDescribeConfigsEmptyNamesMeansAll: Kafka describes every config
// of a resource whose config name list is null or empty.
func TestBrokerDescribeConfigsEmptyNamesMeansAll(t *testing.T) {
	tb := startBroker(t, true, nil)
	c := tb.client()
	ctx := context.Background()
	if _, err := kadm.NewClient(c).CreateTopic(ctx, 1, 1, nil, "described"); err != nil {
		t.Fatal(err)
	}
	for _, names := range [][]string{nil, {}} {
		req := kmsg.NewPtrDescribeConfigsRequest()
		rr := kmsg.NewDescribeConfigsRequestResource()
		rr.ResourceType, rr.ResourceName, rr.ConfigNames = kmsg.ConfigResourceTypeTopic, "described", names
		req.Resources = append(req.Resources, rr)
		resp, err := req.RequestWith(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		if r := resp.Resources[0]; r.ErrorCode != 0 || len(r.Configs) < 10 {
			t.Fatalf("names %#v: code %d, %d configs described", names, r.ErrorCode, len(r.Configs))
		}
	}
}

// TestBrokerListOffsetsByTimestampRespectsLogStart: a timestamp lookup
// answers with a record at or after the log start offset (Kafka's
// searchForTimestamp), even when DeleteRecords put the start inside a batch,
// and goes on to later batches when none of that batch's remaining records
// qualifies.
func TestBrokerListOffsetsByTimestampRespectsLogStart(t *testing.T) {
	tb := startBroker(t, true, nil)
	c := tb.client()
	ctx := context.Background()
	adm := kadm.NewClient(c)
	lat := "LogAppendTime"
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, "ts-create"); err != nil {
		t.Fatal(err)
	}
	if _, err := adm.CreateTopic(ctx, 1, 1, map[string]*string{"message.timestamp.type": &lat}, "ts-append"); err != nil {
		t.Fatal(err)
	}
	batch := func(stamps ...int64) []byte {
		var recs []record.Record
		for i, ts := range stamps {
			recs = append(recs, record.Record{Offset: int64(i), Timestamp: ts, Value: []byte(fmt.Sprint(i))})
		}
		b, err := record.Build(record.Batch{ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1, Records: recs})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	// ts-create: offsets 0-4 at 9000, 5-9 at 100, then offset 10 at 9500.
	for _, b := range [][]byte{batch(9000, 9000, 9000, 9000, 9000, 100, 100, 100, 100, 100), batch(9500)} {
		if pr := rawProduce(t, c, "ts-create", b); pr.ErrorCode != 0 {
			t.Fatalf("produce: code %d", pr.ErrorCode)
		}
	}
	// ts-append: one batch of ten records stamped with the append time.
	if pr := rawProduce(t, c, "ts-append", batch(1, 1, 1, 1, 1, 1, 1, 1, 1, 1)); pr.ErrorCode != 0 {
		t.Fatalf("produce: code %d", pr.ErrorCode)
	}
	dels := kadm.Offsets{}
	dels.Add(kadm.Offset{Topic: "ts-create", Partition: 0, At: 5})
	dels.Add(kadm.Offset{Topic: "ts-append", Partition: 0, At: 5})
	if res, err := adm.DeleteRecords(ctx, dels); err != nil || res.Error() != nil {
		t.Fatalf("delete records: %v %v", err, res.Error())
	}
	cases := []struct {
		name       string
		topic      string
		ts         int64
		wantOffset int64
	}{
		{"create time, start inside the batch", "ts-create", 50, 5},
		{"create time, no record after the start qualifies", "ts-create", 5000, 10},
		{"log append time, start inside the batch", "ts-append", 0, 5},
	}
	for _, tc := range cases {
		req := kmsg.NewPtrListOffsetsRequest()
		req.ReplicaID = -1
		rt := kmsg.NewListOffsetsRequestTopic()
		rt.Topic = tc.topic
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Timestamp, rp.CurrentLeaderEpoch = tc.ts, -1
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		resp, err := req.RequestWith(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		if p := resp.Topics[0].Partitions[0]; p.ErrorCode != 0 || p.Offset != tc.wantOffset {
			t.Errorf("%s: offset %d code %d, want %d", tc.name, p.Offset, p.ErrorCode, tc.wantOffset)
		}
	}
}

// TestBrokerFetchUndefinedLastFetchedEpochIsOutOfRange: a v12+ fetch whose
// last fetched epoch has no end offset in the leader's cache (newer than all
// of them) is OFFSET_OUT_OF_RANGE in Kafka, not a diverging epoch of -1.
func TestBrokerFetchUndefinedLastFetchedEpochIsOutOfRange(t *testing.T) {
	tb := startBroker(t, true, nil)
	c := tb.client(kgo.AllowAutoTopicCreation())
	produceN(t, c, "fetch-epochs", 3, 10)
	id := topicID(t, c, "fetch-epochs")
	fetch := func(lastEpoch int32, offset int64) kmsg.FetchResponseTopicPartition {
		t.Helper()
		req := kmsg.NewPtrFetchRequest()
		req.Version = 13
		req.SessionEpoch = -1
		req.MaxBytes = 1 << 20
		rt := kmsg.NewFetchRequestTopic()
		rt.Topic, rt.TopicID = "fetch-epochs", id
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.FetchOffset, rp.PartitionMaxBytes, rp.CurrentLeaderEpoch, rp.LastFetchedEpoch = offset, 1<<20, -1, lastEpoch
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		resp, err := req.RequestWith(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		return resp.Topics[0].Partitions[0]
	}
	if p := fetch(7, 3); p.ErrorCode != kerr.OffsetOutOfRange.Code {
		t.Fatalf("last fetched epoch above the log's: code %d, diverging epoch %d/%d; want OFFSET_OUT_OF_RANGE",
			p.ErrorCode, p.DivergingEpoch.Epoch, p.DivergingEpoch.EndOffset)
	}
	if p := fetch(0, 3); p.ErrorCode != 0 || p.DivergingEpoch.Epoch != -1 {
		t.Fatalf("matching epoch: code %d, diverging epoch %d", p.ErrorCode, p.DivergingEpoch.Epoch)
	}
}

// TestBrokerDescribeConfigsShowsPerBrokerDynamicConfigs: a dynamic config set
// on this broker (AlterConfigs on BROKER "<id>") is in effect, so
// DescribeConfigs reports it, as DYNAMIC_BROKER_CONFIG ahead of the cluster
// default, for the broker and for the topic configs that inherit it.
func TestBrokerDescribeConfigsShowsPerBrokerDynamicConfigs(t *testing.T) {
	tb := startBroker(t, true, nil)
	c := tb.client()
	adm := kadm.NewClient(c)
	ctx := context.Background()
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, "inherits"); err != nil {
		t.Fatal(err)
	}
	clusterWide, own := "7777", "5555"
	if _, err := adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{{Name: "log.retention.ms", Value: &clusterWide}}); err != nil {
		t.Fatal(err)
	}
	if _, err := adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{{Name: "log.retention.ms", Value: &own}}, 1); err != nil {
		t.Fatal(err)
	}
	if got := tb.app.Broker().Partition("inherits", 0).Config().Storage.RetentionMs; got != 5555 {
		t.Fatalf("effective retention.ms %d, want this broker's 5555", got)
	}
	check := func(what string, cfg kadm.Config) {
		t.Helper()
		if cfg.MaybeValue() != own || cfg.Source != kmsg.ConfigSourceDynamicBrokerConfig {
			t.Fatalf("%s: %q (%v), want %s (DYNAMIC_BROKER_CONFIG)", what, cfg.MaybeValue(), cfg.Source, own)
		}
		var syn []string
		for _, s := range cfg.Synonyms {
			v := "<nil>"
			if s.Value != nil {
				v = *s.Value
			}
			syn = append(syn, fmt.Sprintf("%s=%s/%v", s.Key, v, s.Source))
		}
		want := []string{"log.retention.ms=5555/DYNAMIC_BROKER_CONFIG", "log.retention.ms=7777/DYNAMIC_DEFAULT_BROKER_CONFIG"}
		if len(syn) < 2 || syn[0] != want[0] || syn[1] != want[1] {
			t.Fatalf("%s synonyms %v, want them to start with %v", what, syn, want)
		}
	}
	bcs, err := adm.DescribeBrokerConfigs(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, cfg := range bcs[0].Configs {
		if cfg.Key == "log.retention.ms" {
			check("broker log.retention.ms", cfg)
		}
	}
	rcs, err := adm.DescribeTopicConfigs(ctx, "inherits")
	if err != nil {
		t.Fatal(err)
	}
	for _, cfg := range rcs[0].Configs {
		if cfg.Key == "retention.ms" {
			check("topic retention.ms", cfg)
		}
	}
	// The cluster-wide describe still shows only the cluster default.
	req := kmsg.NewPtrDescribeConfigsRequest()
	rr := kmsg.NewDescribeConfigsRequestResource()
	rr.ResourceType, rr.ConfigNames = kmsg.ConfigResourceTypeBroker, []string{"log.retention.ms"}
	req.Resources = append(req.Resources, rr)
	resp, err := req.RequestWith(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if cs := resp.Resources[0].Configs; len(cs) != 1 || cs[0].Value == nil || *cs[0].Value != clusterWide {
		t.Fatalf("cluster default describe: %+v", cs)
	}
}

// TestBrokerManualReplicaAssignmentRules: as in Kafka, a manual assignment
// may not name a broker twice for one partition (CreateTopics and
// CreatePartitions), and CreateTopics takes the partitions in any order as
// long as they are 0..n-1 once each.
func TestBrokerManualReplicaAssignmentRules(t *testing.T) {
	tb := startBroker(t, true, nil)
	c := tb.client()
	ctx := context.Background()
	create := func(name string, assign map[int32][]int32, order []int32) int16 {
		t.Helper()
		req := kmsg.NewPtrCreateTopicsRequest()
		req.TimeoutMillis = 5000
		rt := kmsg.NewCreateTopicsRequestTopic()
		rt.Topic, rt.NumPartitions, rt.ReplicationFactor = name, -1, -1
		for _, p := range order {
			ra := kmsg.NewCreateTopicsRequestTopicReplicaAssignment()
			ra.Partition, ra.Replicas = p, assign[p]
			rt.ReplicaAssignment = append(rt.ReplicaAssignment, ra)
		}
		req.Topics = append(req.Topics, rt)
		resp, err := req.RequestWith(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		return resp.Topics[0].ErrorCode
	}
	if code := create("dup-replica", map[int32][]int32{0: {1, 1}}, []int32{0}); code != kerr.InvalidReplicaAssignment.Code {
		t.Fatalf("broker named twice: code %d, want INVALID_REPLICA_ASSIGNMENT", code)
	}
	if code := create("gap", map[int32][]int32{0: {1}, 2: {1}}, []int32{0, 2}); code != kerr.InvalidReplicaAssignment.Code {
		t.Fatalf("partitions 0 and 2: code %d, want INVALID_REPLICA_ASSIGNMENT", code)
	}
	if code := create("any-order", map[int32][]int32{0: {1}, 1: {1}}, []int32{1, 0}); code != 0 {
		t.Fatalf("partitions given as 1, 0: code %d", code)
	}
	tds, err := kadm.NewClient(c).ListTopics(ctx, "any-order", "dup-replica")
	if err != nil {
		t.Fatal(err)
	}
	if tds.Has("dup-replica") || len(tds["any-order"].Partitions) != 2 {
		t.Fatalf("topics after creation: %+v", tds)
	}
	req := kmsg.NewPtrCreatePartitionsRequest()
	req.TimeoutMillis = 5000
	rt := kmsg.NewCreatePartitionsRequestTopic()
	rt.Topic, rt.Count = "any-order", 3
	ra := kmsg.NewCreatePartitionsRequestTopicAssignment()
	ra.Replicas = []int32{1, 1}
	rt.Assignment = append(rt.Assignment, ra)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if code := resp.Topics[0].ErrorCode; code != kerr.InvalidReplicaAssignment.Code {
		t.Fatalf("CreatePartitions naming a broker twice: code %d, want INVALID_REPLICA_ASSIGNMENT", code)
	}
}

// TestBrokerFullFetchNamingASessionIsServed: a fetch with session epoch 0 or
// -1 is a full fetch; Kafka closes the session it names and serves it
// (KIP-227), so it must not fail with FETCH_SESSION_ID_NOT_FOUND.
func TestBrokerFullFetchNamingASessionIsServed(t *testing.T) {
	tb := startBroker(t, true, nil)
	c := tb.client(kgo.AllowAutoTopicCreation())
	produceN(t, c, "full-fetch", 2, 10)
	id := topicID(t, c, "full-fetch")
	for _, epoch := range []int32{0, -1} {
		req := kmsg.NewPtrFetchRequest()
		req.SessionID, req.SessionEpoch = 777, epoch
		req.MaxBytes = 1 << 20
		rt := kmsg.NewFetchRequestTopic()
		rt.Topic, rt.TopicID = "full-fetch", id
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.PartitionMaxBytes, rp.CurrentLeaderEpoch = 1<<20, -1
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		resp, err := req.RequestWith(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		if resp.ErrorCode != 0 || resp.SessionID != 0 || len(resp.Topics) != 1 || len(resp.Topics[0].Partitions[0].RecordBatches) == 0 {
			t.Fatalf("epoch %d: code %d, session %d, %d topics", epoch, resp.ErrorCode, resp.SessionID, len(resp.Topics))
		}
	}
}
