package testutil

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-kafka/strait/internal/record"
)

// RawPartition is everything a partition holds, as raw batches read over
// the Kafka protocol, with its offsets.
type RawPartition struct {
	StartOffset   int64
	HighWatermark int64
	Batches       [][]byte
}

// ReadRawPartition fetches every batch of a partition from its log start
// offset to its high watermark, as the broker stores them, through plain
// Fetch requests (READ_UNCOMMITTED), so any Kafka implementation can be read.
func ReadRawPartition(ctx context.Context, cl *kgo.Client, topic string, partition int32) (RawPartition, error) {
	adm := kadm.NewClient(cl)
	tds, err := adm.ListTopics(ctx, topic)
	if err != nil {
		return RawPartition{}, err
	}
	td, ok := tds[topic]
	if !ok || td.Err != nil {
		return RawPartition{}, fmt.Errorf("topic %s: %v", topic, td.Err)
	}
	starts, err := adm.ListStartOffsets(ctx, topic)
	if err != nil {
		return RawPartition{}, err
	}
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return RawPartition{}, err
	}
	so, _ := starts.Lookup(topic, partition)
	eo, _ := ends.Lookup(topic, partition)
	if so.Err != nil || eo.Err != nil {
		return RawPartition{}, errors.Join(so.Err, eo.Err)
	}
	rp := RawPartition{StartOffset: so.Offset, HighWatermark: eo.Offset}
	leader := int32(-1)
	if p, ok := td.Partitions[partition]; ok {
		leader = p.Leader
	}
	for off := so.Offset; off < eo.Offset; {
		req := kmsg.NewPtrFetchRequest()
		req.ReplicaID = -1
		req.MaxBytes = 8 << 20
		req.SessionEpoch = -1
		rt := kmsg.NewFetchRequestTopic()
		rt.Topic, rt.TopicID = topic, td.ID
		p := kmsg.NewFetchRequestTopicPartition()
		p.Partition, p.FetchOffset, p.PartitionMaxBytes, p.CurrentLeaderEpoch, p.LastFetchedEpoch = partition, off, 8<<20, -1, -1
		rt.Partitions = append(rt.Partitions, p)
		req.Topics = append(req.Topics, rt)
		kresp, err := cl.Broker(int(leader)).Request(ctx, req)
		if err != nil {
			return rp, err
		}
		resp := kresp.(*kmsg.FetchResponse)
		if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
			return rp, fmt.Errorf("fetch %s-%d at %d: malformed response (top-level error %v)", topic, partition, off, kerr.ErrorForCode(resp.ErrorCode))
		}
		fp := resp.Topics[0].Partitions[0]
		if fp.ErrorCode != 0 {
			return rp, fmt.Errorf("fetch %s-%d at %d: %w", topic, partition, off, kerr.ErrorForCode(fp.ErrorCode))
		}
		next := off
		for rest := fp.RecordBatches; len(rest) > 0; {
			b, r, h, err := record.Next(rest)
			if errors.Is(err, record.ErrShort) {
				break
			}
			if err != nil {
				return rp, fmt.Errorf("fetch %s-%d at %d: %w", topic, partition, off, err)
			}
			rest = r
			if h.LastOffset() < next {
				continue
			}
			rp.Batches = append(rp.Batches, append([]byte(nil), b...))
			next = h.LastOffset() + 1
		}
		if next == off {
			return rp, fmt.Errorf("fetch %s-%d at %d returned nothing below the high watermark %d", topic, partition, off, eo.Offset)
		}
		off = next
	}
	return rp, nil
}

// CompareMirror checks a mirror partition against its source partition:
// the same log start offset, high watermark and batches, byte for byte,
// ignoring only each batch's partition leader epoch field (bytes 12-15,
// outside the CRC). It returns a description of the first difference.
func CompareMirror(src, mirror RawPartition) error {
	if src.StartOffset != mirror.StartOffset || src.HighWatermark != mirror.HighWatermark {
		return fmt.Errorf("offsets differ: source [%d, %d), mirror [%d, %d)", src.StartOffset, src.HighWatermark, mirror.StartOffset, mirror.HighWatermark)
	}
	if len(src.Batches) != len(mirror.Batches) {
		return fmt.Errorf("source has %d batches, mirror %d", len(src.Batches), len(mirror.Batches))
	}
	for i := range src.Batches {
		a, b := src.Batches[i], mirror.Batches[i]
		if len(a) != len(b) || !bytes.Equal(a[:12], b[:12]) || !bytes.Equal(a[16:], b[16:]) {
			ha, _ := record.ParseHeader(a)
			hb, _ := record.ParseHeader(b)
			return fmt.Errorf("batch %d differs: source at offset %d (%d bytes), mirror at offset %d (%d bytes)", i, ha.BaseOffset, len(a), hb.BaseOffset, len(b))
		}
	}
	return nil
}

// CheckMirrorTopic runs the oracle on every partition of a mirror topic and
// fails the test on the first difference. It reports how many batches and
// bytes it compared.
func CheckMirrorTopic(t testing.TB, src, dst *kgo.Client, srcTopic, mirrorTopic string, partitions int32) (batches, bytes int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for p := int32(0); p < partitions; p++ {
		a, err := ReadRawPartition(ctx, src, srcTopic, p)
		if err != nil {
			t.Fatalf("reading source %s-%d: %v", srcTopic, p, err)
		}
		b, err := ReadRawPartition(ctx, dst, mirrorTopic, p)
		if err != nil {
			t.Fatalf("reading mirror %s-%d: %v", mirrorTopic, p, err)
		}
		if err := CompareMirror(a, b); err != nil {
			t.Fatalf("mirror %s-%d differs from source %s-%d: %v", mirrorTopic, p, srcTopic, p, err)
		}
		batches += len(a.Batches)
		for _, x := range a.Batches {
			bytes += len(x)
		}
	}
	return batches, bytes
}
