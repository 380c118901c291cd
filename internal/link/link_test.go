package link_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-kafka/strait/internal/broker"
	"github.com/strait-kafka/strait/internal/config"
	"github.com/strait-kafka/strait/internal/group"
	"github.com/strait-kafka/strait/internal/link"
	"github.com/strait-kafka/strait/internal/metadata"
	"github.com/strait-kafka/strait/internal/partition"
	"github.com/strait-kafka/strait/internal/server"
	"github.com/strait-kafka/strait/internal/testutil"
)

// dest is an in-process destination cluster: a broker with a Kafka listener
// and a link manager.
type dest struct {
	t     *testing.T
	brk   *broker.Broker
	links *link.Manager
	addr  string
	cl    *kgo.Client
	reg   *prometheus.Registry
}

// counter reads a counter of the destination's link metrics (0 if absent).
func (d *dest) counter(name, link string) float64 {
	mfs, err := d.reg.Gather()
	if err != nil {
		d.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "link" && l.GetValue() == link {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

func logger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func newDest(t *testing.T, secret string) *dest {
	t.Helper()
	lg := logger().With("cluster", "dest")
	cfg := config.DefaultBroker()
	cfg.LogDirs = []string{t.TempDir()}
	cfg.OffsetsTopicPartitions = 3
	cfg.GroupInitialRebalanceDelayMs = 0
	meta := metadata.NewMemory("")
	mgr, err := partition.NewManager(partition.ManagerOptions{Dirs: cfg.LogDirs, Logger: lg})
	if err != nil {
		t.Fatal(err)
	}
	groups := group.New(group.Options{
		Config: group.ConfigFromBroker(cfg), Partitions: mgr, Logger: lg,
		Topics: func(topic string) (int32, bool) {
			tp, ok := meta.Topic(topic)
			return int32(len(tp.Partitions)), ok
		},
	})
	brk, err := broker.New(broker.Options{Config: cfg, Meta: meta, Partitions: mgr, Groups: groups, Logger: lg})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := netListen()
	if err != nil {
		t.Fatal(err)
	}
	host, port := splitAddr(t, ln.Addr().String())
	brk.SetAdvertised(host, port)
	if err := brk.Reconcile(); err != nil {
		t.Fatal(err)
	}
	n, err := brk.EnsureInternalTopic(context.Background(), group.Topic, cfg.OffsetsTopicPartitions, group.TopicConfigs())
	if err != nil {
		t.Fatal(err)
	}
	if err := groups.Load(n); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	links, err := link.New(link.Options{Broker: brk, Secret: secret, Logger: lg, Groups: groups, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv := server.New(server.Options{Listener: ln, Name: "PLAINTEXT", Broker: brk, Logger: lg,
		MaxRequestBytes: func() int32 { return 100 << 20 }})
	done := make(chan struct{}, 4)
	go func() { _ = srv.Serve(ctx); done <- struct{}{} }()
	go func() { brk.Run(ctx); done <- struct{}{} }()
	go func() { links.Run(ctx); done <- struct{}{} }()
	go func() { groups.Run(ctx); done <- struct{}{} }()
	t.Cleanup(func() {
		cancel()
		for i := 0; i < 4; i++ {
			<-done
		}
		groups.Close()
		mgr.Close()
		meta.Close()
	})
	d := &dest{t: t, brk: brk, links: links, addr: ln.Addr().String(), reg: reg}
	d.cl = newClient(t, d.addr)
	return d
}

func newClient(t *testing.T, addr string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// fastLink are link configs that make tests quick: short sync periods and
// fetch waits (every period at its 1000 ms floor).
func fastLink(bootstrap string, extra ...string) map[string]string {
	cfg := map[string]string{
		"bootstrap.servers":         bootstrap,
		"metadata.max.age.ms":       "1000",
		"availability.check.ms":     "1000",
		"topic.config.sync.ms":      "1000",
		"replica.fetch.wait.max.ms": "100",
		"replica.fetch.backoff.ms":  "100",
	}
	for i := 0; i+1 < len(extra); i += 2 {
		cfg[extra[i]] = extra[i+1]
	}
	return cfg
}

// newSource starts a kfake source cluster and returns it with its first
// listen address and a client of it.
func newSource(t *testing.T, opts ...kfake.Opt) (*kfake.Cluster, string, *kgo.Client) {
	t.Helper()
	src := newKfake(t, opts...)
	addr := src.ListenAddrs()[0]
	return src, addr, newClient(t, addr)
}

func newKfake(t *testing.T, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// produceMix writes n records per codec to topic with keys, headers and
// varied sizes, through one idempotent producer per codec.
func produceMix(t *testing.T, addr, topic string, n int) {
	t.Helper()
	codecs := []kgo.CompressionCodec{kgo.NoCompression(), kgo.GzipCompression(), kgo.SnappyCompression(), kgo.Lz4Compression(), kgo.ZstdCompression()}
	for ci, codec := range codecs {
		cl := newClient(t, addr, kgo.ProducerBatchCompression(codec), kgo.DefaultProduceTopic(topic), kgo.ProducerLinger(0))
		var recs []*kgo.Record
		for i := 0; i < n; i++ {
			recs = append(recs, &kgo.Record{
				Key:     []byte(fmt.Sprintf("k%d-%d", ci, i)),
				Value:   []byte(strings.Repeat(fmt.Sprintf("v%d-%d;", ci, i), 1+i%17)),
				Headers: []kgo.RecordHeader{{Key: "codec", Value: []byte(fmt.Sprint(ci))}},
			})
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			cancel()
			t.Fatalf("producing: %v", err)
		}
		cancel()
	}
}

// waitCaughtUp waits until every partition of the mirror has the source's
// high watermark as its log end.
func waitCaughtUp(t *testing.T, d *dest, src *kgo.Client, linkName, srcTopic, mirror string) {
	t.Helper()
	testutil.WaitFor(t, 60*time.Second, func() (bool, string) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ends, err := kadm.NewClient(src).ListEndOffsets(ctx, srcTopic)
		if err != nil {
			return false, err.Error()
		}
		mi, err := d.links.DescribeMirror(ctx, linkName, mirror)
		if err != nil {
			return false, err.Error()
		}
		for _, pl := range mi.Lags {
			e, _ := ends.Lookup(srcTopic, pl.Partition)
			if pl.MirrorLogEndOffset != e.Offset {
				return false, fmt.Sprintf("partition %d: mirror end %d, source end %d (state %s %s)", pl.Partition, pl.MirrorLogEndOffset, e.Offset, mi.State, mi.Error)
			}
		}
		return len(mi.Lags) > 0, "no partitions"
	})
}

func createTopic(t *testing.T, cl *kgo.Client, topic string, partitions int32, configs map[string]*string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, partitions, 1, configs, topic); err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}
}

func TestLinkMirrorFromKfakeEveryCodec(t *testing.T) {
	_, srcAddr, srcCl := newSource(t)
	createTopic(t, srcCl, "orders", 3, nil)
	produceMix(t, srcAddr, "orders", 200)

	d := newDest(t, "")
	ctx := context.Background()
	if err := d.links.CreateLink(ctx, link.CreateLinkRequest{Name: "from-kfake", SourceClusterID: "wrong-cluster-id", Configs: fastLink(srcAddr)}); err == nil {
		t.Fatal("a wrong source cluster ID was accepted")
	} else if !strings.Contains(err.Error(), "not the expected") {
		t.Fatalf("wrong cluster ID error: %v", err)
	}
	if err := d.links.CreateLink(ctx, link.CreateLinkRequest{Name: "from-kfake", Configs: fastLink(srcAddr)}); err != nil {
		t.Fatal(err)
	}
	if err := d.links.CreateMirror(ctx, link.CreateMirrorRequest{Link: "from-kfake", SourceTopic: "orders"}); err != nil {
		t.Fatal(err)
	}
	waitCaughtUp(t, d, srcCl, "from-kfake", "orders", "orders")
	// More data after the mirror exists flows too.
	produceMix(t, srcAddr, "orders", 50)
	waitCaughtUp(t, d, srcCl, "from-kfake", "orders", "orders")
	batches, bytes := testutil.CheckMirrorTopic(t, srcCl, d.cl, "orders", "orders", 3)
	t.Logf("oracle: %d batches, %d bytes identical", batches, bytes)

	mi, err := d.links.DescribeMirror(ctx, "from-kfake", "orders")
	if err != nil || mi.State != link.StateActive || mi.Partitions != 3 {
		t.Fatalf("describe: %v %+v", err, mi)
	}
	for _, pl := range mi.Lags {
		if pl.Lag != 0 || pl.LastFetch.IsZero() {
			t.Fatalf("partition lag %+v", pl)
		}
	}
}
