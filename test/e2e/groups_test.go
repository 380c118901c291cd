package e2e

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-kafka/strait/internal/testutil"
)

// Committed group offsets live in __consumer_offsets. After a clean restart
// and after SIGKILL, a group's next member must start exactly at the
// offsets the broker acknowledged as committed.

const (
	groupTopic      = "group-resume"
	groupPartitions = 3
)

// startStraitForGroups is startStrait without the initial rebalance delay,
// so that each group's first member does not wait three seconds.
func startStraitForGroups(t *testing.T, dataDir string) *testutil.Process {
	t.Helper()
	bin := testutil.BuildBinary(t, "./cmd/strait")
	return testutil.StartProcess(t, bin, "serve",
		"--listeners", "PLAINTEXT://127.0.0.1:0",
		"--http.listeners", "http://127.0.0.1:0",
		"--log.dirs", dataDir,
		"--auto.create.topics.enable", "false",
		"--group.initial.rebalance.delay.ms", "0",
	)
}

// produceEach appends n records to every partition of the group topic.
func produceEach(t *testing.T, addr string, n int) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic(groupTopic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.RequiredAcks(kgo.AllISRAcks()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var recs []*kgo.Record
	for p := range int32(groupPartitions) {
		for i := range n {
			recs = append(recs, &kgo.Record{Partition: p, Value: fmt.Appendf(nil, "%d-%d", p, i)})
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("producing: %v", err)
	}
}

// groupMember is a franz-go consumer in group, without auto commit.
func groupMember(t *testing.T, addr, group string) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumerGroup(group), kgo.ConsumeTopics(groupTopic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit(),
		kgo.SessionTimeout(10*time.Second), kgo.HeartbeatInterval(500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// firstOffsets joins group with a new member and returns the offset of the
// first record it reads from each partition, then leaves.
func firstOffsets(t *testing.T, addr, group string) map[int32]int64 {
	t.Helper()
	cl := groupMember(t, addr, group)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	first := map[int32]int64{}
	for len(first) < groupPartitions {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("group %s: first records %v, still waiting for the others", group, first)
		}
		fs.EachError(func(_ string, p int32, err error) { t.Fatalf("group %s partition %d: %v", group, p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			if _, ok := first[r.Partition]; !ok {
				first[r.Partition] = r.Offset
			}
		})
	}
	return first
}

// commitAs has a member of group (which joins first) commit offsets, and
// then leave.
func commitAs(t *testing.T, addr, group string, offsets map[int32]int64) {
	t.Helper()
	cl := groupMember(t, addr, group)
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// Polling until records arrive means the member has its assignment.
	for cl.PollFetches(ctx).NumRecords() == 0 {
		if ctx.Err() != nil {
			t.Fatalf("group %s never got records", group)
		}
	}
	commitSync(t, ctx, cl, offsets)
}

func commitSync(t *testing.T, ctx context.Context, cl *kgo.Client, offsets map[int32]int64) {
	t.Helper()
	if err := commitErr(ctx, cl, offsets); err != nil {
		t.Fatalf("committing %v: %v", offsets, err)
	}
}

func commitErr(ctx context.Context, cl *kgo.Client, offsets map[int32]int64) error {
	eo := map[int32]kgo.EpochOffset{}
	for p, o := range offsets {
		eo[p] = kgo.EpochOffset{Epoch: -1, Offset: o}
	}
	var cerr error
	cl.CommitOffsetsSync(ctx, map[string]map[int32]kgo.EpochOffset{groupTopic: eo},
		func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
			if err != nil {
				cerr = err
				return
			}
			for _, t := range resp.Topics {
				for _, p := range t.Partitions {
					if p.ErrorCode != 0 && cerr == nil {
						cerr = fmt.Errorf("partition %d: error code %d", p.Partition, p.ErrorCode)
					}
				}
			}
		})
	return cerr
}

// committed is what the broker reports committed for group.
func committed(t *testing.T, addr, group string) map[int32]int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := newAdmin(t, addr).FetchOffsets(ctx, group)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		t.Fatalf("fetching offsets of %s: %v", group, err)
	}
	out := map[int32]int64{}
	resp.Each(func(o kadm.OffsetResponse) { out[o.Partition] = o.At })
	return out
}

func TestE2EGroupResumeAfterRestart(t *testing.T) {
	p := startStraitForGroups(t, t.TempDir())
	createTopic(t, newAdmin(t, p.Addr()), groupTopic, groupPartitions)
	produceEach(t, p.Addr(), 20)
	want := map[string]map[int32]int64{
		"graceful-a": {0: 5, 1: 12, 2: 19},
		"graceful-b": {0: 0, 1: 20, 2: 7},
	}
	for g, offs := range want {
		commitAs(t, p.Addr(), g, offs)
	}
	// An admin commit (no member), as reset-offsets makes.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin := kadm.Offsets{}
	for part, o := range map[int32]int64{0: 3, 1: 4, 2: 5} {
		admin.Add(kadm.Offset{Topic: groupTopic, Partition: part, At: o, LeaderEpoch: -1})
	}
	if err := newAdmin(t, p.Addr()).CommitAllOffsets(ctx, "graceful-admin", admin); err != nil {
		t.Fatal(err)
	}
	want["graceful-admin"] = map[int32]int64{0: 3, 1: 4, 2: 5}

	p.Stop()
	p.Restart()
	waitForTopic(t, newAdmin(t, p.Addr()), groupTopic, groupPartitions)
	produceEach(t, p.Addr(), 1) // every partition has a record past every commit
	for g, offs := range want {
		if got := committed(t, p.Addr(), g); !maps.Equal(got, offs) {
			t.Errorf("group %s: committed %v after restart, want %v", g, got, offs)
		}
		if got := firstOffsets(t, p.Addr(), g); !maps.Equal(got, offs) {
			t.Errorf("group %s: a new member started at %v after restart, want %v", g, got, offs)
		}
	}
}

func TestE2EGroupResumeAfterKill(t *testing.T) {
	p := startStraitForGroups(t, t.TempDir())
	createTopic(t, newAdmin(t, p.Addr()), groupTopic, groupPartitions)
	produceEach(t, p.Addr(), 30)
	quiet := map[string]map[int32]int64{
		"kill-a": {0: 9, 1: 1, 2: 30},
		"kill-b": {0: 17, 1: 18, 2: 0},
	}
	for g, offs := range quiet {
		commitAs(t, p.Addr(), g, offs)
	}

	// A member of "kill-busy" commits as fast as it can while the broker is
	// killed: afterwards its offsets are its last acknowledged commit, or
	// the one in flight at the kill.
	busy := groupMember(t, p.Addr(), "kill-busy")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for busy.PollFetches(ctx).NumRecords() == 0 {
		if ctx.Err() != nil {
			t.Fatal("the busy member never got records")
		}
	}
	var (
		mu                 sync.Mutex
		acked, attempted   int64
		wg                 sync.WaitGroup
		commitLoopFinished = make(chan struct{})
	)
	wg.Go(func() {
		defer close(commitLoopFinished)
		for n := int64(1); ctx.Err() == nil; n++ {
			mu.Lock()
			attempted = n
			mu.Unlock()
			cctx, ccancel := context.WithTimeout(ctx, 5*time.Second)
			err := commitErr(cctx, busy, map[int32]int64{0: n, 1: n, 2: n})
			ccancel()
			if err != nil {
				return
			}
			mu.Lock()
			acked = n
			mu.Unlock()
		}
	})
	testutil.WaitFor(t, time.Minute, func() (bool, string) {
		mu.Lock()
		defer mu.Unlock()
		return acked >= 200, fmt.Sprintf("%d commits acknowledged", acked)
	})
	p.Kill()
	<-commitLoopFinished
	cancel()
	wg.Wait()
	mu.Lock()
	lastAcked, lastAttempted := acked, attempted
	mu.Unlock()
	t.Logf("killed after %d acknowledged commits (%d attempted)", lastAcked, lastAttempted)

	p.Restart()
	waitForTopic(t, newAdmin(t, p.Addr()), groupTopic, groupPartitions)
	produceEach(t, p.Addr(), 1)
	for g, offs := range quiet {
		if got := committed(t, p.Addr(), g); !maps.Equal(got, offs) {
			t.Errorf("group %s: committed %v after kill -9, want %v", g, got, offs)
		}
		if got := firstOffsets(t, p.Addr(), g); !maps.Equal(got, offs) {
			t.Errorf("group %s: a new member started at %v after kill -9, want %v", g, got, offs)
		}
	}
	got := committed(t, p.Addr(), "kill-busy")
	for part := range int32(groupPartitions) {
		if o := got[part]; o < lastAcked || o > lastAttempted {
			t.Errorf("kill-busy partition %d: committed %d, want between the last acknowledged %d and the last attempted %d",
				part, o, lastAcked, lastAttempted)
		}
	}
	busy.Close()
}
