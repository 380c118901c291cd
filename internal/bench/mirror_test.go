package bench_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-kafka/strait/internal/app"
	"github.com/strait-kafka/strait/internal/bench"
	"github.com/strait-kafka/strait/internal/config"
	"github.com/strait-kafka/strait/internal/metadata"
)

// strait is an in-process Strait broker.
type strait struct {
	kafka string // host:port
	url   string // http://host:port
}

// startStrait runs a broker on ephemeral ports with in-memory metadata; it
// stops when the test ends.
func startStrait(t *testing.T) strait {
	t.Helper()
	cfg, _, err := config.Load(config.LoadOptions{Flags: map[string]string{
		"listeners":      "PLAINTEXT://127.0.0.1:0",
		"http.listeners": "http://127.0.0.1:0",
		"log.dirs":       t.TempDir(),
	}})
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	lg := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		lg = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.Start(ctx, cfg, lg, app.Options{Meta: metadata.NewMemory("")})
	if err != nil {
		cancel()
		t.Fatalf("start: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("broker stopped with error: %v", err)
		}
	})
	return strait{kafka: a.KafkaAddrs[0], url: "http://" + a.HTTPAddrs[0]}
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func mirrorOptions(src, dst strait) bench.MirrorOptions {
	o := bench.DefaultMirrorOptions()
	o.SourceBrokers, o.Brokers, o.URL = []string{src.kafka}, []string{dst.kafka}, dst.url
	o.Records, o.RecordSize, o.Partitions = 20_000, 100, 3
	o.LagRecords, o.LagRate = 1000, 5000
	return o
}

func listTopics(t *testing.T, brokers string) map[string]bool {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	td, err := kadm.NewClient(cl).ListTopics(t.Context())
	if err != nil {
		t.Fatalf("list topics: %v", err)
	}
	out := map[string]bool{}
	for n := range td {
		out[n] = true
	}
	return out
}

func TestBenchMirror(t *testing.T) {
	ctx := testContext(t)
	src, dst := startStrait(t), startStrait(t)
	o := mirrorOptions(src, dst)

	res, err := bench.Mirror(ctx, o)
	if err != nil {
		t.Fatalf("Mirror: %v", err)
	}
	if !res.LinkCreated || res.LinkConfigs["metadata.max.age.ms"] != "1000" || res.LinkConfigs["replica.fetch.wait.max.ms"] != "100" ||
		res.LinkConfigs["bootstrap.servers"] != src.kafka {
		t.Errorf("link created %t configs %v", res.LinkCreated, res.LinkConfigs)
	}
	if res.MirrorTopic != o.Topic || res.Partitions != 3 || len(res.SourceEnds) != 3 {
		t.Errorf("mirror topic %q partitions %d ends %v", res.MirrorTopic, res.Partitions, res.SourceEnds)
	}
	var sum int64
	for _, e := range res.SourceEnds {
		sum += e
	}
	if res.Records != o.Records || sum != o.Records || res.Bytes != o.Records*int64(o.RecordSize) || res.Load.Acked != o.Records {
		t.Errorf("records %d (ends sum %d, load acked %d) bytes %d, want %d records of %d B",
			res.Records, sum, res.Load.Acked, res.Bytes, o.Records, o.RecordSize)
	}
	if res.Raw.Records != o.Records || res.Raw.Bytes != res.Bytes || res.Raw.Stopped != bench.StopEnd || res.Raw.Errors != 0 {
		t.Errorf("raw consumer: %d records %d bytes stopped %q errors %d", res.Raw.Records, res.Raw.Bytes, res.Raw.Stopped, res.Raw.Errors)
	}
	if res.Polls < 1 || res.MirrorLower < 0 || res.MirrorLower > res.MirrorElapsed || res.CreateCall > res.MirrorElapsed ||
		res.MirrorFirstData <= 0 || res.MirrorFirstData > res.MirrorElapsed {
		t.Errorf("mirror timings inconsistent: polls %d lower %v elapsed %v create %v first data %v",
			res.Polls, res.MirrorLower, res.MirrorElapsed, res.CreateCall, res.MirrorFirstData)
	}
	if res.Raw.FirstRecord <= 0 || res.Raw.FirstRecord > res.Raw.Elapsed {
		t.Errorf("raw first record %v elapsed %v", res.Raw.FirstRecord, res.Raw.Elapsed)
	}
	// With MirrorLower 0 the mirror had caught up by the first poll and the
	// upper bound is unknown (reported as 0); otherwise it bounds the rate.
	if r := res.Ratio(); r <= 0 || (res.MirrorLower > 0 && res.MirrorMBPerSecUpper() < res.MirrorMBPerSec()) {
		t.Errorf("ratio %v, mirror MB/s %v upper bound %v", r, res.MirrorMBPerSec(), res.MirrorMBPerSecUpper())
	}

	lag := res.Lag
	if lag == nil {
		t.Fatal("no lag phase")
	}
	if lag.Sent != o.LagRecords || lag.Acked != o.LagRecords || lag.Errors != 0 {
		t.Errorf("lag producer sent %d acked %d errors %d, want %d", lag.Sent, lag.Acked, lag.Errors, o.LagRecords)
	}
	// Every acknowledged record was read at the mirror, once, at the same
	// partition and offset with the same timestamp.
	if lag.Measured != o.LagRecords || lag.Missing != 0 || lag.Duplicates != 0 || lag.Unexpected != 0 || lag.Mismatched != 0 {
		t.Errorf("lag: measured %d missing %d duplicates %d unexpected %d mismatched %d, want %d measured and nothing else",
			lag.Measured, lag.Missing, lag.Duplicates, lag.Unexpected, lag.Mismatched, o.LagRecords)
	}
	for name, h := range map[string]*bench.Histogram{"ack->mirror": lag.AckToMirror, "produce->mirror": lag.ProduceToMirror, "produce->ack": lag.ProduceToAck} {
		if h.Count() != uint64(o.LagRecords) || h.Quantile(0.5) > h.Quantile(0.99) || h.Quantile(0.99) > h.Max() {
			t.Errorf("%s: count %d p50 %v p99 %v max %v", name, h.Count(), h.Quantile(0.5), h.Quantile(0.99), h.Max())
		}
	}
	// A record cannot be read at the mirror before it was produced.
	if lag.ProduceToMirror.Min() <= 0 {
		t.Errorf("produce->mirror min %v, want > 0", lag.ProduceToMirror.Min())
	}

	// The mirror holds exactly the source's records plus the lag phase's.
	cl, err := kgo.NewClient(kgo.SeedBrokers(dst.kafka))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, res.MirrorTopic)
	if err != nil || ends.Error() != nil {
		t.Fatalf("mirror end offsets: %v %v", err, ends.Error())
	}
	var total int64
	ends.Each(func(o kadm.ListedOffset) { total += o.Offset })
	if total != o.Records+o.LagRecords {
		t.Errorf("mirror holds %d records, want %d", total, o.Records+o.LagRecords)
	}

	// A second run over the same link reuses it; the old topic is refused.
	if _, err := bench.Mirror(ctx, o); !errors.Is(err, bench.ErrTopicExists) {
		t.Errorf("second run on the same topic: %v, want ErrTopicExists", err)
	}
	o.Topic, o.Cleanup, o.LagRecords, o.Records = "second", true, 0, 500
	res, err = bench.Mirror(ctx, o)
	if err != nil {
		t.Fatalf("second Mirror: %v", err)
	}
	if res.LinkCreated || res.Lag != nil || res.Records != 500 || res.Raw.Records != 500 || !res.CleanedUp {
		t.Errorf("second run: link created %t lag %v records %d raw %d cleaned up %t (%v)",
			res.LinkCreated, res.Lag, res.Records, res.Raw.Records, res.CleanedUp, res.CleanupError)
	}
	if listTopics(t, src.kafka)["second"] || listTopics(t, dst.kafka)["second"] {
		t.Error("cleanup left the topic behind")
	}

	// Without link creation a missing link is an error.
	o.Link, o.CreateLink, o.Topic = "absent", false, "third"
	if _, err := bench.Mirror(ctx, o); !errors.Is(err, bench.ErrInvalidOption) {
		t.Errorf("missing link without --create-link: %v, want ErrInvalidOption", err)
	}
}

func TestBenchStop(t *testing.T) {
	src, dst := startStrait(t), startStrait(t)
	tests := []struct {
		name       string
		kind       string
		topics     int
		partitions int32
		records    int
	}{
		{"promote many", bench.StopPromote, 5, 2, 10},
		{"failover many", bench.StopFailover, 5, 2, 3},
		{"promote one", bench.StopPromote, 1, 1, 10},
		{"failover one empty", bench.StopFailover, 1, 3, 0},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := bench.DefaultStopOptions()
			o.SourceBrokers, o.Brokers, o.URL = []string{src.kafka}, []string{dst.kafka}, dst.url
			o.Topics, o.Partitions, o.RecordsPerTopic, o.Kind = tt.topics, tt.partitions, tt.records, tt.kind
			o.TopicPrefix = "stop" + string(rune('a'+i))
			o.Cleanup = i%2 == 0
			res, err := bench.Stop(testContext(t), o)
			if err != nil {
				t.Fatalf("Stop: %v", err)
			}
			if len(res.Topics) != tt.topics || res.Records != int64(tt.topics*tt.records) || res.Refused != 0 || !res.EndsMatch {
				t.Errorf("topics %d records %d refused %d (%s) ends match %t",
					len(res.Topics), res.Records, res.Refused, res.FirstRefusal, res.EndsMatch)
			}
			if res.LinkCreated != (i == 0) {
				t.Errorf("link created %t, want %t", res.LinkCreated, i == 0)
			}
			if res.Polls < 1 || res.CallLatency <= 0 || res.AllStopped < res.CallLatency || res.AllStoppedLower > res.AllStopped ||
				res.FirstStopped <= 0 || res.FirstStopped > res.AllStopped {
				t.Errorf("timings inconsistent: polls %d call %v all %v lower %v first %v",
					res.Polls, res.CallLatency, res.AllStopped, res.AllStoppedLower, res.FirstStopped)
			}
			// The broker's stamp is on the same clock here, at ms resolution.
			if res.AllStoppedServer < -time.Millisecond || res.AllStoppedServer > res.AllStopped+time.Millisecond {
				t.Errorf("broker-stamped stop %v outside [0, %v]", res.AllStoppedServer, res.AllStopped)
			}
			if res.CleanedUp != o.Cleanup || res.CleanupError != nil {
				t.Errorf("cleaned up %t (%v), want %t", res.CleanedUp, res.CleanupError, o.Cleanup)
			}
			dstTopics := listTopics(t, dst.kafka)
			for _, top := range res.Topics {
				if dstTopics[top] == o.Cleanup {
					t.Errorf("topic %s present %t after a run with cleanup %t", top, dstTopics[top], o.Cleanup)
				}
			}
			if !o.Cleanup {
				// A stopped mirror is an ordinary, writable topic.
				cl, err := kgo.NewClient(kgo.SeedBrokers(dst.kafka))
				if err != nil {
					t.Fatal(err)
				}
				defer cl.Close()
				if err := cl.ProduceSync(t.Context(), &kgo.Record{Topic: res.Topics[0], Value: []byte("after")}).FirstErr(); err != nil {
					t.Errorf("produce to the stopped topic: %v", err)
				}
				if _, err := bench.Stop(testContext(t), o); !errors.Is(err, bench.ErrTopicExists) {
					t.Errorf("rerun without cleanup: %v, want ErrTopicExists", err)
				}
			}
		})
	}
}

func TestBenchLinkCommands(t *testing.T) {
	src, dst := startStrait(t), startStrait(t)
	run := func(args ...string) (string, error) {
		cmd := bench.NewCommand()
		var stdout, stderr bytes.Buffer
		cmd.SetOut(&stdout)
		cmd.SetErr(&stderr)
		cmd.SetArgs(args)
		err := cmd.ExecuteContext(testContext(t))
		return stdout.String(), err
	}
	common := []string{"--source-bootstrap-server", src.kafka, "--bootstrap-server", dst.kafka, "--url", dst.url}

	out, err := run(append([]string{"mirror", "--records", "2000", "--record-size", "10", "--partitions", "2",
		"--lag-records", "200", "--lag-rate", "2000", "--cleanup", "-o", "json"}, common...)...)
	if err != nil {
		t.Fatalf("mirror: %v\n%s", err, out)
	}
	var mr bench.MirrorReport
	if err := json.Unmarshal([]byte(out), &mr); err != nil {
		t.Fatalf("mirror output is not a report: %v\n%s", err, out)
	}
	if mr.Kind != "mirror" || mr.Records != 2000 || mr.RawRecords != 2000 || mr.Partitions != 2 || mr.Bytes != 20000 ||
		mr.PollMs != 10 || mr.Lag == nil || mr.Lag.Measured != 200 || mr.Lag.FetchMaxWaitMs != 10 || mr.Lag.RecordSize != 10 || !mr.CleanedUp {
		t.Errorf("mirror report: %+v lag %+v", mr, mr.Lag)
	}

	out, err = run(append([]string{"stop", "--topics", "2", "--partitions", "2", "--kind", "failover", "--poll-interval", "5ms"}, common...)...)
	if err != nil {
		t.Fatalf("stop: %v\n%s", err, out)
	}
	for _, want := range []string{"failover call", "2 topics x 2 partitions, 20 records", "all STOPPED", "polled every 5ms", "equal to the source's: true", "strait-bench-link (reused"} {
		if !strings.Contains(out, want) {
			t.Errorf("stop report lacks %q:\n%s", want, out)
		}
	}

	for _, args := range [][]string{
		{"mirror", "--url", dst.url}, // no source
		append([]string{"stop", "--kind", "demote"}, common...),
		append([]string{"mirror", "--lag-rate", "0"}, common...),
		append([]string{"stop", "--topics", "0"}, common...),
	} {
		if _, err := run(args...); !errors.Is(err, bench.ErrInvalidOption) {
			t.Errorf("%v: %v, want ErrInvalidOption", args, err)
		}
	}
}
