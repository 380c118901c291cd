package link_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-kafka/strait/internal/link"
	"github.com/strait-kafka/strait/internal/testutil"
)

// Regression tests: each is named after the defect it pins down.

// holdFirst makes the source hold the first request with the given key
// until release is called (or the test ends); entered is closed when it is
// held. Later requests with that key are handled normally; after, if not
// nil, is called for each of them.
func holdFirst(t *testing.T, src *kfake.Cluster, key int16, answer func(kmsg.Request) kmsg.Response, after func(kmsg.Request)) (entered <-chan struct{}, release func()) {
	t.Helper()
	in := make(chan struct{})
	out := make(chan struct{})
	var (
		mu       sync.Mutex
		held     bool
		released bool
	)
	release = func() {
		mu.Lock()
		defer mu.Unlock()
		if !released {
			released = true
			close(out)
		}
	}
	t.Cleanup(release)
	src.ControlKey(key, func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		mu.Lock()
		first := !held
		held = true
		mu.Unlock()
		if !first {
			if after != nil {
				after(kreq)
			}
			return nil, nil, false
		}
		close(in)
		src.SleepControl(func() { <-out })
		if answer != nil {
			return answer(kreq), nil, true
		}
		return nil, nil, false
	})
	return in, release
}

func waitClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(60 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

// mirrorEnd is the local log end offset of a mirror partition.
func mirrorEnd(t *testing.T, d *dest, topic string, partition int32) int64 {
	t.Helper()
	p := d.brk.Partition(topic, partition)
	if p == nil {
		t.Fatalf("partition %s-%d is not stored", topic, partition)
	}
	return p.Log().NextOffset()
}

func recreateTopic(t *testing.T, srcAddr string, srcCl *kgo.Client, topic string, records int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := kadm.NewClient(srcCl).DeleteTopics(ctx, topic); err != nil {
		t.Fatal(err)
	}
	createTopic(t, srcCl, topic, 1, nil)
	fresh := newClient(t, srcAddr) // one that never knew the old topic ID
	produceN(t, fresh, topic, records, "new")
}

// A runner's auto-create called CreateMirror, which took Manager.mu; the
// Manager holds Manager.mu while it stops (and joins) runners, so a link
// restarted (or a shutdown) during auto-create deadlocked the Manager.
func TestLinkRegressionAutoCreateDuringRestartDeadlocks(t *testing.T) {
	src, srcAddr, srcCl := newSource(t)
	topics := []string{"auto-a", "auto-b", "auto-c"}
	for _, tp := range topics {
		createTopic(t, srcCl, tp, 1, nil)
	}
	// Hold auto-create inside its first CreateMirror (describing the
	// source topic's configs), so that it has more candidates to go.
	entered, _ := holdFirst(t, src, int16(kmsg.DescribeConfigs), nil, nil)
	d := newDest(t, "")
	all := `{"topicFilters":[{"name":"*","patternType":"LITERAL","filterType":"INCLUDE"}]}`
	mustLink(t, d, "l", fastLink(srcAddr, "auto.create.mirror.topics.enable", "true", "auto.create.mirror.topics.filters", all))
	waitClosed(t, entered, "auto-create to describe a source topic")
	// A connection setting: the runner is stopped and a new one started.
	ctx := context.Background()
	if err := d.links.AlterLinkConfigs(ctx, "l", map[string]string{"default.api.timeout.ms": "45000"}, nil, false); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 60*time.Second, func() (bool, string) {
		for _, tp := range topics {
			if _, ok := d.brk.Metadata().Topic(tp); !ok {
				return false, tp + " was not auto-created by the restarted link"
			}
		}
		return true, ""
	})
	answered := make(chan struct{})
	go func() {
		defer close(answered)
		_, _ = d.links.ListMirrors(ctx, "l", "")
	}()
	waitClosed(t, answered, "the link manager to answer")
}

// update rewrote runner.link under runner.mu while fetchers, the control
// loop and describe read it without: a data race on every live config
// change (found by -race; each change is one more chance to catch it).
func TestLinkRegressionLiveConfigChangeRacesWithFetchers(t *testing.T) {
	_, srcAddr, srcCl := newSource(t)
	createTopic(t, srcCl, "busy", 1, nil)
	produceN(t, srcCl, "busy", 10, "busy")
	d := newDest(t, "")
	mustLink(t, d, "l", fastLink(srcAddr))
	mustMirror(t, d, "l", "busy")
	waitCaughtUp(t, d, srcCl, "l", "busy", "busy")
	ctx := context.Background()
	lastFetch := func() time.Time {
		mi, err := d.links.DescribeMirror(ctx, "l", "busy")
		if err != nil || len(mi.Lags) != 1 {
			t.Fatalf("describe: %v %+v", err, mi)
		}
		return mi.Lags[0].LastFetch
	}
	for i := 0; i < 60; i++ {
		v := fmt.Sprint(2000 + 100*i)
		before := lastFetch()
		if err := d.links.AlterLinkConfigs(ctx, "l", map[string]string{"topic.config.sync.ms": v}, nil, false); err != nil {
			t.Fatal(err)
		}
		// The fetcher, long-polling while the runner takes the new
		// revision, mirrors more.
		produceN(t, srcCl, "busy", 1, v)
		waitCaughtUp(t, d, srcCl, "l", "busy", "busy")
		if !lastFetch().After(before) {
			t.Fatal("no fetch since the config change")
		}
		cfgs, err := d.links.LinkConfigs(ctx, "l")
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cfgs {
			if c.Name == "topic.config.sync.ms" && (c.Value == nil || *c.Value != v) {
				t.Fatalf("topic.config.sync.ms described as %v, want %s", c.Value, v)
			}
		}
	}
	produceN(t, srcCl, "busy", 10, "more")
	waitCaughtUp(t, d, srcCl, "l", "busy", "busy")
	testutil.CheckMirrorTopic(t, srcCl, d.cl, "busy", "busy", 1)
}

// The epoch check before fetching asked OffsetForLeaderEpoch by topic name
// and truncated the mirror by the answer without checking the source topic
// ID: a recreated source topic cut the mirror of the old one.
func TestLinkRegressionEpochCheckTruncatesByRecreatedSourceTopic(t *testing.T) {
	src, srcAddr, srcCl := newSource(t)
	createTopic(t, srcCl, "reborn", 1, nil)
	createTopic(t, srcCl, "other", 1, nil)
	produceN(t, srcCl, "reborn", 10, "old")
	produceN(t, srcCl, "other", 10, "other")
	rebornID := topicIDOf(t, srcCl, "reborn")
	var (
		mu      sync.Mutex
		watch   bool
		without int // fetches that no longer ask for reborn
	)
	src.ControlKey(int16(kmsg.Fetch), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		mu.Lock()
		defer mu.Unlock()
		if !watch {
			return nil, nil, false
		}
		for _, rt := range kreq.(*kmsg.FetchRequest).Topics {
			if rt.TopicID == rebornID || rt.Topic == "reborn" {
				without = 0
				return nil, nil, false
			}
		}
		without++
		return nil, nil, false
	})
	d := newDest(t, "")
	// No periodic source metadata refresh during the test: only fetch
	// problems ask for one.
	mustLink(t, d, "l", fastLink(srcAddr, "metadata.max.age.ms", "600000"))
	mustMirror(t, d, "l", "reborn")
	mustMirror(t, d, "l", "other")
	waitCaughtUp(t, d, srcCl, "l", "reborn", "reborn")
	waitCaughtUp(t, d, srcCl, "l", "other", "other")
	ctx := context.Background()
	old, err := testutil.ReadRawPartition(ctx, d.cl, "reborn", 0)
	if err != nil {
		t.Fatal(err)
	}
	// Paused, the partition leaves its fetcher: it is checked again when it
	// comes back. Wait until no fetch in flight asks for it.
	if res, err := d.links.PauseMirrors(ctx, "l", []string{"reborn"}, false); err != nil || res[0].Err != nil {
		t.Fatalf("pause: %v %+v", err, res)
	}
	mu.Lock()
	watch = true
	mu.Unlock()
	testutil.WaitFor(t, 30*time.Second, func() (bool, string) {
		mu.Lock()
		defer mu.Unlock()
		return without >= 2, "fetches still ask for the paused mirror"
	})
	recreateTopic(t, srcAddr, srcCl, "reborn", 3)
	if res, err := d.links.ResumeMirrors(ctx, "l", []string{"reborn"}, false); err != nil || res[0].Err != nil {
		t.Fatalf("resume: %v %+v", err, res)
	}
	testutil.WaitFor(t, 60*time.Second, func() (bool, string) {
		mi, err := d.links.DescribeMirror(ctx, "l", "reborn")
		if err != nil {
			return false, err.Error()
		}
		return mi.Error != "", "the mirror reports no problem yet"
	})
	if end := mirrorEnd(t, d, "reborn", 0); end != 10 {
		t.Fatalf("the mirror was cut to %d by the recreated source topic's epochs", end)
	}
	now, err := testutil.ReadRawPartition(ctx, d.cl, "reborn", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := testutil.CompareMirror(old, now); err != nil {
		t.Fatalf("the mirror changed after its source was recreated: %v", err)
	}
}

// The fetcher's epoch check (and start positioning) changed the log outside
// the append lock: an answer arriving after pause or stop returned still
// truncated the partition, even a stopped, writable one.
func TestLinkRegressionEpochCheckTruncatesAfterStop(t *testing.T) {
	src, srcAddr, srcCl := newSource(t)
	createTopic(t, srcCl, "late", 1, nil)
	createTopic(t, srcCl, "steady", 1, nil)
	produceN(t, srcCl, "late", 10, "late")
	produceN(t, srcCl, "steady", 10, "steady")
	d := newDest(t, "")
	mustLink(t, d, "l", fastLink(srcAddr))
	mustMirror(t, d, "l", "late")
	mustMirror(t, d, "l", "steady")
	waitCaughtUp(t, d, srcCl, "l", "late", "late")
	waitCaughtUp(t, d, srcCl, "l", "steady", "steady")
	ctx := context.Background()
	lateID := topicIDOf(t, srcCl, "late")
	var (
		mu      sync.Mutex
		without int  // fetches in a row that do not ask for late
		armed   bool // the epoch check was answered
		fetches int  // fetch requests after the answer
	)
	src.ControlKey(int16(kmsg.Fetch), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		mu.Lock()
		defer mu.Unlock()
		if armed {
			fetches++
		}
		for _, rt := range kreq.(*kmsg.FetchRequest).Topics {
			if rt.TopicID == lateID || rt.Topic == "late" {
				without = 0
				return nil, nil, false
			}
		}
		without++
		return nil, nil, false
	})
	// Paused, the partition leaves its fetcher: it is checked again when it
	// comes back.
	if res, err := d.links.PauseMirrors(ctx, "l", []string{"late"}, false); err != nil || res[0].Err != nil {
		t.Fatalf("pause: %v %+v", err, res)
	}
	testutil.WaitFor(t, 30*time.Second, func() (bool, string) {
		mu.Lock()
		defer mu.Unlock()
		return without >= 2, "fetches still ask for the paused mirror"
	})
	// The source answers the epoch check with an end below the mirror's,
	// but only once the mirror has been failed over.
	entered, release := holdFirst(t, src, int16(kmsg.OffsetForLeaderEpoch), func(kreq kmsg.Request) kmsg.Response {
		req := kreq.(*kmsg.OffsetForLeaderEpochRequest)
		resp := req.ResponseKind().(*kmsg.OffsetForLeaderEpochResponse)
		for _, rt := range req.Topics {
			st := kmsg.NewOffsetForLeaderEpochResponseTopic()
			st.Topic = rt.Topic
			for _, rp := range rt.Partitions {
				sp := kmsg.NewOffsetForLeaderEpochResponseTopicPartition()
				sp.Partition, sp.LeaderEpoch, sp.EndOffset = rp.Partition, rp.LeaderEpoch, 4
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		mu.Lock()
		armed = true
		mu.Unlock()
		return resp
	}, nil)
	if res, err := d.links.ResumeMirrors(ctx, "l", []string{"late"}, false); err != nil || res[0].Err != nil {
		t.Fatalf("resume: %v %+v", err, res)
	}
	waitClosed(t, entered, "the epoch check of the resumed mirror")
	if res, err := d.links.FailoverMirrors(ctx, "l", []string{"late"}, false); err != nil || res[0].Err != nil {
		t.Fatalf("failover: %v %+v", err, res)
	}
	mi := waitState(t, d, "l", "late", link.StateStopped)
	release()
	// The fetcher sends its next fetch once the epoch check is done.
	testutil.WaitFor(t, 30*time.Second, func() (bool, string) {
		mu.Lock()
		defer mu.Unlock()
		return fetches >= 2, "no fetch after the epoch check answered"
	})
	if end := mirrorEnd(t, d, "late", 0); end != 10 || mi.Lags[0].MirrorLogEndOffset != 10 {
		t.Fatalf("stopped mirror end %d (described %d), want 10", end, mi.Lags[0].MirrorLogEndOffset)
	}
	tp, _ := d.brk.Metadata().Topic("late")
	if got := tp.Mirror.StoppedLogEndOffsets; len(got) != 1 || got[0] != 10 {
		t.Fatalf("stopped log end offsets %v", got)
	}
}

// Promote measured lag against whatever topic now has the source topic's
// name: a mirror of a deleted and recreated topic (or one ahead of its
// source) showed no lag and was promoted.
func TestLinkRegressionPromoteAcceptsRecreatedSourceTopic(t *testing.T) {
	_, srcAddr, srcCl := newSource(t)
	createTopic(t, srcCl, "moved", 1, nil)
	produceN(t, srcCl, "moved", 10, "old")
	d := newDest(t, "")
	mustLink(t, d, "l", fastLink(srcAddr))
	mustMirror(t, d, "l", "moved")
	waitCaughtUp(t, d, srcCl, "l", "moved", "moved")
	// As many records as before: no lag by the new topic's end offsets.
	recreateTopic(t, srcAddr, srcCl, "moved", 10)
	ctx := context.Background()
	res, err := d.links.PromoteMirrors(ctx, "l", []string{"moved"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Err == nil {
		t.Fatalf("promote of a mirror whose source topic was recreated accepted: %+v", res)
	}
	if mi, err := d.links.DescribeMirror(ctx, "l", "moved"); err != nil || mi.State != link.StateActive {
		t.Fatalf("after the refused promote: %v %s", err, mi.State)
	}
}

func TestLinkRegressionPromoteAcceptsMirrorAheadOfSource(t *testing.T) {
	srcCluster := newDest(t, "")
	createTopic(t, srcCluster.cl, "shrunk", 1, nil)
	produceN(t, srcCluster.cl, "shrunk", 12, "kept")
	produceN(t, srcCluster.cl, "shrunk", 8, "lost")
	d := newDest(t, "")
	mustLink(t, d, "l", fastLink(srcCluster.addr))
	mustMirror(t, d, "l", "shrunk")
	waitCaughtUp(t, d, srcCluster.cl, "l", "shrunk", "shrunk")
	ctx := context.Background()
	if res, err := d.links.PauseMirrors(ctx, "l", []string{"shrunk"}, false); err != nil || res[0].Err != nil {
		t.Fatalf("pause: %v %+v", err, res)
	}
	// The source loses its last records (an unclean election); the paused
	// mirror still has them.
	if err := srcCluster.brk.Partition("shrunk", 0).TruncateTo(12); err != nil {
		t.Fatal(err)
	}
	res, err := d.links.PromoteMirrors(ctx, "l", []string{"shrunk"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Err == nil {
		t.Fatalf("promote of a mirror with records its source no longer has accepted: %+v", res)
	}
	if mi, err := d.links.DescribeMirror(ctx, "l", "shrunk"); err != nil || mi.State != link.StatePaused {
		t.Fatalf("after the refused promote: %v %s", err, mi.State)
	}
}

// Consumer offset sync matched source group offsets to mirrors by topic
// name only: offsets in a recreated source topic were written to the
// destination groups of the old topic's mirror.
func TestLinkRegressionOffsetSyncFromRecreatedSourceTopic(t *testing.T) {
	_, srcAddr, srcCl := newSource(t)
	createTopic(t, srcCl, "gone", 1, nil)
	createTopic(t, srcCl, "kept", 1, nil)
	produceN(t, srcCl, "gone", 10, "old")
	produceN(t, srcCl, "kept", 10, "kept")
	d := newDest(t, "")
	mustLink(t, d, "l", fastLink(srcAddr, "consumer.offset.sync.enable", "true", "consumer.offset.sync.ms", "1000",
		"consumer.offset.group.filters", `{"groupFilters":[{"name":"*","patternType":"LITERAL"}]}`))
	mustMirror(t, d, "l", "gone")
	mustMirror(t, d, "l", "kept")
	waitCaughtUp(t, d, srcCl, "l", "gone", "gone")
	waitCaughtUp(t, d, srcCl, "l", "kept", "kept")
	ctx := context.Background()
	commit := func(gone, kept int64) {
		t.Helper()
		os := kadm.Offsets{}
		os.Add(kadm.Offset{Topic: "gone", Partition: 0, At: gone, LeaderEpoch: -1})
		os.Add(kadm.Offset{Topic: "kept", Partition: 0, At: kept, LeaderEpoch: -1})
		// A new client each time: one that knows the current topic IDs.
		resp, err := kadm.NewClient(newClient(t, srcAddr)).CommitOffsets(ctx, "g", os)
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	destOffset := func(topic string) int64 {
		f, err := kadm.NewClient(d.cl).FetchOffsets(ctx, "g")
		if err != nil {
			return -2
		}
		o, ok := f.Lookup(topic, 0)
		if !ok {
			return -1
		}
		return o.At
	}
	commit(10, 5)
	testutil.WaitFor(t, 30*time.Second, func() (bool, string) {
		return destOffset("gone") == 10 && destOffset("kept") == 5, fmt.Sprintf("gone at %d, kept at %d", destOffset("gone"), destOffset("kept"))
	})
	recreateTopic(t, srcAddr, srcCl, "gone", 3)
	commit(2, 7)
	// kept's new offset arrives in the same round as gone's would.
	testutil.WaitFor(t, 30*time.Second, func() (bool, string) {
		return destOffset("kept") == 7, fmt.Sprintf("kept at %d", destOffset("kept"))
	})
	if o := destOffset("gone"); o != 10 {
		t.Fatalf("the old topic's mirror got the recreated topic's group offset %d", o)
	}
}

// Topic config sync wrote the source's configs without checking that the
// topic was still a mirror: a round in flight during a failover overwrote
// the configs of the now independent topic.
func TestLinkRegressionConfigSyncAfterFailover(t *testing.T) {
	src, srcAddr, srcCl := newSource(t)
	createTopic(t, srcCl, "cfg", 1, nil)
	createTopic(t, srcCl, "cfg-other", 1, nil)
	produceN(t, srcCl, "cfg", 5, "c")
	d := newDest(t, "")
	mustLink(t, d, "l", fastLink(srcAddr))
	mustMirror(t, d, "l", "cfg")
	mustMirror(t, d, "l", "cfg-other")
	waitCaughtUp(t, d, srcCl, "l", "cfg", "cfg")
	var (
		mu    sync.Mutex
		later int // config sync rounds after the held one
	)
	entered, release := holdFirst(t, src, int16(kmsg.DescribeConfigs), nil, func(kmsg.Request) {
		mu.Lock()
		later++
		mu.Unlock()
	})
	waitClosed(t, entered, "a topic config sync round")
	ctx := context.Background()
	if res, err := d.links.FailoverMirrors(ctx, "l", []string{"cfg"}, false); err != nil || res[0].Err != nil {
		t.Fatalf("failover: %v %+v", err, res)
	}
	waitState(t, d, "l", "cfg", link.StateStopped)
	// The source's config changes after the failover; the held round reads it.
	rs, err := kadm.NewClient(srcCl).AlterTopicConfigs(ctx, []kadm.AlterConfig{{Name: "retention.ms", Value: kadm.StringPtr("12345")}}, "cfg")
	for _, r := range rs {
		if err == nil {
			err = r.Err
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	release()
	testutil.WaitFor(t, 30*time.Second, func() (bool, string) {
		mu.Lock()
		defer mu.Unlock()
		return later >= 1, "no config sync round after the held one"
	})
	tp, _ := d.brk.Metadata().Topic("cfg")
	if v, ok := tp.Configs["retention.ms"]; ok && v == "12345" {
		t.Fatalf("a stopped topic's retention.ms was synced from the source: %v", tp.Configs)
	}
}

// OFFSET_OUT_OF_RANGE was handled under the partition's append lock, asking
// the source for its offsets: with a slow or lost source, a pause or a stop
// (failover) waited for those answers, up to several request timeouts.
func TestLinkRegressionOutOfRangeHoldsUpFailover(t *testing.T) {
	src, srcAddr, srcCl := newSource(t)
	createTopic(t, srcCl, "oor", 1, nil)
	produceN(t, srcCl, "oor", 10, "oor")
	d := newDest(t, "")
	// Requests to the source do not time out during the test.
	mustLink(t, d, "l", fastLink(srcAddr, "request.timeout.ms", "600000"))
	mustMirror(t, d, "l", "oor")
	waitCaughtUp(t, d, srcCl, "l", "oor", "oor")
	// The next fetch answers OFFSET_OUT_OF_RANGE, and the source then does
	// not answer the fetcher's ListOffsets.
	entered, _ := holdFirst(t, src, int16(kmsg.ListOffsets), nil, nil)
	src.ControlKey(int16(kmsg.Fetch), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		req := kreq.(*kmsg.FetchRequest)
		resp := req.ResponseKind().(*kmsg.FetchResponse)
		for _, rt := range req.Topics {
			st := kmsg.NewFetchResponseTopic()
			st.Topic, st.TopicID = rt.Topic, rt.TopicID
			for _, rp := range rt.Partitions {
				sp := kmsg.NewFetchResponseTopicPartition()
				sp.Partition, sp.ErrorCode = rp.Partition, kerr.OffsetOutOfRange.Code
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil, true
	})
	waitClosed(t, entered, "the fetcher to ask the source for its offsets")
	ctx := context.Background()
	if res, err := d.links.FailoverMirrors(ctx, "l", []string{"oor"}, false); err != nil || res[0].Err != nil {
		t.Fatalf("failover: %v %+v", err, res)
	}
	mi := waitState(t, d, "l", "oor", link.StateStopped)
	if mi.Lags[0].MirrorLogEndOffset != 10 {
		t.Fatalf("stopped at %d, want 10", mi.Lags[0].MirrorLogEndOffset)
	}
}
