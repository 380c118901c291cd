package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func TestE2EGracefulRestart(t *testing.T) {
	const (
		topic      = "graceful"
		partitions = 3
		perRound   = 600
	)
	p := startStrait(t, t.TempDir())
	clusterID := p.ClusterID()
	topicID := createTopic(t, newAdmin(t, p.Addr()), topic, partitions)

	// sent[i] is record i; round r produces records [r*perRound, (r+1)*perRound).
	var sent []*kgo.Record
	produceRound := func(addr string) {
		t.Helper()
		cl, err := kgo.NewClient(
			kgo.SeedBrokers(addr),
			kgo.DefaultProduceTopic(topic),
			kgo.RequiredAcks(kgo.AllISRAcks()),
		)
		if err != nil {
			t.Fatalf("producer: %v", err)
		}
		defer cl.Close()
		var batch []*kgo.Record
		for range perRound {
			id := recordID{cycle: 9, seq: len(sent) + len(batch)}
			batch = append(batch, crashRecord(id))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := cl.ProduceSync(ctx, batch...).FirstErr(); err != nil {
			t.Fatalf("producing: %v", err)
		}
		sent = append(sent, batch...)
	}

	produceRound(p.Addr())
	// Stop fails the test unless the process exits by itself, with status
	// 0, within testutil.StopTimeout of SIGTERM.
	p.Stop()
	p.Restart()
	if got := p.ClusterID(); got != clusterID {
		t.Fatalf("cluster.id %s after restart, want %s", got, clusterID)
	}
	if got := waitForTopic(t, newAdmin(t, p.Addr()), topic, partitions); got != topicID {
		t.Fatalf("topic ID %v after restart, want %v", got, topicID)
	}
	checkSent(t, p.Addr(), topic, partitions, sent)

	// Appends continue at the old log end: offsets stay dense across the
	// restart and nothing from before is overwritten.
	produceRound(p.Addr())
	checkSent(t, p.Addr(), topic, partitions, sent)

	p.Stop()
	p.Restart()
	checkSent(t, p.Addr(), topic, partitions, sent)
}

// checkSent checks that topic holds exactly the sent records, each at the
// partition and offset it was acknowledged at, with dense offsets.
func checkSent(t *testing.T, addr, topic string, partitions int32, sent []*kgo.Record) {
	t.Helper()
	type pos struct {
		p int32
		o int64
	}
	want := map[pos]*kgo.Record{}
	minEnd := map[int32]int64{}
	for _, r := range sent {
		want[pos{r.Partition, r.Offset}] = r
		minEnd[r.Partition] = max(minEnd[r.Partition], r.Offset+1)
	}
	log := readLog(t, addr, topic, partitions, minEnd)
	n := 0
	for p := range partitions {
		for i, r := range log[p] {
			if r.Offset != int64(i) {
				t.Fatalf("partition %d: record %d has offset %d; offsets must be dense from 0", p, i, r.Offset)
			}
			w, ok := want[pos{p, r.Offset}]
			if !ok {
				t.Errorf("partition %d offset %d: a record that was never acknowledged", p, r.Offset)
				continue
			}
			n++
			if d := diffCrashRecord(w, r); d != "" {
				t.Errorf("partition %d offset %d: %s", p, r.Offset, d)
			}
			if w.Timestamp.UnixMilli() != r.Timestamp.UnixMilli() {
				t.Errorf("partition %d offset %d: timestamp %v, want %v", p, r.Offset, r.Timestamp, w.Timestamp)
			}
		}
	}
	if n != len(sent) {
		t.Errorf("read %d of the %d acknowledged records", n, len(sent))
	}
	if t.Failed() {
		t.FailNow()
	}
	t.Logf("all %d acknowledged records present", n)
}
