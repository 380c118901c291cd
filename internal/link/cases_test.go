package link_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/strait-kafka/strait/internal/link"
	"github.com/strait-kafka/strait/internal/record"
	"github.com/strait-kafka/strait/internal/testutil"
)

func mustLink(t *testing.T, d *dest, name string, cfg map[string]string) {
	t.Helper()
	if err := d.links.CreateLink(context.Background(), link.CreateLinkRequest{Name: name, Configs: cfg}); err != nil {
		t.Fatalf("create link %s: %v", name, err)
	}
}

func mustMirror(t *testing.T, d *dest, linkName, topic string) {
	t.Helper()
	if err := d.links.CreateMirror(context.Background(), link.CreateMirrorRequest{Link: linkName, SourceTopic: topic}); err != nil {
		t.Fatalf("create mirror %s: %v", topic, err)
	}
}

func waitState(t *testing.T, d *dest, linkName, topic, state string) link.MirrorInfo {
	t.Helper()
	var mi link.MirrorInfo
	testutil.WaitFor(t, 60*time.Second, func() (bool, string) {
		var err error
		mi, err = d.links.DescribeMirror(context.Background(), linkName, topic)
		if err != nil {
			return false, err.Error()
		}
		return mi.State == state, fmt.Sprintf("state %s (error %s: %s), want %s", mi.State, mi.Error, mi.ErrorMessage, state)
	})
	return mi
}

func TestLinkSCRAMSourceAndSealedSecrets(t *testing.T) {
	src := newKfake(t, kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-256", "linker", "s3cret-pw"))
	srcAddr := src.ListenAddrs()[0]
	srcCl := newClient(t, srcAddr, kgo.SASL(scram.Auth{User: "linker", Pass: "s3cret-pw"}.AsSha256Mechanism()))
	createTopic(t, srcCl, "secure", 2, nil)
	for i := 0; i < 100; i++ {
		if err := srcCl.ProduceSync(context.Background(), &kgo.Record{Topic: "secure", Value: []byte(fmt.Sprint(i))}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	jaas := func(pw string) string {
		return `org.apache.kafka.common.security.scram.ScramLoginModule required username="linker" password="` + pw + `";`
	}
	scramCfg := func(pw string) map[string]string {
		return fastLink(srcAddr, "security.protocol", "SASL_PLAINTEXT", "sasl.mechanism", "SCRAM-SHA-256", "sasl.jaas.config", jaas(pw))
	}
	ctx := context.Background()

	noSecret := newDest(t, "")
	err := noSecret.links.CreateLink(ctx, link.CreateLinkRequest{Name: "sec", Configs: scramCfg("s3cret-pw")})
	if err == nil || !strings.Contains(err.Error(), "cluster.link.secret") {
		t.Fatalf("credentials stored without a broker secret: %v", err)
	}

	d := newDest(t, "a broker secret")
	if err := d.links.CreateLink(ctx, link.CreateLinkRequest{Name: "sec", Configs: scramCfg("wrong")}); err == nil {
		t.Fatal("a wrong password passed link validation")
	}
	mustLink(t, d, "sec", scramCfg("s3cret-pw"))
	stored, _ := d.brk.Metadata().Link("sec")
	if v := stored.Configs["sasl.jaas.config"]; !strings.HasPrefix(v, "enc:v1:") || strings.Contains(v, "s3cret") {
		t.Fatalf("jaas config stored as %q", v)
	}
	cfgs, err := d.links.LinkConfigs(ctx, "sec")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cfgs {
		if c.Name == "sasl.jaas.config" && (c.Value != nil || !c.Sensitive) {
			t.Fatalf("sasl.jaas.config described as %+v", c)
		}
	}
	mustMirror(t, d, "sec", "secure")
	waitCaughtUp(t, d, srcCl, "sec", "secure", "secure")
	testutil.CheckMirrorTopic(t, srcCl, d.cl, "secure", "secure", 2)
}

func TestLinkTransactionsAndCompactionGaps(t *testing.T) {
	src, srcAddr, srcCl := newSource(t)
	ctx := context.Background()
	compact := "compact"
	createTopic(t, srcCl, "txns", 2, nil)
	createTopic(t, srcCl, "compacted", 1, map[string]*string{"cleanup.policy": &compact})

	// Committed and aborted transactions leave control batches in the log.
	tx := newClient(t, srcAddr, kgo.TransactionalID("mirror-test"), kgo.DefaultProduceTopic("txns"))
	for round := 0; round < 6; round++ {
		if err := tx.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 10; i++ {
			tx.Produce(ctx, &kgo.Record{Value: []byte(fmt.Sprintf("r%d-%d", round, i))}, nil)
		}
		commit := kgo.TryCommit
		if round%2 == 1 {
			commit = kgo.TryAbort
		}
		if err := tx.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if err := tx.EndTransaction(ctx, commit); err != nil {
			t.Fatal(err)
		}
	}
	// Repeated keys, then compaction: the source log has offset gaps.
	p := newClient(t, srcAddr, kgo.DefaultProduceTopic("compacted"), kgo.ProducerLinger(0))
	for i := 0; i < 120; i++ {
		key := fmt.Sprint("unique-", i) // even offsets survive compaction ...
		if i%2 == 1 {
			key = "repeated" // ... odd ones are superseded: gaps between survivors
		}
		if err := p.ProduceSync(ctx, &kgo.Record{Key: []byte(key), Value: []byte(fmt.Sprint(i))}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	src.Compact()
	before, err := testutil.ReadRawPartition(ctx, srcCl, "compacted", 0)
	if err != nil {
		t.Fatal(err)
	}
	if !hasGap(t, before.Batches) {
		t.Fatal("the compacted source has no offset gaps: the test would prove nothing")
	}

	d := newDest(t, "")
	mustLink(t, d, "l", fastLink(srcAddr))
	mustMirror(t, d, "l", "txns")
	mustMirror(t, d, "l", "compacted")
	waitCaughtUp(t, d, srcCl, "l", "txns", "txns")
	waitCaughtUp(t, d, srcCl, "l", "compacted", "compacted")
	testutil.CheckMirrorTopic(t, srcCl, d.cl, "txns", "txns", 2)
	testutil.CheckMirrorTopic(t, srcCl, d.cl, "compacted", "compacted", 1)
	mirrored, err := testutil.ReadRawPartition(ctx, d.cl, "compacted", 0)
	if err != nil {
		t.Fatal(err)
	}
	if !hasGap(t, mirrored.Batches) {
		t.Fatal("the mirror lost the source's offset gaps")
	}
	if n := countControl(t, mirrored.Batches); n != 0 {
		t.Fatalf("compacted topic has %d control batches", n)
	}
	var ctl int
	for part := int32(0); part < 2; part++ {
		rp, err := testutil.ReadRawPartition(ctx, d.cl, "txns", part)
		if err != nil {
			t.Fatal(err)
		}
		ctl += countControl(t, rp.Batches)
	}
	if ctl == 0 {
		t.Fatal("no transaction markers reached the mirror")
	}
}

func hasGap(t *testing.T, batches [][]byte) bool {
	t.Helper()
	next := int64(-1)
	for _, b := range batches {
		h, err := record.ParseHeader(b)
		if err != nil {
			t.Fatal(err)
		}
		if next >= 0 && h.BaseOffset > next {
			return true
		}
		next = h.LastOffset() + 1
	}
	return false
}

func countControl(t *testing.T, batches [][]byte) int {
	t.Helper()
	n := 0
	for _, b := range batches {
		h, err := record.ParseHeader(b)
		if err != nil {
			t.Fatal(err)
		}
		if h.IsControl() {
			n++
		}
	}
	return n
}

func TestLinkSourceLogStartAboveZero(t *testing.T) {
	_, srcAddr, srcCl := newSource(t)
	ctx := context.Background()
	createTopic(t, srcCl, "trimmed", 1, nil)
	prod := newClient(t, srcAddr, kgo.DefaultProduceTopic("trimmed"))
	for round := 0; round < 10; round++ {
		var recs []*kgo.Record
		for i := 0; i < 10; i++ {
			recs = append(recs, &kgo.Record{Value: []byte(fmt.Sprintf("%d-%d", round, i))})
		}
		if err := prod.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	deleteTo := func(off int64) {
		t.Helper()
		os := kadm.Offsets{}
		os.Add(kadm.Offset{Topic: "trimmed", Partition: 0, At: off})
		if _, err := kadm.NewClient(srcCl).DeleteRecords(ctx, os); err != nil {
			t.Fatal(err)
		}
	}
	deleteTo(37) // inside a batch
	d := newDest(t, "")
	mustLink(t, d, "l", fastLink(srcAddr))
	mustMirror(t, d, "l", "trimmed")
	waitCaughtUp(t, d, srcCl, "l", "trimmed", "trimmed")
	testutil.CheckMirrorTopic(t, srcCl, d.cl, "trimmed", "trimmed", 1)
	// The mirror's log start follows the source's as it moves.
	deleteTo(64)
	if err := prod.ProduceSync(ctx, &kgo.Record{Value: []byte("after trim")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 30*time.Second, func() (bool, string) {
		s, err := kadm.NewClient(d.cl).ListStartOffsets(ctx, "trimmed")
		if err != nil {
			return false, err.Error()
		}
		o, _ := s.Lookup("trimmed", 0)
		return o.Offset == 64, fmt.Sprintf("mirror log start %d, want 64", o.Offset)
	})
	waitCaughtUp(t, d, srcCl, "l", "trimmed", "trimmed")
	testutil.CheckMirrorTopic(t, srcCl, d.cl, "trimmed", "trimmed", 1)
}

func TestLinkMultiBrokerSourceWithLeaderMoves(t *testing.T) {
	src, srcAddr, srcCl := newSource(t, kfake.NumBrokers(3))
	createTopic(t, srcCl, "spread", 6, nil)
	produceMix(t, srcAddr, "spread", 60)
	d := newDest(t, "")
	mustLink(t, d, "l", fastLink(strings.Join(src.ListenAddrs(), ",")))
	mustMirror(t, d, "l", "spread")
	waitCaughtUp(t, d, srcCl, "l", "spread", "spread")
	src.ShufflePartitionLeaders()
	produceMix(t, srcAddr, "spread", 60)
	waitCaughtUp(t, d, srcCl, "l", "spread", "spread")
	testutil.CheckMirrorTopic(t, srcCl, d.cl, "spread", "spread", 6)
}

// TestLinkPauseStopsFetching observes the source's Fetch requests: after a
// pause, fetches carry the active mirror's partitions but never the paused
// one's; after resume the paused mirror catches up.
func TestLinkPauseStopsFetching(t *testing.T) {
	src, srcAddr, srcCl := newSource(t)
	createTopic(t, srcCl, "paused", 1, nil)
	createTopic(t, srcCl, "running", 1, nil)
	var (
		mu              sync.Mutex
		watching        bool
		runningFetches  int
		pausedInFetches int
	)
	src.ControlKey(1, func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		src.KeepControl()
		req := kreq.(*kmsg.FetchRequest)
		mu.Lock()
		defer mu.Unlock()
		if !watching {
			return nil, nil, false
		}
		for _, rt := range req.Topics {
			name := rt.Topic
			for n, id := range map[string][16]byte{"paused": topicIDOf(t, srcCl, "paused"), "running": topicIDOf(t, srcCl, "running")} {
				if rt.TopicID == id {
					name = n
				}
			}
			switch name {
			case "paused":
				pausedInFetches++
			case "running":
				runningFetches++
			}
		}
		return nil, nil, false
	})
	d := newDest(t, "")
	mustLink(t, d, "l", fastLink(srcAddr))
	mustMirror(t, d, "l", "paused")
	mustMirror(t, d, "l", "running")
	ctx := context.Background()
	res, err := d.links.PauseMirrors(ctx, "l", []string{"paused"}, false)
	if err != nil || len(res) != 1 || res[0].Err != nil {
		t.Fatalf("pause: %v %+v", err, res)
	}
	waitState(t, d, "l", "paused", link.StatePaused)
	// Let any fetch already in flight finish before watching.
	testutil.WaitFor(t, 30*time.Second, func() (bool, string) {
		mi, _ := d.links.DescribeMirror(ctx, "l", "running")
		return len(mi.Lags) == 1 && !mi.Lags[0].LastFetch.IsZero(), "running mirror has not fetched yet"
	})
	mu.Lock()
	watching = true
	mu.Unlock()
	for i := 0; i < 20; i++ {
		for _, tp := range []string{"paused", "running"} {
			if err := srcCl.ProduceSync(ctx, &kgo.Record{Topic: tp, Value: []byte(fmt.Sprint(i))}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}
	waitCaughtUp(t, d, srcCl, "l", "running", "running")
	testutil.WaitFor(t, 30*time.Second, func() (bool, string) {
		mu.Lock()
		defer mu.Unlock()
		return runningFetches >= 5, fmt.Sprintf("%d fetches of the running mirror", runningFetches)
	})
	mu.Lock()
	if pausedInFetches != 0 {
		t.Fatalf("the paused mirror was fetched %d times", pausedInFetches)
	}
	mu.Unlock()
	if mi, _ := d.links.DescribeMirror(ctx, "l", "paused"); mi.Lags[0].MirrorLogEndOffset != 0 {
		t.Fatalf("paused mirror grew to %d", mi.Lags[0].MirrorLogEndOffset)
	}
	if res, err := d.links.ResumeMirrors(ctx, "l", []string{"paused"}, false); err != nil || res[0].Err != nil {
		t.Fatalf("resume: %v %+v", err, res)
	}
	waitCaughtUp(t, d, srcCl, "l", "paused", "paused")
	testutil.CheckMirrorTopic(t, srcCl, d.cl, "paused", "paused", 1)

	// Link-wide pause shows LINK_PAUSED, and un-pausing restores ACTIVE.
	if err := d.links.AlterLinkConfigs(ctx, "l", map[string]string{"cluster.link.paused": "true"}, nil, false); err != nil {
		t.Fatal(err)
	}
	waitState(t, d, "l", "running", link.StateLinkPaused)
	if err := d.links.AlterLinkConfigs(ctx, "l", nil, []string{"cluster.link.paused"}, false); err != nil {
		t.Fatal(err)
	}
	waitState(t, d, "l", "running", link.StateActive)
}

var topicIDs sync.Map

func topicIDOf(t *testing.T, cl *kgo.Client, topic string) [16]byte {
	if id, ok := topicIDs.Load(topic); ok {
		return id.([16]byte)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	tds, err := kadm.NewClient(cl).ListTopics(ctx, topic)
	if err != nil {
		return [16]byte{}
	}
	id := [16]byte(tds[topic].ID)
	topicIDs.Store(topic, id)
	return id
}

func TestLinkSourceTopicRecreatedFailsWithoutMixing(t *testing.T) {
	_, srcAddr, srcCl := newSource(t)
	ctx := context.Background()
	createTopic(t, srcCl, "doomed", 1, nil)
	for i := 0; i < 30; i++ {
		if err := srcCl.ProduceSync(ctx, &kgo.Record{Topic: "doomed", Value: []byte(fmt.Sprint("old-", i))}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	d := newDest(t, "")
	mustLink(t, d, "l", fastLink(srcAddr, "cluster.link.retry.timeout.ms", "3000"))
	mustMirror(t, d, "l", "doomed")
	waitCaughtUp(t, d, srcCl, "l", "doomed", "doomed")
	old, err := testutil.ReadRawPartition(ctx, d.cl, "doomed", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kadm.NewClient(srcCl).DeleteTopics(ctx, "doomed"); err != nil {
		t.Fatal(err)
	}
	createTopic(t, srcCl, "doomed", 1, nil)
	fresh := newClient(t, srcAddr) // one that never knew the old topic ID
	for i := 0; i < 50; i++ {
		if err := fresh.ProduceSync(ctx, &kgo.Record{Topic: "doomed", Value: []byte(fmt.Sprint("new-", i))}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	mi := waitState(t, d, "l", "doomed", link.StateFailed)
	if mi.Error != "SOURCE_TOPIC_ID_CHANGED" && mi.Error != "SOURCE_TOPIC_MAY_BE_DELETED" {
		t.Fatalf("failed with error %q: %s", mi.Error, mi.ErrorMessage)
	}
	now, err := testutil.ReadRawPartition(ctx, d.cl, "doomed", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := testutil.CompareMirror(old, now); err != nil {
		t.Fatalf("the failed mirror changed after the source was recreated: %v", err)
	}
}

func TestLinkSourcePartitionsGrowAndConfigsSync(t *testing.T) {
	src := newKfake(t)
	srcAddr := src.ListenAddrs()[0]
	srcCl := newClient(t, srcAddr, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	ctx := context.Background()
	createTopic(t, srcCl, "growing", 2, nil)
	d := newDest(t, "")
	mustLink(t, d, "l", fastLink(srcAddr))
	mustMirror(t, d, "l", "growing")
	if _, err := kadm.NewClient(srcCl).UpdatePartitions(ctx, 4, "growing"); err != nil {
		t.Fatal(err)
	}
	ret := "123456789"
	if _, err := kadm.NewClient(srcCl).AlterTopicConfigs(ctx, []kadm.AlterConfig{{Name: "retention.ms", Value: &ret}}, "growing"); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 30*time.Second, func() (bool, string) {
		tp, _ := d.brk.Metadata().Topic("growing")
		return len(tp.Partitions) == 4 && tp.Configs["retention.ms"] == ret,
			fmt.Sprintf("mirror has %d partitions and retention.ms %q", len(tp.Partitions), tp.Configs["retention.ms"])
	})
	for p := int32(0); p < 4; p++ {
		if err := srcCl.ProduceSync(ctx, &kgo.Record{Topic: "growing", Partition: p, Value: []byte(fmt.Sprint(p))}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	waitCaughtUp(t, d, srcCl, "l", "growing", "growing")
	testutil.CheckMirrorTopic(t, srcCl, d.cl, "growing", "growing", 4)
}

func TestLinkStartOffsetSpec(t *testing.T) {
	_, srcAddr, srcCl := newSource(t)
	ctx := context.Background()
	for _, topic := range []string{"from-latest", "from-time"} {
		createTopic(t, srcCl, topic, 1, nil)
		for i := 0; i < 10; i++ {
			r := &kgo.Record{Topic: topic, Value: []byte(fmt.Sprint(i)), Timestamp: time.UnixMilli(int64(1_700_000_000_000 + i*1000))}
			if err := srcCl.ProduceSync(ctx, r).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}
	d := newDest(t, "")
	mustLink(t, d, "latest", fastLink(srcAddr, "mirror.start.offset.spec", "latest"))
	mustLink(t, d, "bytime", fastLink(srcAddr, "mirror.start.offset.spec", time.UnixMilli(1_700_000_004_000).UTC().Format(time.RFC3339)))
	mustMirror(t, d, "latest", "from-latest")
	mustMirror(t, d, "bytime", "from-time")
	for _, topic := range []string{"from-latest", "from-time"} {
		if err := srcCl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("after")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	waitCaughtUp(t, d, srcCl, "latest", "from-latest", "from-latest")
	waitCaughtUp(t, d, srcCl, "bytime", "from-time", "from-time")
	for topic, want := range map[string]int64{"from-latest": 10, "from-time": 4} {
		tp, _ := d.brk.Metadata().Topic(topic)
		if got := tp.Mirror.StartOffsets[0]; got != want {
			t.Errorf("%s started at %d, want %d", topic, got, want)
		}
		rp, err := testutil.ReadRawPartition(ctx, d.cl, topic, 0)
		if err != nil {
			t.Fatal(err)
		}
		first, _ := record.ParseHeader(rp.Batches[0])
		if first.LastOffset() < want || rp.HighWatermark != 11 {
			t.Errorf("%s holds batches from %d, end %d", topic, first.BaseOffset, rp.HighWatermark)
		}
	}
}

// TestLinkSourceUnavailable makes every request to the source fail for a
// while: the mirror shows SOURCE_UNAVAILABLE after the threshold, and goes
// back to ACTIVE by itself when the source answers again.
func TestLinkSourceUnavailable(t *testing.T) {
	src, srcAddr, srcCl := newSource(t)
	createTopic(t, srcCl, "flaky", 1, nil)
	down := outageSwitch(src)
	d := newDest(t, "")
	mustLink(t, d, "l", fastLink(srcAddr, "availability.check.consecutive.failure.threshold", "2", "request.timeout.ms", "2000"))
	mustMirror(t, d, "l", "flaky")
	down.Store(true)
	waitState(t, d, "l", "flaky", link.StateSourceUnavailable)
	info, err := d.links.DescribeLink(context.Background(), "l", true)
	if err != nil || info.State != link.LinkStateUnavailable || info.Error == "NO_ERROR" {
		t.Fatalf("link while the source is down: %v %+v", err, info)
	}
	down.Store(false)
	waitState(t, d, "l", "flaky", link.StateActive)
	if err := srcCl.ProduceSync(context.Background(), &kgo.Record{Topic: "flaky", Value: []byte("back")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	waitCaughtUp(t, d, srcCl, "l", "flaky", "flaky")
	testutil.CheckMirrorTopic(t, srcCl, d.cl, "flaky", "flaky", 1)
}

// TestLinkTruncationAtSourceIsMirrored uses a Strait source whose partition
// is truncated and rewritten under a new leader epoch (what an unclean
// leader election does): the mirror truncates to match and then copies the
// new records.
func TestLinkTruncationAtSourceIsMirrored(t *testing.T) {
	srcCluster := newDest(t, "")
	ctx := context.Background()
	createTopic(t, srcCluster.cl, "diverge", 1, nil)
	for i := 0; i < 20; i++ {
		if err := srcCluster.cl.ProduceSync(ctx, &kgo.Record{Topic: "diverge", Value: []byte(fmt.Sprint("epoch0-", i))}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	d := newDest(t, "")
	mustLink(t, d, "l", fastLink(srcCluster.addr))
	mustMirror(t, d, "l", "diverge")
	waitCaughtUp(t, d, srcCluster.cl, "l", "diverge", "diverge")

	sp := srcCluster.brk.Partition("diverge", 0)
	if err := sp.TruncateTo(12); err != nil {
		t.Fatal(err)
	}
	var recs []record.Record
	for i := 0; i < 5; i++ {
		recs = append(recs, record.Record{Offset: int64(12 + i), Timestamp: time.Now().UnixMilli(), Value: []byte(fmt.Sprint("epoch1-", i))})
	}
	b, err := record.Build(record.Batch{BaseOffset: 12, PartitionLeaderEpoch: 1, ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1, Records: recs})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sp.AppendVerbatim(b, -1); err != nil {
		t.Fatal(err)
	}
	waitCaughtUp(t, d, srcCluster.cl, "l", "diverge", "diverge")
	testutil.CheckMirrorTopic(t, srcCluster.cl, d.cl, "diverge", "diverge", 1)
}

// TestLinkDeleteRefusedWithLiveMirrors: a link with mirrors that are not
// stopped is only deleted with force, and its mirrors become LINK_FAILED.
func TestLinkDeleteRefusedWithLiveMirrors(t *testing.T) {
	_, srcAddr, srcCl := newSource(t)
	createTopic(t, srcCl, "kept", 1, nil)
	d := newDest(t, "")
	mustLink(t, d, "l", fastLink(srcAddr))
	mustMirror(t, d, "l", "kept")
	ctx := context.Background()
	if err := d.links.DeleteLink(ctx, "l", false, false); err == nil || !strings.Contains(err.Error(), "kept") {
		t.Fatalf("delete with a live mirror: %v", err)
	}
	if err := d.links.DeleteLink(ctx, "l", true, true); err != nil {
		t.Fatalf("forced dry run: %v", err)
	}
	if _, ok := d.brk.Metadata().Link("l"); !ok {
		t.Fatal("a dry run deleted the link")
	}
	if err := d.links.DeleteLink(ctx, "l", true, false); err != nil {
		t.Fatal(err)
	}
	tp, _ := d.brk.Metadata().Topic("kept")
	if tp.Mirror == nil || tp.Mirror.State != link.StateLinkFailed {
		t.Fatalf("mirror after forced link delete: %+v", tp.Mirror)
	}
	var e *link.Error
	if err := d.links.DeleteLink(ctx, "l", false, false); !errors.As(err, &e) || e.HTTPStatus != 404 {
		t.Fatalf("delete of a missing link: %v", err)
	}
}

// TestLinkCreateRefusals: link and mirror creation refuse what the issue
// lists, with clear errors, and change nothing.
func TestLinkCreateRefusals(t *testing.T) {
	_, srcAddr, srcCl := newSource(t)
	createTopic(t, srcCl, "exists-here", 1, nil)
	createTopic(t, srcCl, "fine", 1, nil)
	d := newDest(t, "")
	ctx := context.Background()
	createTopic(t, d.cl, "exists-here", 1, nil)

	mustLink(t, d, "l", fastLink(srcAddr))
	cases := []struct {
		name string
		req  link.CreateMirrorRequest
		want string
	}{
		{"topic exists", link.CreateMirrorRequest{Link: "l", SourceTopic: "exists-here"}, "already exists"},
		{"no such link", link.CreateMirrorRequest{Link: "nope", SourceTopic: "fine"}, "Cluster link 'nope' does not exist."},
		{"no such source topic", link.CreateMirrorRequest{Link: "l", SourceTopic: "absent"}, "does not exist on the source cluster"},
		{"synced config given", link.CreateMirrorRequest{Link: "l", SourceTopic: "fine", Configs: map[string]string{"retention.ms": "1"}}, "Cannot set configuration 'retention.ms'"},
		{"renamed without prefix", link.CreateMirrorRequest{Link: "l", SourceTopic: "fine", MirrorTopic: "other"}, "renaming needs a link with cluster.link.prefix"},
	}
	for _, c := range cases {
		err := d.links.CreateMirror(ctx, c.req)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error containing %q", c.name, err, c.want)
		}
	}
	if _, ok := d.brk.Metadata().Topic("fine"); ok {
		t.Fatal("a refused mirror was created")
	}
	if err := d.links.AlterLinkConfigs(ctx, "l", map[string]string{"cluster.link.paused": "true"}, nil, false); err != nil {
		t.Fatal(err)
	}
	if err := d.links.CreateMirror(ctx, link.CreateMirrorRequest{Link: "l", SourceTopic: "fine"}); err == nil || !strings.Contains(err.Error(), "is paused") {
		t.Fatalf("mirror on a paused link: %v", err)
	}

	// Link rules: names, duplicates, the source's cluster ID, the limit.
	bad := []struct {
		name, want string
	}{
		{"bad/name", "Link name 'bad/name' is illegal, valid characters: [a-zA-Z0-9._-]"},
		{strings.Repeat("x", 201), "Link name exceeds maximum size of '200' characters"},
		{"l", "Cluster link 'l' already exists."},
	}
	for _, b := range bad {
		if err := d.links.CreateLink(ctx, link.CreateLinkRequest{Name: b.name, Configs: fastLink(srcAddr)}); err == nil || err.Error() != b.want {
			t.Errorf("link %q: %v, want %q", b.name, err, b.want)
		}
	}
	if err := d.links.CreateLink(ctx, link.CreateLinkRequest{Name: "typo", Configs: map[string]string{"bootstrap.servers": srcAddr, "consumer.offset.sync.msx": "1"}}); err == nil || !strings.Contains(err.Error(), "consumer.offset.sync.msx") {
		t.Errorf("unknown link config: %v", err)
	}
	if err := d.links.CreateLink(ctx, link.CreateLinkRequest{Name: "dry", Configs: fastLink(srcAddr), ValidateOnly: true}); err != nil {
		t.Fatalf("dry run: %v", err)
	}
	if err := d.links.CreateLink(ctx, link.CreateLinkRequest{Name: "unreachable", Configs: fastLink("127.0.0.1:1", "request.timeout.ms", "1000")}); err == nil {
		t.Fatal("a link to an unreachable source passed validation")
	}
	if err := d.links.CreateLink(ctx, link.CreateLinkRequest{Name: "later", Configs: fastLink("127.0.0.1:1"), SkipValidation: true}); err != nil {
		t.Fatalf("no-validate: %v", err)
	}
	if _, ok := d.brk.Metadata().Link("dry"); ok {
		t.Fatal("a dry run created the link")
	}
	for i := len(d.brk.Metadata().Links()); i < 10; i++ {
		mustLink(t, d, fmt.Sprint("fill-", i), fastLink(srcAddr))
	}
	if err := d.links.CreateLink(ctx, link.CreateLinkRequest{Name: "eleventh", Configs: fastLink(srcAddr)}); err == nil || !strings.Contains(err.Error(), "cluster.link.max.links") {
		t.Fatalf("an eleventh link: %v", err)
	}
}

// TestLinkSourceUnreachableAtStartRegression: a runner whose source
// metadata refresh fails (the source was down when the link started) retries
// after replica.fetch.backoff.ms, so its mirrors start as soon as the source
// answers — not a whole metadata.max.age.ms (5 minutes by default) later,
// and without the outage having to last the availability threshold.
func TestLinkSourceUnreachableAtStartRegression(t *testing.T) {
	src, srcAddr, srcCl := newSource(t)
	createTopic(t, srcCl, "late", 1, nil)
	down := outageSwitch(src)
	d := newDest(t, "")
	cfg := fastLink(srcAddr, "request.timeout.ms", "1000", "availability.check.consecutive.failure.threshold", "1000")
	delete(cfg, "metadata.max.age.ms") // the default, 5 minutes, is far beyond the waits below
	mustLink(t, d, "l", cfg)
	mustMirror(t, d, "l", "late")
	waitCaughtUp(t, d, srcCl, "l", "late", "late")
	ctx := context.Background()
	// Paused, nothing fetches (so nothing else triggers refreshes). The
	// source goes down and a connection config change restarts the runner:
	// its refreshes fail, and are retried.
	if res, err := d.links.PauseMirrors(ctx, "l", []string{"late"}, false); err != nil || res[0].Err != nil {
		t.Fatalf("pause: %v %+v", err, res)
	}
	down.Store(true)
	if err := d.links.AlterLinkConfigs(ctx, "l", map[string]string{"socket.connection.setup.timeout.ms": "5000"}, nil, false); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 30*time.Second, func() (bool, string) {
		n := d.counter("strait_link_source_metadata_refresh_failures_total", "l")
		return n >= 3, fmt.Sprintf("%v failed refreshes", n)
	})
	down.Store(false)
	if res, err := d.links.ResumeMirrors(ctx, "l", []string{"late"}, false); err != nil || res[0].Err != nil {
		t.Fatalf("resume: %v %+v", err, res)
	}
	if err := srcCl.ProduceSync(ctx, &kgo.Record{Topic: "late", Value: []byte("after the outage")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	waitCaughtUp(t, d, srcCl, "l", "late", "late")
	if err := d.links.AlterLinkConfigs(ctx, "l", nil, []string{"no.such.config"}, false); err == nil {
		t.Fatal("resetting an unknown link config succeeded")
	}
}
