package app

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-kafka/strait/internal/record"
)

func TestBrokerLogAppendTime(t *testing.T) {
	tb := startBroker(t, true, nil)
	c := tb.client()
	ctx := context.Background()
	lat := "LogAppendTime"
	if _, err := kadm.NewClient(c).CreateTopic(ctx, 1, 1, map[string]*string{"message.timestamp.type": &lat}, "lat"); err != nil {
		t.Fatal(err)
	}
	before := time.Now().Add(-time.Second)
	old := time.UnixMilli(1000)
	if err := c.ProduceSync(ctx, &kgo.Record{Topic: "lat", Value: []byte("x"), Timestamp: old}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	got := consumeAll(t, tb, "lat", 1)
	if got[0].Timestamp.Before(before) || got[0].Attrs.TimestampType() != 1 {
		t.Fatalf("timestamp %v type %d: want the broker's append time", got[0].Timestamp, got[0].Attrs.TimestampType())
	}
	raw := fetchRaw(t, c, "lat", 0, 0)
	if _, err := record.Validate(raw); err != nil {
		t.Fatalf("batch rewritten for LogAppendTime fails validation: %v", err)
	}
}

func TestBrokerMessageTooLarge(t *testing.T) {
	tb := startBroker(t, true, nil)
	c := tb.client()
	ctx := context.Background()
	limit := "1000"
	if _, err := kadm.NewClient(c).CreateTopic(ctx, 1, 1, map[string]*string{"max.message.bytes": &limit}, "small"); err != nil {
		t.Fatal(err)
	}
	big := record.Record{Value: bytes.Repeat([]byte("z"), 2000), Timestamp: time.Now().UnixMilli()}
	b, err := record.Build(record.Batch{ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1, Records: []record.Record{big}})
	if err != nil {
		t.Fatal(err)
	}
	if pr := rawProduce(t, c, "small", b); pr.ErrorCode != kerr.MessageTooLarge.Code {
		t.Fatalf("code %d, want MESSAGE_TOO_LARGE", pr.ErrorCode)
	}
	if pr := rawProduce(t, c, "small", idemBatch(t, -1, -1, -1, 1)); pr.ErrorCode != 0 {
		t.Fatalf("small batch: code %d", pr.ErrorCode)
	}
}

func TestBrokerAcksZero(t *testing.T) {
	tb := startBroker(t, true, nil)
	c := tb.client(kgo.RequiredAcks(kgo.NoAck()), kgo.DisableIdempotentWrite(), kgo.AllowAutoTopicCreation())
	ctx := context.Background()
	for i := 0; i < 50; i++ {
		if err := c.ProduceSync(ctx, &kgo.Record{Topic: "acks0", Value: []byte{byte(i)}}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	got := consumeAll(t, tb, "acks0", 50)
	for i, r := range got {
		if r.Offset != int64(i) || r.Value[0] != byte(i) {
			t.Fatalf("record %d: offset %d value %v", i, r.Offset, r.Value)
		}
	}
}

func TestBrokerFetchSessionsRefused(t *testing.T) {
	tb := startBroker(t, true, nil)
	c := tb.client(kgo.AllowAutoTopicCreation())
	produceN(t, c, "sess", 3, 10)
	id := topicID(t, c, "sess")
	fetch := func(sessionID, epoch int32) *kmsg.FetchResponse {
		req := kmsg.NewPtrFetchRequest()
		req.SessionID, req.SessionEpoch = sessionID, epoch
		req.MaxBytes = 1 << 20
		rt := kmsg.NewFetchRequestTopic()
		rt.Topic, rt.TopicID = "sess", id
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.PartitionMaxBytes = 1 << 20
		rp.CurrentLeaderEpoch = -1
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		resp, err := req.RequestWith(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	if r := fetch(0, 0); r.ErrorCode != 0 || r.SessionID != 0 || len(r.Topics[0].Partitions[0].RecordBatches) == 0 {
		t.Fatalf("new-session request: code %d session %d", r.ErrorCode, r.SessionID)
	}
	if r := fetch(1234, 1); r.ErrorCode != kerr.FetchSessionIDNotFound.Code {
		t.Fatalf("unknown session: code %d", r.ErrorCode)
	}
	if r := fetch(0, 3); r.ErrorCode != kerr.InvalidFetchSessionEpoch.Code {
		t.Fatalf("epoch without session: code %d", r.ErrorCode)
	}
}

func TestBrokerReadCommittedConsumer(t *testing.T) {
	tb := startBroker(t, true, nil)
	c := tb.client(kgo.AllowAutoTopicCreation())
	want := produceN(t, c, "rc", 40, 10)
	got := consumeAll(t, tb, "rc", len(want), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	checkRecords(t, want, got)
}

func TestBrokerCreateTopicsValidateOnly(t *testing.T) {
	tb := startBroker(t, true, nil)
	c := tb.client()
	adm := kadm.NewClient(c)
	ctx := context.Background()
	res, err := adm.ValidateCreateTopics(ctx, 3, 1, nil, "dry")
	if err != nil || res["dry"].Err != nil {
		t.Fatalf("validate only: %v %v", err, res)
	}
	tds, err := adm.ListTopics(ctx, "dry")
	if err != nil {
		t.Fatal(err)
	}
	if tds.Has("dry") {
		t.Fatal("validate_only created the topic")
	}
}

func TestBrokerLegacyAlterConfigsReplaces(t *testing.T) {
	tb := startBroker(t, true, nil)
	c := tb.client()
	adm := kadm.NewClient(c)
	ctx := context.Background()
	a, b := "1000", "2000"
	if _, err := adm.CreateTopic(ctx, 1, 1, map[string]*string{"retention.ms": &a, "segment.ms": &b}, "legacy"); err != nil {
		t.Fatal(err)
	}
	v := "5000"
	res, err := adm.AlterTopicConfigsState(ctx, []kadm.AlterConfig{{Name: "flush.ms", Value: &v}}, "legacy")
	if err != nil || res[0].Err != nil {
		t.Fatalf("alter configs: %v %v", err, res)
	}
	rcs, err := adm.DescribeTopicConfigs(ctx, "legacy")
	if err != nil {
		t.Fatal(err)
	}
	overrides := map[string]string{}
	for _, cfg := range rcs[0].Configs {
		if cfg.Source == kmsg.ConfigSourceDynamicTopicConfig {
			overrides[cfg.Key] = cfg.MaybeValue()
		}
	}
	if len(overrides) != 1 || overrides["flush.ms"] != v {
		t.Fatalf("after a non-incremental alter the overrides are %v; want only flush.ms", overrides)
	}
}

func TestBrokerDynamicBrokerDefaults(t *testing.T) {
	tb := startBroker(t, true, nil)
	c := tb.client()
	adm := kadm.NewClient(c)
	ctx := context.Background()
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, "inherit"); err != nil {
		t.Fatal(err)
	}
	v := "7777"
	if _, err := adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{{Name: "log.retention.ms", Value: &v}}); err != nil {
		t.Fatal(err)
	}
	rcs, err := adm.DescribeTopicConfigs(ctx, "inherit")
	if err != nil {
		t.Fatal(err)
	}
	for _, cfg := range rcs[0].Configs {
		if cfg.Key == "retention.ms" && (cfg.MaybeValue() != v || cfg.Source != kmsg.ConfigSourceDynamicDefaultBrokerConfig) {
			t.Fatalf("retention.ms = %q (%v); want the cluster default %s", cfg.MaybeValue(), cfg.Source, v)
		}
	}
	bad := "x"
	if res, err := adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{{Name: "log.retention.ms", Value: &bad}}); err != nil || len(res) != 1 || !errors.Is(res[0].Err, kerr.InvalidConfig) {
		t.Fatalf("invalid broker config: %v %v", err, res)
	}
	bcs, err := adm.DescribeBrokerConfigs(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, cfg := range bcs[0].Configs {
		if cfg.Key == "log.retention.ms" {
			found = cfg.MaybeValue() == v
		}
	}
	if !found {
		t.Fatal("broker describe does not show the dynamic log.retention.ms")
	}
}
