package app

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-kafka/strait/internal/broker"
	"github.com/strait-kafka/strait/internal/metadata"
)

// TestBrokerMirrorTopicIsReadOnly: until a mirror is stopped, only its link
// writes it: produce, synced config changes, DeleteRecords and
// CreatePartitions are refused with Kafka errors; then it is a normal topic.
func TestBrokerMirrorTopicIsReadOnly(t *testing.T) {
	tb := startBroker(t, true, nil)
	ctx := context.Background()
	if _, err := tb.app.Broker().CreateMirrorTopic(ctx, broker.MirrorTopicSpec{
		Name: "ro", Partitions: 2, ReplicationFactor: -1,
		Configs: map[string]string{"retention.ms": "1000"},
		Mirror:  &metadata.Mirror{Link: "l", SourceTopic: "ro", State: "ACTIVE"},
	}); err != nil {
		t.Fatal(err)
	}
	c := tb.client(kgo.RecordPartitioner(kgo.ManualPartitioner()))
	pr := rawProduce(t, c, "ro", idemBatch(t, -1, -1, -1, 1))
	if pr.ErrorCode != kerr.InvalidRequest.Code || pr.ErrorMessage == nil || *pr.ErrorMessage != "Cannot append records to read-only mirror topic 'ro'" {
		t.Fatalf("produce to mirror: code %d message %v", pr.ErrorCode, pr.ErrorMessage)
	}
	adm := kadm.NewClient(c)
	v := "5000"
	res, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Name: "retention.ms", Value: &v}}, "ro")
	if err != nil || !errors.Is(res[0].Err, kerr.InvalidConfig) || !strings.Contains(res[0].ErrMessage, "Cannot set configuration 'retention.ms' for mirror topic 'ro'") {
		t.Fatalf("alter synced config: %v %+v", err, res)
	}
	if res, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Name: "segment.bytes", Value: &v}}, "ro"); err != nil || res[0].Err != nil {
		t.Fatalf("alter a config the mirror owns: %v %+v", err, res)
	}
	dels := kadm.Offsets{}
	dels.Add(kadm.Offset{Topic: "ro", Partition: 0, At: 0})
	if dr, err := adm.DeleteRecords(ctx, dels); err != nil || !errors.Is(dr["ro"][0].Err, kerr.InvalidRequest) {
		t.Fatalf("delete records on mirror: %v %+v", err, dr)
	}
	if r, _ := adm.UpdatePartitions(ctx, 4, "ro"); r == nil || !errors.Is(r["ro"].Err, kerr.InvalidRequest) {
		t.Fatalf("create partitions on mirror: %+v", r)
	}
	// Stopped: an ordinary topic.
	if err := tb.app.Broker().Metadata().UpdateTopic(ctx, "ro", func(tp *metadata.Topic) error {
		tp.Mirror.State = "STOPPED"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := c.ProduceSync(ctx, &kgo.Record{Topic: "ro", Partition: 1, Value: []byte("now writable")}).FirstErr(); err != nil {
		t.Fatalf("produce after stop: %v", err)
	}
}
