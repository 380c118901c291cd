package record

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestRecordKgoCompat produces with franz-go's kgo client to an in-process
// kfake broker with every codec, fetches the raw batch bytes back with a
// plain Fetch request and checks that record validates and decodes them:
// bytes written by a real client, not by our own Build.
func TestRecordKgoCompat(t *testing.T) {
	codecs := map[Codec]kgo.CompressionCodec{
		CodecNone:   kgo.NoCompression(),
		CodecGzip:   kgo.GzipCompression(),
		CodecSnappy: kgo.SnappyCompression(),
		CodecLZ4:    kgo.Lz4Compression(),
		CodecZstd:   kgo.ZstdCompression(),
	}
	topics := make([]string, 0, len(codecs))
	for c := range codecs {
		topics = append(topics, "compat-"+c.String())
	}
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, topics...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)

	for _, c := range allCodecs {
		t.Run(c.String(), func(t *testing.T) {
			topic := "compat-" + c.String()
			cl, err := kgo.NewClient(
				kgo.SeedBrokers(cluster.ListenAddrs()...),
				kgo.ProducerBatchCompression(codecs[c]),
				kgo.DefaultProduceTopic(topic),
				kgo.ProducerLinger(50*time.Millisecond),
			)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(cl.Close)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()

			const n = 50
			base := time.UnixMilli(1_700_000_000_000)
			want := make([]*kgo.Record, n)
			for i := range want {
				want[i] = &kgo.Record{
					Key:       []byte(fmt.Sprintf("key-%d", i)),
					Value:     []byte(fmt.Sprintf("value %d of a compressible payload payload payload", i)),
					Timestamp: base.Add(time.Duration(i) * time.Millisecond),
					Headers:   []kgo.RecordHeader{{Key: "i", Value: []byte(fmt.Sprint(i))}},
				}
				if i%10 == 3 {
					want[i].Key = nil
				}
				cl.Produce(ctx, want[i], nil)
			}
			if err := cl.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			for _, r := range want {
				if r.Offset < 0 {
					t.Fatalf("record not acknowledged: %+v", r)
				}
			}

			raw := fetchRaw(ctx, t, cl, topic)
			var got []Record
			batches := 0
			for rest := raw; len(rest) > 0; {
				batch, r, h, err := Next(rest)
				if err != nil {
					t.Fatalf("Next on kgo bytes: %v", err)
				}
				if _, err := Validate(batch); err != nil {
					t.Fatalf("Validate on kgo bytes: %v", err)
				}
				if h.Codec() != c {
					t.Fatalf("batch codec %v, want %v", h.Codec(), c)
				}
				recs, err := Records(batch)
				if err != nil {
					t.Fatalf("Records on kgo bytes: %v", err)
				}
				if int32(len(recs)) != h.NumRecords || h.LastOffset() != recs[len(recs)-1].Offset {
					t.Fatalf("header %+v disagrees with %d decoded records", h, len(recs))
				}
				got = append(got, recs...)
				batches++
				rest = r
			}
			if len(got) != n {
				t.Fatalf("decoded %d records in %d batches, want %d", len(got), batches, n)
			}
			for i, r := range got {
				w := want[i]
				if r.Offset != w.Offset || r.Timestamp != w.Timestamp.UnixMilli() ||
					string(r.Key) != string(w.Key) || (r.Key == nil) != (w.Key == nil) ||
					string(r.Value) != string(w.Value) ||
					len(r.Headers) != 1 || r.Headers[0].Key != "i" || string(r.Headers[0].Value) != fmt.Sprint(i) {
					t.Fatalf("record %d: got %+v, want offset %d key %q value %q", i, r, w.Offset, w.Key, w.Value)
				}
			}
		})
	}
}

// fetchRaw fetches partition 0 of topic from offset 0 and returns the raw
// RecordBatches bytes.
func fetchRaw(ctx context.Context, t *testing.T, cl *kgo.Client, topic string) []byte {
	t.Helper()
	meta := kmsg.NewPtrMetadataRequest()
	mt := kmsg.NewMetadataRequestTopic()
	mt.Topic = kmsg.StringPtr(topic)
	meta.Topics = append(meta.Topics, mt)
	mresp, err := meta.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	if len(mresp.Topics) != 1 {
		t.Fatalf("metadata for %d topics", len(mresp.Topics))
	}

	req := kmsg.NewPtrFetchRequest()
	req.MaxWaitMillis = 100
	req.MaxBytes = 10 << 20
	ft := kmsg.NewFetchRequestTopic()
	ft.Topic = topic
	ft.TopicID = mresp.Topics[0].TopicID
	fp := kmsg.NewFetchRequestTopicPartition()
	fp.Partition = 0
	fp.FetchOffset = 0
	fp.PartitionMaxBytes = 10 << 20
	ft.Partitions = append(ft.Partitions, fp)
	req.Topics = append(req.Topics, ft)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		t.Fatal(err)
	}
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		t.Fatalf("fetch response shape: %+v", resp)
	}
	p := resp.Topics[0].Partitions[0]
	if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
		t.Fatal(err)
	}
	return p.RecordBatches
}
