package app

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-kafka/strait/internal/config"
	"github.com/strait-kafka/strait/internal/metadata"
	"github.com/strait-kafka/strait/internal/record"
	"github.com/strait-kafka/strait/internal/storage"
)

// testBroker is an in-process Strait.
type testBroker struct {
	t      *testing.T
	addr   string
	app    *App
	dir    string
	flags  map[string]string
	memory bool
	fs     storage.FS
	cancel context.CancelFunc
	done   chan error
}

// startBroker runs a broker on ephemeral ports with its data in a temporary
// directory. memory=true uses the in-memory metadata store (fast); false
// runs the embedded etcd, as `strait serve` does.
func startBroker(t *testing.T, memory bool, flags map[string]string) *testBroker {
	t.Helper()
	tb := &testBroker{t: t, dir: t.TempDir(), flags: flags, memory: memory}
	tb.start()
	t.Cleanup(func() { tb.stop() })
	return tb
}

func (tb *testBroker) start() {
	tb.t.Helper()
	f := map[string]string{
		"listeners":      "PLAINTEXT://127.0.0.1:0",
		"http.listeners": "http://127.0.0.1:0",
		"log.dirs":       tb.dir,
	}
	for k, v := range tb.flags {
		f[k] = v
	}
	cfg, _, err := config.Load(config.LoadOptions{Flags: f})
	if err != nil {
		tb.t.Fatalf("config: %v", err)
	}
	lg := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		lg = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	opts := Options{FS: tb.fs}
	if tb.memory {
		opts.Meta = metadata.NewMemory("")
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := Start(ctx, cfg, lg, opts)
	if err != nil {
		cancel()
		tb.t.Fatalf("start: %v", err)
	}
	tb.app, tb.addr, tb.cancel, tb.done = a, a.KafkaAddrs[0], cancel, make(chan error, 1)
	go func() { tb.done <- a.Run(ctx) }()
}

func (tb *testBroker) stop() {
	if tb.cancel == nil {
		return
	}
	tb.cancel()
	if err := <-tb.done; err != nil {
		tb.t.Errorf("broker stopped with error: %v", err)
	}
	tb.cancel = nil
}

func (tb *testBroker) client(opts ...kgo.Opt) *kgo.Client {
	tb.t.Helper()
	c, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(tb.addr)}, opts...)...)
	if err != nil {
		tb.t.Fatal(err)
	}
	tb.t.Cleanup(c.Close)
	return c
}

type sent struct {
	part    int32
	offset  int64
	key     []byte
	value   []byte
	headers []kgo.RecordHeader
}

func produceN(t *testing.T, c *kgo.Client, topic string, n int, valueSize int) []sent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out []sent
	for i := 0; i < n; i++ {
		v := bytes.Repeat([]byte{byte(i)}, valueSize+i%7)
		r := &kgo.Record{
			Topic:   topic,
			Key:     []byte(fmt.Sprintf("key-%d", i)),
			Value:   v,
			Headers: []kgo.RecordHeader{{Key: "h", Value: []byte(fmt.Sprint(i))}},
		}
		if i%11 == 0 {
			r.Key = nil
		}
		res := c.ProduceSync(ctx, r)
		if err := res.FirstErr(); err != nil {
			t.Fatalf("produce %d: %v", i, err)
		}
		pr := res[0].Record
		out = append(out, sent{pr.Partition, pr.Offset, r.Key, r.Value, r.Headers})
	}
	return out
}

func consumeAll(t *testing.T, tb *testBroker, topic string, want int, opts ...kgo.Opt) []*kgo.Record {
	t.Helper()
	c := tb.client(append([]kgo.Opt{kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}, opts...)...)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var got []*kgo.Record
	for len(got) < want {
		fs := c.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of %d records before timeout", len(got), want)
		}
		fs.EachError(func(_ string, _ int32, err error) { t.Fatalf("fetch: %v", err) })
		got = append(got, fs.Records()...)
	}
	return got
}

func checkRecords(t *testing.T, want []sent, got []*kgo.Record) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d", len(got), len(want))
	}
	byPos := map[[2]int64]*kgo.Record{}
	for _, r := range got {
		byPos[[2]int64{int64(r.Partition), r.Offset}] = r
	}
	for _, w := range want {
		r := byPos[[2]int64{int64(w.part), w.offset}]
		if r == nil {
			t.Fatalf("no record at partition %d offset %d", w.part, w.offset)
		}
		if !bytes.Equal(r.Key, w.key) || !bytes.Equal(r.Value, w.value) || (r.Key == nil) != (w.key == nil) {
			t.Fatalf("record at %d/%d differs", w.part, w.offset)
		}
		if len(r.Headers) != len(w.headers) || r.Headers[0].Key != w.headers[0].Key || !bytes.Equal(r.Headers[0].Value, w.headers[0].Value) {
			t.Fatalf("headers at %d/%d differ: %v", w.part, w.offset, r.Headers)
		}
	}
}

func TestBrokerProduceConsumeEveryCodec(t *testing.T) {
	tb := startBroker(t, true, map[string]string{"num.partitions": "3"})
	codecs := map[string]kgo.CompressionCodec{
		"none": kgo.NoCompression(), "gzip": kgo.GzipCompression(), "snappy": kgo.SnappyCompression(),
		"lz4": kgo.Lz4Compression(), "zstd": kgo.ZstdCompression(),
	}
	for name, codec := range codecs {
		t.Run(name, func(t *testing.T) {
			topic := "codec-" + name
			p := tb.client(kgo.ProducerBatchCompression(codec), kgo.AllowAutoTopicCreation(), kgo.RequiredAcks(kgo.AllISRAcks()))
			want := produceN(t, p, topic, 300, 100)
			got := consumeAll(t, tb, topic, len(want))
			checkRecords(t, want, got)
		})
	}
}

// TestBrokerStoresBatchesAsSent checks that a produced batch comes back from
// Fetch byte for byte, apart from the fields the broker owns (base offset
// and partition leader epoch, both outside the CRC).
func TestBrokerStoresBatchesAsSent(t *testing.T) {
	tb := startBroker(t, true, nil)
	c := tb.client()
	ctx := context.Background()
	if _, err := kadm.NewClient(c).CreateTopic(ctx, 1, 1, nil, "raw"); err != nil {
		t.Fatal(err)
	}
	var batches [][]byte
	for i, codec := range []record.Codec{record.CodecNone, record.CodecGzip, record.CodecSnappy, record.CodecLZ4, record.CodecZstd} {
		var recs []record.Record
		for j := 0; j < 20; j++ {
			recs = append(recs, record.Record{Offset: int64(j), Timestamp: 1700000000000 + int64(j), Key: []byte("k"), Value: bytes.Repeat([]byte("v"), j*10),
				Headers: []record.RecordHeader{{Key: "n", Value: []byte{byte(j)}}}})
		}
		b, err := record.Build(record.Batch{Codec: codec, ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1, Records: recs})
		if err != nil {
			t.Fatal(err)
		}
		req := kmsg.NewPtrProduceRequest()
		req.Acks = -1
		req.TimeoutMillis = 5000
		rt := kmsg.NewProduceRequestTopic()
		rt.Topic = "raw"
		rp := kmsg.NewProduceRequestTopicPartition()
		rp.Records = append([]byte(nil), b...)
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		resp, err := req.RequestWith(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		pr := resp.Topics[0].Partitions[0]
		if pr.ErrorCode != 0 || pr.BaseOffset != int64(i*20) {
			t.Fatalf("codec %d: error %d base offset %d", codec, pr.ErrorCode, pr.BaseOffset)
		}
		batches = append(batches, b)
	}
	got := fetchRaw(t, c, "raw", 0, 0)
	var all []byte
	for _, b := range batches {
		all = append(all, b...)
	}
	if len(got) != len(all) {
		t.Fatalf("fetched %d bytes, produced %d", len(got), len(all))
	}
	for rest, i := got, 0; len(rest) > 0; i++ {
		b, r, h, err := record.Next(rest)
		if err != nil {
			t.Fatal(err)
		}
		if h.BaseOffset != int64(i*20) {
			t.Fatalf("batch %d at offset %d", i, h.BaseOffset)
		}
		if !bytes.Equal(b[16:], batches[i][16:]) || !bytes.Equal(b[8:12], batches[i][8:12]) {
			t.Fatalf("batch %d bytes differ from what was produced", i)
		}
		rest = r
	}
}

func fetchRaw(t *testing.T, c *kgo.Client, topic string, part int32, offset int64) []byte {
	t.Helper()
	req := kmsg.NewPtrFetchRequest()
	req.Version = 11
	req.MaxWaitMillis = 100
	req.MaxBytes = 64 << 20
	req.SessionEpoch = -1
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic, rt.TopicID = topic, topicID(t, c, topic)
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.Partition, rp.FetchOffset, rp.PartitionMaxBytes = part, offset, 64<<20
	rp.CurrentLeaderEpoch = -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	p := resp.Topics[0].Partitions[0]
	if p.ErrorCode != 0 {
		t.Fatalf("fetch error %v", kerr.ErrorForCode(p.ErrorCode))
	}
	return p.RecordBatches
}

// topicID looks a topic's ID up: kgo sends Fetch at the highest version
// both sides know, and from v13 on topics are named by ID.
func topicID(t *testing.T, c *kgo.Client, topic string) [16]byte {
	t.Helper()
	tds, err := kadm.NewClient(c).ListTopics(context.Background(), topic)
	if err != nil || !tds.Has(topic) {
		t.Fatalf("topic %s: %v", topic, err)
	}
	return tds[topic].ID
}

func rawProduce(t *testing.T, c *kgo.Client, topic string, batch []byte) kmsg.ProduceResponseTopicPartition {
	t.Helper()
	req := kmsg.NewPtrProduceRequest()
	req.Acks = -1
	req.TimeoutMillis = 5000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Records = append([]byte(nil), batch...)
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return resp.Topics[0].Partitions[0]
}

func idemBatch(t *testing.T, pid int64, epoch int16, seq int32, n int) []byte {
	t.Helper()
	var recs []record.Record
	for j := 0; j < n; j++ {
		recs = append(recs, record.Record{Offset: int64(j), Timestamp: time.Now().UnixMilli(), Value: []byte(fmt.Sprintf("s%d", int(seq)+j))})
	}
	b, err := record.Build(record.Batch{ProducerID: pid, ProducerEpoch: epoch, BaseSequence: seq, Records: recs})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBrokerIdempotentProduce(t *testing.T) {
	tb := startBroker(t, false, nil)
	c := tb.client()
	ctx := context.Background()
	if _, err := kadm.NewClient(c).CreateTopic(ctx, 1, 1, nil, "idem"); err != nil {
		t.Fatal(err)
	}
	initReq := kmsg.NewPtrInitProducerIDRequest()
	initResp, err := initReq.RequestWith(ctx, c)
	if err != nil || initResp.ErrorCode != 0 {
		t.Fatalf("init producer id: %v %d", err, initResp.ErrorCode)
	}
	pid, epoch := initResp.ProducerID, initResp.ProducerEpoch

	steps := []struct {
		name       string
		epoch      int16
		seq        int32
		n          int
		wantCode   int16
		wantOffset int64
	}{
		{"first batch", epoch, 0, 3, 0, 0},
		{"second batch", epoch, 3, 2, 0, 3},
		{"duplicate of first", epoch, 0, 3, 0, 0},
		{"duplicate of second", epoch, 3, 2, 0, 3},
		{"gap in sequence", epoch, 9, 1, kerr.OutOfOrderSequenceNumber.Code, -1},
		{"next in sequence", epoch, 5, 1, 0, 5},
		{"new epoch must start at 0", epoch + 1, 4, 1, kerr.OutOfOrderSequenceNumber.Code, -1},
		{"new epoch from 0", epoch + 1, 0, 1, 0, 6},
		{"old epoch fenced", epoch, 6, 1, kerr.InvalidProducerEpoch.Code, -1},
	}
	for _, s := range steps {
		pr := rawProduce(t, c, "idem", idemBatch(t, pid, s.epoch, s.seq, s.n))
		if pr.ErrorCode != s.wantCode || (s.wantCode == 0 && pr.BaseOffset != s.wantOffset) {
			t.Fatalf("%s: got code %d offset %d, want code %d offset %d", s.name, pr.ErrorCode, pr.BaseOffset, s.wantCode, s.wantOffset)
		}
	}
	// Producer state survives a restart: the last batch is still a duplicate.
	tb.stop()
	tb.start()
	c = tb.client()
	pr := rawProduce(t, c, "idem", idemBatch(t, pid, epoch+1, 0, 1))
	if pr.ErrorCode != 0 || pr.BaseOffset != 6 {
		t.Fatalf("duplicate after restart: code %d offset %d, want 0/6", pr.ErrorCode, pr.BaseOffset)
	}
	// A new producer ID after restart never repeats an old one.
	initResp2, err := kmsg.NewPtrInitProducerIDRequest().RequestWith(ctx, c)
	if err != nil || initResp2.ProducerID == pid {
		t.Fatalf("producer id after restart: %v, %d (old %d)", err, initResp2.ProducerID, pid)
	}
}

func TestBrokerRestartKeepsDataAndIDs(t *testing.T) {
	tb := startBroker(t, false, map[string]string{"num.partitions": "2"})
	c := tb.client(kgo.AllowAutoTopicCreation())
	want := produceN(t, c, "durable", 200, 50)
	adm := kadm.NewClient(c)
	before, err := adm.ListTopics(context.Background(), "durable")
	if err != nil {
		t.Fatal(err)
	}
	cluster := tb.app.ClusterID()
	tb.stop()
	tb.start()
	if tb.app.ClusterID() != cluster {
		t.Fatalf("cluster id changed across restart: %s -> %s", cluster, tb.app.ClusterID())
	}
	c2 := tb.client()
	after, err := kadm.NewClient(c2).ListTopics(context.Background(), "durable")
	if err != nil {
		t.Fatal(err)
	}
	if before["durable"].ID != after["durable"].ID {
		t.Fatalf("topic id changed across restart")
	}
	checkRecords(t, want, consumeAll(t, tb, "durable", len(want)))
}

func TestBrokerLongPollWakesOnAppend(t *testing.T) {
	tb := startBroker(t, true, nil)
	c := tb.client()
	ctx := context.Background()
	if _, err := kadm.NewClient(c).CreateTopic(ctx, 1, 1, nil, "poll"); err != nil {
		t.Fatal(err)
	}
	req := kmsg.NewPtrFetchRequest()
	req.MaxWaitMillis = 60000
	req.MinBytes = 1
	req.MaxBytes = 1 << 20
	req.SessionEpoch = -1
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic, rt.TopicID = "poll", topicID(t, c, "poll")
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.PartitionMaxBytes = 1 << 20
	rp.CurrentLeaderEpoch = -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	req.Version = 11
	type result struct {
		resp *kmsg.FetchResponse
		err  error
	}
	done := make(chan result, 1)
	fc := tb.client()
	start := time.Now()
	go func() {
		r, err := req.RequestWith(ctx, fc)
		done <- result{r, err}
	}()
	p := tb.client()
	if err := p.ProduceSync(ctx, &kgo.Record{Topic: "poll", Value: []byte("wake")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	// Woken by the append, not by the 60 s timeout.
	if el := time.Since(start); el > 30*time.Second {
		t.Fatalf("fetch returned after %v: it was not woken by the append", el)
	}
	if len(r.resp.Topics[0].Partitions[0].RecordBatches) == 0 {
		t.Fatal("woken fetch returned no records")
	}
}

func TestBrokerListOffsets(t *testing.T) {
	tb := startBroker(t, true, nil)
	c := tb.client()
	ctx := context.Background()
	adm := kadm.NewClient(c)
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, "times"); err != nil {
		t.Fatal(err)
	}
	stamps := []int64{1000, 2000, 9000, 3000, 4000}
	for _, ts := range stamps {
		if err := c.ProduceSync(ctx, &kgo.Record{Topic: "times", Value: []byte("x"), Timestamp: time.UnixMilli(ts)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name       string
		ts         int64
		wantOffset int64
	}{
		{"earliest", -2, 0},
		{"latest", -1, 5},
		{"max timestamp", -3, 2},
		{"exact", 2000, 1},
		{"between", 2500, 2},
		{"after all", 10000, -1},
	}
	for _, tc := range cases {
		req := kmsg.NewPtrListOffsetsRequest()
		req.ReplicaID = -1
		rt := kmsg.NewListOffsetsRequestTopic()
		rt.Topic = "times"
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Timestamp = tc.ts
		rp.CurrentLeaderEpoch = -1
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		resp, err := req.RequestWith(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		p := resp.Topics[0].Partitions[0]
		if p.ErrorCode != 0 || p.Offset != tc.wantOffset {
			t.Errorf("%s: offset %d code %d, want %d", tc.name, p.Offset, p.ErrorCode, tc.wantOffset)
		}
		if tc.ts == -3 && p.Timestamp != 9000 {
			t.Errorf("max timestamp: got %d, want 9000", p.Timestamp)
		}
	}
}

func TestBrokerTopicAdmin(t *testing.T) {
	tb := startBroker(t, true, nil)
	c := tb.client(kgo.RecordPartitioner(kgo.ManualPartitioner()))
	ctx := context.Background()
	adm := kadm.NewClient(c)
	retention := "123456"
	res, err := adm.CreateTopic(ctx, 2, 1, map[string]*string{"retention.ms": &retention}, "admin-a")
	if err != nil || res.Err != nil {
		t.Fatalf("create: %v %v", err, res.Err)
	}
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, "admin-a"); !errors.Is(err, kerr.TopicAlreadyExists) {
		t.Fatalf("duplicate create: %v", err)
	}
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, "bad/name"); !errors.Is(err, kerr.InvalidTopicException) {
		t.Fatalf("bad name: %v", err)
	}
	bad := "soon"
	if _, err := adm.CreateTopic(ctx, 1, 1, map[string]*string{"retention.ms": &bad}, "admin-b"); !errors.Is(err, kerr.InvalidConfig) {
		t.Fatalf("bad config: %v", err)
	}
	if _, err := adm.CreateTopic(ctx, 1, 3, nil, "admin-rf"); !errors.Is(err, kerr.InvalidReplicationFactor) {
		t.Fatalf("replication factor 3 on one broker: %v", err)
	}
	rcs, err := adm.DescribeTopicConfigs(ctx, "admin-a")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, cfg := range rcs[0].Configs {
		if cfg.Key == "retention.ms" {
			found = true
			if cfg.MaybeValue() != retention || cfg.Source != kmsg.ConfigSourceDynamicTopicConfig {
				t.Fatalf("retention.ms = %q source %v", cfg.MaybeValue(), cfg.Source)
			}
		}
	}
	if !found {
		t.Fatal("retention.ms not described")
	}
	// Incremental alter: set then delete.
	seg := "1048576"
	if _, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Name: "segment.bytes", Value: &seg}}, "admin-a"); err != nil {
		t.Fatal(err)
	}
	if _, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.DeleteConfig, Name: "retention.ms"}}, "admin-a"); err != nil {
		t.Fatal(err)
	}
	rcs, _ = adm.DescribeTopicConfigs(ctx, "admin-a")
	for _, cfg := range rcs[0].Configs {
		switch cfg.Key {
		case "segment.bytes":
			if cfg.MaybeValue() != seg {
				t.Fatalf("segment.bytes = %q", cfg.MaybeValue())
			}
		case "retention.ms":
			if cfg.Source == kmsg.ConfigSourceDynamicTopicConfig {
				t.Fatal("retention.ms still overridden after delete")
			}
		}
	}
	badRes, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Name: "no.such.config", Value: &seg}}, "admin-a")
	if err == nil && (len(badRes) == 0 || !errors.Is(badRes[0].Err, kerr.InvalidConfig)) {
		t.Fatalf("unknown config accepted: %v", badRes)
	}
	// Partitions grow, never shrink.
	if _, err := adm.UpdatePartitions(ctx, 4, "admin-a"); err != nil {
		t.Fatal(err)
	}
	if r, _ := adm.UpdatePartitions(ctx, 2, "admin-a"); r == nil || !errors.Is(r["admin-a"].Err, kerr.InvalidPartitions) {
		t.Fatalf("shrink accepted: %v", r)
	}
	if err := c.ProduceSync(ctx, &kgo.Record{Topic: "admin-a", Partition: 3, Value: []byte("p3")}).FirstErr(); err != nil {
		t.Fatalf("produce to new partition: %v", err)
	}
	// Delete records, then delete the topic.
	for i := 0; i < 5; i++ {
		if err := c.ProduceSync(ctx, &kgo.Record{Topic: "admin-a", Partition: 0, Value: []byte("d")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	dels := kadm.Offsets{}
	dels.Add(kadm.Offset{Topic: "admin-a", Partition: 0, At: 3})
	dr, err := adm.DeleteRecords(ctx, dels)
	if err != nil || dr["admin-a"][0].Err != nil || dr["admin-a"][0].LowWatermark != 3 {
		t.Fatalf("delete records: %v %+v", err, dr)
	}
	starts, err := adm.ListStartOffsets(ctx, "admin-a")
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := starts.Lookup("admin-a", 0); o.Offset != 3 {
		t.Fatalf("start offset after delete records = %d", o.Offset)
	}
	if _, err := adm.DeleteTopic(ctx, "admin-a"); err != nil {
		t.Fatal(err)
	}
	tds, err := adm.ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if tds.Has("admin-a") {
		t.Fatal("topic still listed after delete")
	}
	// Recreating gets a new topic ID and an empty log.
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, "admin-a"); err != nil {
		t.Fatal(err)
	}
	ends, err := adm.ListEndOffsets(ctx, "admin-a")
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := ends.Lookup("admin-a", 0); o.Offset != 0 {
		t.Fatalf("recreated topic has end offset %d", o.Offset)
	}
	// Describe cluster.
	meta, err := adm.BrokerMetadata(ctx)
	if err != nil || len(meta.Brokers) != 1 || meta.Cluster != tb.app.ClusterID() {
		t.Fatalf("broker metadata: %v %+v", err, meta)
	}
}

func TestBrokerOffsetForLeaderEpoch(t *testing.T) {
	tb := startBroker(t, true, nil)
	c := tb.client(kgo.AllowAutoTopicCreation())
	produceN(t, c, "epochs", 10, 10)
	req := kmsg.NewPtrOffsetForLeaderEpochRequest()
	req.ReplicaID = -1
	rt := kmsg.NewOffsetForLeaderEpochRequestTopic()
	rt.Topic = "epochs"
	rp := kmsg.NewOffsetForLeaderEpochRequestTopicPartition()
	rp.CurrentLeaderEpoch = -1
	rp.LeaderEpoch = 0
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	p := resp.Topics[0].Partitions[0]
	if p.ErrorCode != 0 || p.LeaderEpoch != 0 || p.EndOffset != 10 {
		t.Fatalf("epoch 0 end: code %d epoch %d end %d, want 0/0/10", p.ErrorCode, p.LeaderEpoch, p.EndOffset)
	}
}

// rawConn speaks the wire protocol by hand, to send what no client would.
type rawConn struct {
	t *testing.T
	c net.Conn
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	return &rawConn{t, c}
}

func (r *rawConn) send(b []byte) {
	r.t.Helper()
	if _, err := r.c.Write(b); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rawConn) request(req kmsg.Request, corr int32) []byte {
	body := (&kmsg.RequestFormatter{}).AppendRequest(nil, req, corr)
	r.send(body)
	return r.readFrame()
}

func (r *rawConn) readFrame() []byte {
	r.t.Helper()
	var size [4]byte
	if _, err := io.ReadFull(r.c, size[:]); err != nil {
		r.t.Fatalf("reading response: %v", err)
	}
	b := make([]byte, binary.BigEndian.Uint32(size[:]))
	if _, err := io.ReadFull(r.c, b); err != nil {
		r.t.Fatal(err)
	}
	return b
}

// expectClosed asserts the broker closed the connection.
func (r *rawConn) expectClosed() {
	r.t.Helper()
	var b [1]byte
	_, err := r.c.Read(b[:])
	if err == nil {
		r.t.Fatal("connection still open")
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		r.t.Fatal("connection not closed (read timed out)")
	}
}

func TestBrokerBadInput(t *testing.T) {
	tb := startBroker(t, true, map[string]string{"auto.create.topics.enable": "false", "socket.request.max.bytes": "1048576"})
	healthy := func() {
		t.Helper()
		c := dialRaw(t, tb.addr)
		resp := kmsg.NewPtrApiVersionsResponse()
		b := c.request(kmsg.NewPtrApiVersionsRequest(), 7)
		if binary.BigEndian.Uint32(b) != 7 {
			t.Fatal("bad correlation id")
		}
		resp.Version = 0
		if err := resp.ReadFrom(b[4:]); err != nil || resp.ErrorCode != 0 || len(resp.ApiKeys) == 0 {
			t.Fatalf("api versions after bad input: %v %+v", err, resp)
		}
	}
	t.Run("oversized frame", func(t *testing.T) {
		c := dialRaw(t, tb.addr)
		c.send([]byte{0x7f, 0xff, 0xff, 0xff})
		c.expectClosed()
		healthy()
	})
	t.Run("negative frame", func(t *testing.T) {
		c := dialRaw(t, tb.addr)
		c.send([]byte{0xff, 0xff, 0xff, 0xf0, 1, 2, 3})
		c.expectClosed()
		healthy()
	})
	t.Run("garbage", func(t *testing.T) {
		c := dialRaw(t, tb.addr)
		c.send([]byte{0, 0, 0, 20, 0x13, 0x37, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
		c.expectClosed()
		healthy()
	})
	t.Run("truncated body", func(t *testing.T) {
		req := kmsg.NewPtrMetadataRequest()
		req.Version = 9
		topic := "x"
		req.Topics = []kmsg.MetadataRequestTopic{{Topic: &topic}}
		full := (&kmsg.RequestFormatter{}).AppendRequest(nil, req, 1)
		// Claim the real size but cut the body short, then lie about the size.
		cut := append([]byte(nil), full[:len(full)-3]...)
		binary.BigEndian.PutUint32(cut, uint32(len(cut)-4))
		c := dialRaw(t, tb.addr)
		c.send(cut)
		c.expectClosed()
		healthy()
	})
	t.Run("unsupported api versions version", func(t *testing.T) {
		c := dialRaw(t, tb.addr)
		req := kmsg.NewPtrApiVersionsRequest()
		req.Version = 3
		b := (&kmsg.RequestFormatter{}).AppendRequest(nil, req, 9)
		binary.BigEndian.PutUint16(b[6:], 99) // version field
		c.send(b)
		resp := c.readFrame()
		v0 := kmsg.NewPtrApiVersionsResponse()
		v0.Version = 0
		if err := v0.ReadFrom(resp[4:]); err != nil {
			t.Fatal(err)
		}
		if v0.ErrorCode != kerr.UnsupportedVersion.Code || len(v0.ApiKeys) == 0 {
			t.Fatalf("got code %d with %d keys", v0.ErrorCode, len(v0.ApiKeys))
		}
	})
	t.Run("corrupt batch", func(t *testing.T) {
		cl := tb.client()
		if _, err := kadm.NewClient(cl).CreateTopic(context.Background(), 1, 1, nil, "crc"); err != nil {
			t.Fatal(err)
		}
		b := idemBatch(t, -1, -1, -1, 2)
		b[len(b)-1] ^= 0xff
		if pr := rawProduce(t, cl, "crc", b); pr.ErrorCode != kerr.CorruptMessage.Code {
			t.Fatalf("corrupt batch: code %d", pr.ErrorCode)
		}
		ends, err := kadm.NewClient(cl).ListEndOffsets(context.Background(), "crc")
		if err != nil {
			t.Fatal(err)
		}
		if o, _ := ends.Lookup("crc", 0); o.Offset != 0 {
			t.Fatalf("corrupt batch was stored: end offset %d", o.Offset)
		}
	})
	t.Run("unknown topic without auto create", func(t *testing.T) {
		cl := tb.client()
		req := kmsg.NewPtrMetadataRequest()
		for _, n := range []string{"nope", "bad name!"} {
			n := n
			req.Topics = append(req.Topics, kmsg.MetadataRequestTopic{Topic: &n})
		}
		req.AllowAutoTopicCreation = true
		resp, err := req.RequestWith(context.Background(), cl)
		if err != nil {
			t.Fatal(err)
		}
		codes := map[string]int16{}
		for _, tp := range resp.Topics {
			codes[*tp.Topic] = tp.ErrorCode
		}
		if codes["nope"] != kerr.UnknownTopicOrPartition.Code || codes["bad name!"] != kerr.InvalidTopicException.Code {
			t.Fatalf("codes %v", codes)
		}
		if pr := rawProduce(t, cl, "nope", idemBatch(t, -1, -1, -1, 1)); pr.ErrorCode != kerr.UnknownTopicOrPartition.Code {
			t.Fatalf("produce to unknown topic: code %d", pr.ErrorCode)
		}
	})
}

func TestBrokerMultipleSegmentsAndRetention(t *testing.T) {
	tb := startBroker(t, true, map[string]string{"log.segment.bytes": "16384"})
	c := tb.client(kgo.AllowAutoTopicCreation(), kgo.ProducerLinger(0))
	want := produceN(t, c, "segs", 400, 200)
	got := consumeAll(t, tb, "segs", len(want), kgo.FetchMaxPartitionBytes(5000))
	checkRecords(t, want, got)
	segs := tb.app.mgr.Get("segs", 0).Log().Segments()
	if len(segs) < 3 {
		t.Fatalf("expected several segments, got %d", len(segs))
	}
	// Retention by bytes through a live config change.
	adm := kadm.NewClient(c)
	limit := "20000"
	if _, err := adm.AlterTopicConfigs(context.Background(), []kadm.AlterConfig{{Name: "retention.bytes", Value: &limit}}, "segs"); err != nil {
		t.Fatal(err)
	}
	tb.app.mgr.EnforceRetention()
	starts, err := adm.ListStartOffsets(context.Background(), "segs")
	if err != nil {
		t.Fatal(err)
	}
	o, _ := starts.Lookup("segs", 0)
	if o.Offset == 0 {
		t.Fatal("retention.bytes deleted nothing")
	}
	if size := tb.app.mgr.Get("segs", 0).Log().Size(); size > 20000+16384 {
		t.Fatalf("log still %d bytes", size)
	}
}

// TestBrokerDataDirInUseRegression: a second broker on a data directory
// another one holds fails with an error naming the problem; it used to
// panic closing a nil metadata store.
func TestBrokerDataDirInUseRegression(t *testing.T) {
	first := startBroker(t, false, nil)
	cfg, _, err := config.Load(config.LoadOptions{Flags: map[string]string{
		"listeners": "PLAINTEXT://127.0.0.1:0", "http.listeners": "http://127.0.0.1:0", "log.dirs": first.dir,
	}})
	if err != nil {
		t.Fatal(err)
	}
	a, err := Start(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil {
		a.closeAll()
		t.Fatal("a second broker started on a data directory in use")
	}
	if !strings.Contains(err.Error(), "metadata") {
		t.Fatalf("error %q does not say what failed", err)
	}
}
