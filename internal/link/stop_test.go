package link_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-kafka/strait/internal/link"
	"github.com/strait-kafka/strait/internal/testutil"
)

func produceN(t *testing.T, cl *kgo.Client, topic string, n int, tag string) {
	t.Helper()
	var recs []*kgo.Record
	for i := 0; i < n; i++ {
		recs = append(recs, &kgo.Record{Topic: topic, Key: []byte(fmt.Sprint(i)), Value: []byte(fmt.Sprintf("%s-%d", tag, i))})
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce to %s: %v", topic, err)
	}
}

func endOffsets(t *testing.T, cl *kgo.Client, topic string) map[int32]int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) { out[o.Partition] = o.Offset })
	return out
}

func TestLinkPromote(t *testing.T) {
	_, srcAddr, srcCl := newSource(t)
	createTopic(t, srcCl, "cutover", 3, nil)
	produceN(t, srcCl, "cutover", 90, "src")
	d := newDest(t, "")
	mustLink(t, d, "l", fastLink(srcAddr))
	mustMirror(t, d, "l", "cutover")
	waitCaughtUp(t, d, srcCl, "l", "cutover", "cutover")
	ctx := context.Background()

	// Lagging (paused, source moved on): refused, naming the lag.
	if res, err := d.links.PauseMirrors(ctx, "l", []string{"cutover"}, false); err != nil || res[0].Err != nil {
		t.Fatalf("pause: %v %+v", err, res)
	}
	produceN(t, srcCl, "cutover", 30, "late")
	res, err := d.links.PromoteMirrors(ctx, "l", []string{"cutover"}, false)
	if err != nil || res[0].Err == nil || !strings.Contains(res[0].Err.Message, "lag") {
		t.Fatalf("promote with lag: %v %+v", err, res)
	}
	if res, err := d.links.ResumeMirrors(ctx, "l", []string{"cutover"}, false); err != nil || res[0].Err != nil {
		t.Fatalf("resume: %v %+v", err, res)
	}
	waitCaughtUp(t, d, srcCl, "l", "cutover", "cutover")
	testutil.CheckMirrorTopic(t, srcCl, d.cl, "cutover", "cutover", 3)

	// Dry run: accepted, nothing changes.
	if res, err := d.links.PromoteMirrors(ctx, "l", []string{"cutover"}, true); err != nil || res[0].Err != nil {
		t.Fatalf("promote dry run: %v %+v", err, res)
	}
	if mi, _ := d.links.DescribeMirror(ctx, "l", "cutover"); mi.State != link.StateActive {
		t.Fatalf("dry run changed the state to %s", mi.State)
	}
	ends := endOffsets(t, srcCl, "cutover")
	start := time.Now()
	if res, err := d.links.PromoteMirrors(ctx, "l", []string{"cutover"}, false); err != nil || res[0].Err != nil {
		t.Fatalf("promote: %v %+v", err, res)
	}
	waitState(t, d, "l", "cutover", link.StateStopped)
	t.Logf("promote to STOPPED: %v", time.Since(start))
	tp, _ := d.brk.Metadata().Topic("cutover")
	for p, end := range ends {
		if tp.Mirror.StoppedLogEndOffsets[p] != end {
			t.Fatalf("stopped log end offsets %v, source ends %v", tp.Mirror.StoppedLogEndOffsets, ends)
		}
	}
	// Writable now: producers continue at the source's offsets.
	dp := newClient(t, d.addr, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	r := &kgo.Record{Topic: "cutover", Partition: 1, Value: []byte("written on the destination")}
	if err := dp.ProduceSync(ctx, r).FirstErr(); err != nil {
		t.Fatalf("produce after promote: %v", err)
	}
	if r.Offset != ends[1] {
		t.Fatalf("first destination record at offset %d, want %d", r.Offset, ends[1])
	}
	// The mirror's new epoch is above every copied one.
	if tp.Partitions[1].LeaderEpoch <= d.brk.Partition("cutover", 1).Log().LatestEpoch()-1 {
		t.Fatalf("leader epoch %d after promote", tp.Partitions[1].LeaderEpoch)
	}
	res, _ = d.links.PromoteMirrors(ctx, "l", []string{"cutover"}, false)
	if res[0].Err == nil || res[0].Err.Message != "Topic 'cutover' has already stopped its mirror from 'l'" {
		t.Fatalf("second promote: %+v", res[0].Err)
	}
	res, _ = d.links.FailoverMirrors(ctx, "l", []string{"cutover"}, false)
	if res[0].Err == nil || !strings.Contains(res[0].Err.Message, "already stopped") {
		t.Fatalf("failover after promote: %+v", res[0].Err)
	}
	// Stopped mirrors no longer keep the link from being deleted.
	if err := d.links.DeleteLink(ctx, "l", false, false); err != nil {
		t.Fatalf("delete link after promote: %v", err)
	}
}

// TestLinkFailoverWithSourceDownClampsOffsets: with the source unreachable
// and the mirror behind, promote is refused and failover succeeds; a
// destination group whose committed offset is past the mirror's end is
// clamped to that end.
func TestLinkFailoverWithSourceDownClampsOffsets(t *testing.T) {
	src, srcAddr, srcCl := newSource(t)
	createTopic(t, srcCl, "dr", 2, nil)
	produceN(t, srcCl, "dr", 40, "a")
	down := outageSwitch(src)
	d := newDest(t, "")
	// The sync runs every second: with the default 30 s period, the
	// second round (the first after the commit below) fell right at the
	// end of the 30 s wait, tens of milliseconds from failing.
	mustLink(t, d, "l", fastLink(srcAddr, "request.timeout.ms", "2000",
		"consumer.offset.sync.enable", "true", "consumer.offset.sync.ms", "1000",
		"consumer.offset.group.filters", `{"groupFilters":[{"name":"*","patternType":"LITERAL","filterType":"INCLUDE"}]}`))
	mustMirror(t, d, "l", "dr")
	waitCaughtUp(t, d, srcCl, "l", "dr", "dr")
	ctx := context.Background()
	mirrorEnds := endOffsets(t, d.cl, "dr")

	// A source group committed far ahead; the sync lands it clamped to the
	// mirror's end (never past it).
	os := kadm.Offsets{}
	os.Add(kadm.Offset{Topic: "dr", Partition: 0, At: mirrorEnds[0] + 1000, LeaderEpoch: -1})
	os.Add(kadm.Offset{Topic: "dr", Partition: 1, At: 3, LeaderEpoch: -1})
	if _, err := kadm.NewClient(srcCl).CommitOffsets(ctx, "app", os); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 30*time.Second, func() (bool, string) {
		f, err := kadm.NewClient(d.cl).FetchOffsets(ctx, "app")
		if err != nil {
			return false, err.Error()
		}
		o0, _ := f.Lookup("dr", 0)
		o1, _ := f.Lookup("dr", 1)
		return o0.At == mirrorEnds[0] && o1.At == 3, fmt.Sprintf("destination offsets %d/%d, want %d/3", o0.At, o1.At, mirrorEnds[0])
	})
	// A destination-only group committed past where the mirror will stop.
	past := kadm.Offsets{}
	past.Add(kadm.Offset{Topic: "dr", Partition: 1, At: mirrorEnds[1] + 50, LeaderEpoch: -1})
	if _, err := kadm.NewClient(d.cl).CommitOffsets(ctx, "ahead", past); err != nil {
		t.Fatal(err)
	}

	down.Store(true)
	res, err := d.links.PromoteMirrors(ctx, "l", []string{"dr"}, false)
	if err != nil || res[0].Err == nil || !strings.Contains(res[0].Err.Message, "not reachable") {
		t.Fatalf("promote with the source down: %v %+v", err, res)
	}
	start := time.Now()
	if res, err := d.links.FailoverMirrors(ctx, "l", []string{"dr"}, false); err != nil || res[0].Err != nil {
		t.Fatalf("failover: %v %+v", err, res)
	}
	waitState(t, d, "l", "dr", link.StateStopped)
	t.Logf("failover to STOPPED: %v", time.Since(start))
	f, err := kadm.NewClient(d.cl).FetchOffsets(ctx, "ahead")
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := f.Lookup("dr", 1); o.At != mirrorEnds[1] {
		t.Fatalf("group offset after failover %d, want it clamped to %d", o.At, mirrorEnds[1])
	}
	// Consumers resume on the destination from the clamped offsets.
	cons := newClient(t, d.addr, kgo.ConsumerGroup("ahead"), kgo.ConsumeTopics("dr"))
	dp := newClient(t, d.addr, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err := dp.ProduceSync(ctx, &kgo.Record{Topic: "dr", Partition: 1, Value: []byte("first after failover")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		fs := cons.PollFetches(pctx)
		if pctx.Err() != nil {
			t.Fatal("the destination group did not resume")
		}
		got := false
		fs.EachRecord(func(r *kgo.Record) {
			if r.Partition == 1 {
				if r.Offset != mirrorEnds[1] || string(r.Value) != "first after failover" {
					t.Fatalf("resumed at %d %q, want %d", r.Offset, r.Value, mirrorEnds[1])
				}
				got = true
			}
		})
		if got {
			break
		}
	}
	// The data the source had before the outage is still there when it returns.
	down.Store(false)
	testutil.WaitFor(t, 30*time.Second, func() (bool, string) {
		e := endOffsets(t, srcCl, "dr")
		return e[0]+e[1] == 40, fmt.Sprintf("source ends %v", e)
	})
}

func TestLinkOffsetSyncFiltersAndLiveGroups(t *testing.T) {
	_, srcAddr, srcCl := newSource(t)
	createTopic(t, srcCl, "events", 1, nil)
	produceN(t, srcCl, "events", 50, "e")
	d := newDest(t, "")
	filters := `{"groupFilters":[{"name":"team-","patternType":"PREFIXED","filterType":"INCLUDE"},{"name":"team-secret","patternType":"LITERAL","filterType":"EXCLUDE"}]}`
	mustLink(t, d, "l", fastLink(srcAddr, "consumer.offset.sync.enable", "true", "consumer.offset.sync.ms", "1000",
		"consumer.offset.group.filters", filters))
	mustMirror(t, d, "l", "events")
	waitCaughtUp(t, d, srcCl, "l", "events", "events")
	ctx := context.Background()
	commit := func(group string, at int64) {
		t.Helper()
		os := kadm.Offsets{}
		os.Add(kadm.Offset{Topic: "events", Partition: 0, At: at, LeaderEpoch: -1})
		if _, err := kadm.NewClient(srcCl).CommitOffsets(ctx, group, os); err != nil {
			t.Fatal(err)
		}
	}
	destOffset := func(group string) int64 {
		f, err := kadm.NewClient(d.cl).FetchOffsets(ctx, group)
		if err != nil {
			return -2
		}
		o, ok := f.Lookup("events", 0)
		if !ok {
			return -1
		}
		return o.At
	}
	commit("team-a", 10)
	commit("team-secret", 11)
	commit("other", 12)
	testutil.WaitFor(t, 30*time.Second, func() (bool, string) {
		return destOffset("team-a") == 10, fmt.Sprintf("team-a at %d", destOffset("team-a"))
	})
	// Synced after team-a in the same rounds: excluded and unmatched groups
	// were considered and left alone.
	commit("team-a", 20)
	testutil.WaitFor(t, 30*time.Second, func() (bool, string) {
		return destOffset("team-a") == 20, fmt.Sprintf("team-a at %d", destOffset("team-a"))
	})
	if o := destOffset("team-secret"); o >= 0 {
		t.Fatalf("excluded group synced to %d", o)
	}
	if o := destOffset("other"); o >= 0 {
		t.Fatalf("unmatched group synced to %d", o)
	}
	// A group live on the destination is not overwritten.
	live := newClient(t, d.addr, kgo.ConsumerGroup("team-live"), kgo.ConsumeTopics("events"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit())
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for n := 0; n < 5; {
		n += live.PollFetches(pctx).NumRecords()
		if pctx.Err() != nil {
			t.Fatal("live consumer got no records")
		}
	}
	if err := live.CommitRecords(ctx, &kgo.Record{Topic: "events", Partition: 0, Offset: 4}); err != nil {
		t.Fatal(err)
	}
	commit("team-live", 40)
	// Excluding team-a stops its sync: changed live, effective next round.
	newFilters := `{"groupFilters":[{"name":"team-","patternType":"PREFIXED"},{"name":"team-a","patternType":"LITERAL","filterType":"EXCLUDE"}]}`
	if err := d.links.AlterLinkConfigs(ctx, "l", map[string]string{"consumer.offset.group.filters": newFilters}, nil, false); err != nil {
		t.Fatal(err)
	}
	commit("team-b", 30)
	testutil.WaitFor(t, 30*time.Second, func() (bool, string) {
		return destOffset("team-b") == 30, fmt.Sprintf("team-b at %d", destOffset("team-b"))
	})
	commit("team-a", 45)
	commit("team-b", 31)
	testutil.WaitFor(t, 30*time.Second, func() (bool, string) {
		return destOffset("team-b") == 31, fmt.Sprintf("team-b at %d", destOffset("team-b"))
	})
	if o := destOffset("team-a"); o != 20 {
		t.Fatalf("team-a synced to %d after it was excluded", o)
	}
	if o := destOffset("team-live"); o != 5 {
		t.Fatalf("live group's offset is %d, want its own commit 5", o)
	}
}

func TestLinkTaskStatusMisconfiguration(t *testing.T) {
	src := newKfake(t)
	srcAddr := src.ListenAddrs()[0]
	d := newDest(t, "")
	mustLink(t, d, "l", fastLink(srcAddr, "consumer.offset.sync.enable", "true", "auto.create.mirror.topics.enable", "true"))
	testutil.WaitFor(t, 30*time.Second, func() (bool, string) {
		info, err := d.links.DescribeLink(context.Background(), "l", true)
		if err != nil {
			return false, err.Error()
		}
		states := map[string]link.TaskStatus{}
		for _, ts := range info.Tasks {
			states[ts.Name] = ts
		}
		off, auto := states[link.TaskConsumerOffsetSync], states[link.TaskAutoCreateMirror]
		ok := off.State == link.TaskStateInError && len(off.Errors) == 1 && off.Errors[0].Code == "MISCONFIGURATION_ERROR" &&
			strings.Contains(off.Errors[0].Message, "filters") &&
			auto.State == link.TaskStateInError && len(auto.Errors) == 1 &&
			states[link.TaskTopicConfigsSync].State == link.TaskStateActive &&
			states[link.TaskAclSync].State == link.TaskStateNotConfigured
		return ok, fmt.Sprintf("tasks %+v", info.Tasks)
	})
}

func TestLinkAutoCreateWithPrefixesAndNoLoops(t *testing.T) {
	a := newDest(t, "")
	b := newDest(t, "")
	ctx := context.Background()
	all := `{"topicFilters":[{"name":"*","patternType":"LITERAL","filterType":"INCLUDE"}]}`
	createTopic(t, a.cl, "orders", 2, nil)
	produceN(t, a.cl, "orders", 20, "a")
	// b mirrors everything of a with prefix "a.", and a everything of b with "b.".
	mustLink(t, b, "from-a", fastLink(a.addr, "cluster.link.prefix", "a.", "auto.create.mirror.topics.enable", "true",
		"auto.create.mirror.topics.filters", all, "consumer.offset.sync.enable", "true", "consumer.group.prefix.enable", "true",
		"consumer.offset.group.filters", `{"groupFilters":[{"name":"*","patternType":"LITERAL"}]}`))
	mustLink(t, a, "from-b", fastLink(b.addr, "cluster.link.prefix", "b.", "auto.create.mirror.topics.enable", "true",
		"auto.create.mirror.topics.filters", all))
	waitCaughtUp(t, b, a.cl, "from-a", "orders", "a.orders")
	testutil.CheckMirrorTopic(t, a.cl, b.cl, "orders", "a.orders", 2)
	// A topic created on b after a.orders exists: once a mirrors it, a's
	// auto-create has seen a.orders too, and must have skipped it.
	createTopic(t, b.cl, "local-to-b", 1, nil)
	testutil.WaitFor(t, 30*time.Second, func() (bool, string) {
		_, ok := a.brk.Metadata().Topic("b.local-to-b")
		return ok, "b.local-to-b not mirrored onto a yet"
	})
	for _, tp := range a.brk.Metadata().Topics() {
		if strings.HasPrefix(tp.Name, "b.a.") {
			t.Fatalf("a mirrored b's mirror %s: a loop", tp.Name)
		}
	}
	for _, tp := range b.brk.Metadata().Topics() {
		if strings.HasPrefix(tp.Name, "a.b.") || strings.HasPrefix(tp.Name, "a.__") {
			t.Fatalf("b mirrored %s", tp.Name)
		}
	}
	// Synced group names carry the prefix with consumer.group.prefix.enable.
	os := kadm.Offsets{}
	os.Add(kadm.Offset{Topic: "orders", Partition: 0, At: 2, LeaderEpoch: -1})
	if _, err := kadm.NewClient(a.cl).CommitOffsets(ctx, "billing", os); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 30*time.Second, func() (bool, string) {
		f, err := kadm.NewClient(b.cl).FetchOffsets(ctx, "a.billing")
		if err != nil {
			return false, err.Error()
		}
		o, _ := f.Lookup("a.orders", 0)
		return o.At == 2, fmt.Sprintf("a.billing at %d", o.At)
	})
	// The prefix is fixed at creation.
	if err := b.links.AlterLinkConfigs(ctx, "from-a", map[string]string{"cluster.link.prefix": "x."}, nil, false); err == nil {
		t.Fatal("the prefix was changed after creation")
	}
	// With a prefix, the mirror name must be prefix + source name.
	createTopic(t, a.cl, "named", 1, nil)
	err := b.links.CreateMirror(ctx, link.CreateMirrorRequest{Link: "from-a", SourceTopic: "named", MirrorTopic: "named"})
	if err == nil || !strings.Contains(err.Error(), "a.named") {
		t.Fatalf("unprefixed mirror name accepted: %v", err)
	}
}

// TestLinkChainingAndFanOut: A -> B -> C (B's mirror is C's source) and
// A -> D, all with the same offsets and batches as A.
func TestLinkChainingAndFanOut(t *testing.T) {
	a, b, c, d := newDest(t, ""), newDest(t, ""), newDest(t, ""), newDest(t, "")
	createTopic(t, a.cl, "chain", 3, nil)
	produceMix(t, a.addr, "chain", 40)
	mustLink(t, b, "ab", fastLink(a.addr))
	mustLink(t, c, "bc", fastLink(b.addr))
	mustLink(t, d, "ad", fastLink(a.addr))
	mustMirror(t, b, "ab", "chain")
	mustMirror(t, d, "ad", "chain")
	waitCaughtUp(t, b, a.cl, "ab", "chain", "chain")
	mustMirror(t, c, "bc", "chain")
	produceMix(t, a.addr, "chain", 40)
	waitCaughtUp(t, b, a.cl, "ab", "chain", "chain")
	waitCaughtUp(t, c, a.cl, "bc", "chain", "chain")
	waitCaughtUp(t, d, a.cl, "ad", "chain", "chain")
	for name, x := range map[string]*dest{"B": b, "C": c, "D": d} {
		n, bytes := testutil.CheckMirrorTopic(t, a.cl, x.cl, "chain", "chain", 3)
		t.Logf("A -> %s: %d batches, %d bytes identical", name, n, bytes)
	}
}
