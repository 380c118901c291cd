package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-kafka/strait/internal/testutil"
)

// TestE2ELinkDestinationKilled kills the destination with SIGKILL twice
// while a producer writes to the source and the mirror is copying; after
// each restart on the same data the link and the mirror are still there
// and mirroring resumes by itself. Once the producer stops, the mirror
// catches up and equals the source byte for byte.
func TestE2ELinkDestinationKilled(t *testing.T) {
	t.Parallel()
	linkKillCycles(t, false)
}

// TestE2ELinkSourceKilled does the same with the source, which comes back
// on the same address and data: the producer waits for it, and the mirror
// resumes by itself.
func TestE2ELinkSourceKilled(t *testing.T) {
	t.Parallel()
	linkKillCycles(t, true)
}

func linkKillCycles(t *testing.T, killSource bool) {
	const (
		link       = "kill-link"
		topic      = "orders"
		partitions = 3
		cycles     = 2
		step       = 100 // records the producer and the mirror must advance by at each stage
	)
	src := startLinkBroker(t, t.TempDir(), testutil.FreeAddr(t))
	dst := startLinkBroker(t, t.TempDir(), "127.0.0.1:0")
	victim, name := dst, "destination"
	if killSource {
		victim, name = src, "source"
	}
	createTopic(t, newAdmin(t, src.Addr()), topic, partitions)
	createLinkCLI(t, dst, link, src.Addr())
	createMirrorCLI(t, dst, link, topic)
	srcCl := linkClient(t, src.Addr()) // the source keeps its address
	prod := startStreamer(t, src.Addr(), topic)

	for cycle := 1; cycle <= cycles; cycle++ {
		dstCl := linkClient(t, dst.Addr())
		// Mirroring is under way: the producer writes and the mirror copies.
		acked, _, _ := prod.counts()
		prod.waitAcked(t, acked+step, fmt.Sprintf("cycle %d, before the kill", cycle))
		mirrored, err := sumEnds(dstCl, topic)
		if err != nil {
			t.Fatalf("cycle %d: listing the mirror's end offsets: %v", cycle, err)
		}
		waitTotalEnd(t, dstCl, topic, mirrored+step, fmt.Sprintf("cycle %d, mirror before the kill", cycle))

		victim.Kill()
		if !killSource {
			// The source takes writes while the destination is down.
			acked, _, _ = prod.counts()
			prod.waitAcked(t, acked+step, fmt.Sprintf("cycle %d, while the destination is down", cycle))
		}
		victim.Restart()
		dstCl = linkClient(t, dst.Addr())

		// The link and its mirror are still in the destination's metadata.
		l, err := getRESTLink(dst, link)
		if err != nil {
			t.Fatalf("cycle %d: after the %s restarted: %v", cycle, name, err)
		}
		if len(l.TopicNames) != 1 || l.TopicNames[0] != topic {
			t.Fatalf("cycle %d: after the %s restarted the link lists mirrors %q, want [%s]", cycle, name, l.TopicNames, topic)
		}

		// Mirroring resumes by itself: records produced after the restart
		// reach the mirror.
		acked, _, _ = prod.counts()
		prod.waitAcked(t, acked+step, fmt.Sprintf("cycle %d, after the %s restarted", cycle, name))
		var target int64
		testutil.WaitFor(t, linkWait, func() (bool, string) {
			target, err = sumEnds(srcCl, topic)
			return err == nil, fmt.Sprintf("listing the source's end offsets: %v", err)
		})
		waitTotalEnd(t, dstCl, topic, target, fmt.Sprintf("cycle %d, mirror after the %s restarted", cycle, name))
		waitMirrorStatus(t, dst, link, topic, "ACTIVE")
		t.Logf("cycle %d: the mirror passed %d records after the %s restarted", cycle, target, name)
	}

	prod.stop(t)
	checkMirror(t, srcCl, linkClient(t, dst.Addr()), topic, partitions)
}

// TestE2ELinkSourceOutage stops the source for longer than the link's
// availability threshold: the mirror becomes SOURCE_UNAVAILABLE and the link
// UNAVAILABLE (through REST and the CLI); when the source is back, both go
// back to ACTIVE by themselves and mirroring carries on.
func TestE2ELinkSourceOutage(t *testing.T) {
	t.Parallel()
	const (
		link       = "outage-link"
		topic      = "events"
		partitions = 2
	)
	src := startLinkBroker(t, t.TempDir(), testutil.FreeAddr(t))
	dst := startLinkBroker(t, t.TempDir(), "127.0.0.1:0")
	createTopic(t, newAdmin(t, src.Addr()), topic, partitions)
	srcCl := linkClient(t, src.Addr())
	linkProduce(t, srcCl, topic, "before", 50)
	createLinkCLI(t, dst, link, src.Addr(), "availability.check.consecutive.failure.threshold=2")
	createMirrorCLI(t, dst, link, topic)
	dstCl := linkClient(t, dst.Addr())
	testutil.WaitMirrorCaughtUp(t, linkWait, srcCl, dstCl, topic, topic)
	waitMirrorStatus(t, dst, link, topic, "ACTIVE")
	checkCLIMirrorStatus(t, dst, link, topic, partitions, "ACTIVE", "")

	src.Stop()
	// With a check every second and a threshold of 2, the source is known to
	// be gone within seconds; unavailableWait leaves ample room for a slow
	// machine and fails when detection is tied to anything much longer.
	m := waitMirrorStatusWithin(t, unavailableWait, dst, link, topic, "SOURCE_UNAVAILABLE")
	t.Logf("with the source down: %v", m)
	checkCLIMirrorStatus(t, dst, link, topic, partitions, "SOURCE_UNAVAILABLE", "")
	l := waitLinkState(t, dst, link, "UNAVAILABLE")
	if l.LinkError == "NO_ERROR" || l.LinkError == "" {
		t.Errorf("link %s is UNAVAILABLE with link_error %q, want the reason", link, l.LinkError)
	}

	src.Restart()
	waitMirrorStatus(t, dst, link, topic, "ACTIVE")
	waitLinkState(t, dst, link, "ACTIVE")
	checkCLIMirrorStatus(t, dst, link, topic, partitions, "ACTIVE", "")
	linkProduce(t, srcCl, topic, "after", 50)
	checkMirror(t, srcCl, dstCl, topic, partitions)
	if n, err := sumEnds(dstCl, topic); err != nil || n != 100 {
		t.Fatalf("the mirror holds %d records (%v), want the 100 produced", n, err)
	}
}

// unavailableWait bounds how long a link with availability.check.ms=1000
// and availability.check.consecutive.failure.threshold=2 may take to report
// a stopped source (connections refused) as unavailable: fifteen times the
// two checks it needs.
const unavailableWait = 30 * time.Second

// TestE2ELinkSourceTopicRecreated deletes the source topic under a mirror
// that has caught up and creates a new topic of the same name with other
// records: after cluster.link.retry.timeout.ms the mirror is FAILED with a
// source topic error, and it still holds exactly what it had, byte for
// byte, and nothing of the new topic.
func TestE2ELinkSourceTopicRecreated(t *testing.T) {
	t.Parallel()
	const (
		link       = "recreate-link"
		topic      = "doomed"
		partitions = 2
	)
	src := startLinkBroker(t, t.TempDir(), "127.0.0.1:0")
	dst := startLinkBroker(t, t.TempDir(), "127.0.0.1:0")
	srcAdm := newAdmin(t, src.Addr())
	oldID := createTopic(t, srcAdm, topic, partitions)
	srcCl := linkClient(t, src.Addr())
	linkProduce(t, srcCl, topic, "old", 40)
	createLinkCLI(t, dst, link, src.Addr(), "cluster.link.retry.timeout.ms=5000")
	createMirrorCLI(t, dst, link, topic)
	dstCl := linkClient(t, dst.Addr())
	testutil.WaitMirrorCaughtUp(t, linkWait, srcCl, dstCl, topic, topic)
	waitMirrorStatus(t, dst, link, topic, "ACTIVE")

	ctx, cancel := context.WithTimeout(context.Background(), linkWait)
	defer cancel()
	snapshot := make([]testutil.RawPartition, partitions)
	for p := range int32(partitions) {
		rp, err := testutil.ReadRawPartition(ctx, dstCl, topic, p)
		if err != nil {
			t.Fatalf("reading mirror %s-%d: %v", topic, p, err)
		}
		if len(rp.Batches) == 0 {
			t.Fatalf("mirror %s-%d is empty before the source topic is deleted", topic, p)
		}
		snapshot[p] = rp
	}

	resp, err := srcAdm.DeleteTopic(ctx, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("deleting source topic %s: %v", topic, err)
	}
	testutil.WaitFor(t, linkWait, func() (bool, string) {
		resp, err := srcAdm.CreateTopic(ctx, partitions, 1, nil, topic)
		if err == nil {
			err = resp.Err
		}
		return err == nil, fmt.Sprintf("recreating source topic %s: %v", topic, err)
	})
	waitForTopic(t, srcAdm, topic, partitions)
	// A fresh client: the admin client may answer from metadata it cached.
	fresh := linkClient(t, src.Addr())
	testutil.WaitFor(t, linkWait, func() (bool, string) {
		tds, err := kadm.NewClient(fresh).ListTopics(ctx, topic)
		if err != nil {
			return false, err.Error()
		}
		id := tds[topic].ID
		return id != oldID && id != (kadm.TopicID{}), fmt.Sprintf("source topic %s has ID %v, the deleted one had %v", topic, id, oldID)
	})
	// A client that never knew the old topic writes more records than the
	// old topic had, so offsets the mirror has and has not are both taken.
	linkProduce(t, fresh, topic, "new", 100)

	m := waitMirrorStatus(t, dst, link, topic, "FAILED")
	if m.MirrorTopicError != "SOURCE_TOPIC_ID_CHANGED" && m.MirrorTopicError != "SOURCE_TOPIC_MAY_BE_DELETED" {
		t.Fatalf("mirror FAILED with error %q, want SOURCE_TOPIC_ID_CHANGED or SOURCE_TOPIC_MAY_BE_DELETED: %v", m.MirrorTopicError, m)
	}
	t.Logf("mirror after the source topic was recreated: %v", m)
	checkCLIMirrorStatus(t, dst, link, topic, partitions, "FAILED", m.MirrorTopicError)

	for p := range int32(partitions) {
		now, err := testutil.ReadRawPartition(ctx, dstCl, topic, p)
		if err != nil {
			t.Fatalf("reading mirror %s-%d: %v", topic, p, err)
		}
		if err := testutil.CompareMirror(snapshot[p], now); err != nil {
			t.Errorf("mirror %s-%d changed after its source topic was recreated: %v", topic, p, err)
		}
		srcNow, err := testutil.ReadRawPartition(ctx, srcCl, topic, p)
		if err != nil {
			t.Fatalf("reading source %s-%d: %v", topic, p, err)
		}
		if srcNow.HighWatermark <= snapshot[p].HighWatermark {
			t.Errorf("new source %s-%d ends at %d, not past the mirror's %d: the check proves nothing", topic, p, srcNow.HighWatermark, snapshot[p].HighWatermark)
		}
	}
}

// linkProduce writes n records keyed prefix-i to topic (spread over its
// partitions by key) and waits for every acknowledgement.
func linkProduce(t *testing.T, cl *kgo.Client, topic, prefix string, n int) {
	t.Helper()
	recs := make([]*kgo.Record, n)
	for i := range recs {
		recs[i] = &kgo.Record{
			Topic: topic,
			Key:   fmt.Appendf(nil, "%s-%d", prefix, i),
			Value: fmt.Appendf(nil, "%s value %d %0*d", prefix, i, i%50, 0),
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), linkWait)
	defer cancel()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("producing %d %s records to %s: %v", n, prefix, topic, err)
	}
}
