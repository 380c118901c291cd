package interop

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-kafka/strait/internal/testutil"
)

// Consumer groups, driven through real clients as a user would: members
// join and leave, partitions move, and committed offsets are where every
// member (new or old, of any client) resumes.

const (
	confluentGroupScript   = "python/confluent_group.py"
	kafkaPythonGroupScript = "python/kafkapython_group.py"
	kafkaJSGroupScript     = "js/kafkajs_group.js"
)

// produceValues writes perPartition records to each of partitions
// partitions of topic with franz-go, valued "tag-p-i", and waits for the
// acknowledgements.
func (c *cluster) produceValues(t *testing.T, topic string, partitions int32, perPartition int, tag string) {
	t.Helper()
	// Uncompressed: KafkaJS and kafka-python cannot read snappy here.
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.addr()), kgo.DefaultProduceTopic(topic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerBatchCompression(kgo.NoCompression()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var recs []*kgo.Record
	for p := range partitions {
		for i := range perPartition {
			recs = append(recs, &kgo.Record{Partition: p, Value: fmt.Appendf(nil, "%s-%d-%d", tag, p, i)})
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("producing to %s: %v", topic, err)
	}
}

// committedOffsets returns what the broker has committed for group.
func (c *cluster) committedOffsets(t *testing.T, group string) map[int32]int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := c.adm.FetchOffsets(ctx, group)
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

func allAt(partitions int32, offset int64) map[int32]int64 {
	out := map[int32]int64{}
	for p := range partitions {
		out[p] = offset
	}
	return out
}

func sameOffsets(a, b map[int32]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for p, o := range a {
		if b[p] != o {
			return false
		}
	}
	return true
}

// liveClient is a client program that runs until told to stop: commands go
// to its stdin, JSON events come from its stdout.
type liveClient struct {
	t     *testing.T
	name  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	// exited is closed once the program has exited and waitErr is set.
	exited  chan struct{}
	waitErr error

	mu     sync.Mutex
	events map[string][]json.RawMessage
	stderr bytes.Buffer
}

// lockedWriter lets the exec package's copier and the test share a buffer.
type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// startLive starts a client program. Its reader goroutine is joined, and
// the program killed if still running, when the test ends.
func startLive(t *testing.T, name, prog string, args ...string) *liveClient {
	t.Helper()
	lc := &liveClient{t: t, name: name, exited: make(chan struct{}), events: map[string][]json.RawMessage{}}
	lc.cmd = exec.Command(prog, args...)
	lc.cmd.Stderr = lockedWriter{&lc.mu, &lc.stderr}
	var err error
	if lc.stdin, err = lc.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := lc.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := lc.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() {
		defer close(lc.exited)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			var head struct {
				Event string `json:"event"`
			}
			line := slices.Clone(sc.Bytes())
			if json.Unmarshal(line, &head) != nil || head.Event == "" {
				head.Event = "garbage"
			}
			lc.mu.Lock()
			lc.events[head.Event] = append(lc.events[head.Event], line)
			lc.mu.Unlock()
		}
		lc.waitErr = lc.cmd.Wait()
	}()
	t.Cleanup(func() {
		select {
		case <-lc.exited:
		default:
			_ = lc.cmd.Process.Kill()
			<-lc.exited
		}
		if t.Failed() {
			lc.mu.Lock()
			t.Logf("%s stderr:\n%s", name, lc.stderr.String())
			lc.mu.Unlock()
		}
	})
	return lc
}

func (lc *liveClient) send(command string) {
	lc.t.Helper()
	if _, err := io.WriteString(lc.stdin, command+"\n"); err != nil {
		lc.t.Fatalf("%s: writing %q: %v", lc.name, command, err)
	}
}

// count is how many events of a kind the program printed.
func (lc *liveClient) count(event string) int {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	if len(lc.events["garbage"]) > 0 {
		lc.t.Errorf("%s printed a line that is not a JSON event: %s", lc.name, lc.events["garbage"][0])
	}
	return len(lc.events[event])
}

func liveEvents[T any](lc *liveClient, event string) []T {
	lc.mu.Lock()
	raw := slices.Clone(lc.events[event])
	lc.mu.Unlock()
	out := make([]T, 0, len(raw))
	for _, r := range raw {
		var v T
		if err := json.Unmarshal(r, &v); err != nil {
			lc.t.Fatalf("%s: decoding %s: %v", lc.name, r, err)
		}
		out = append(out, v)
	}
	return out
}

// alive fails the test if the program exited.
func (lc *liveClient) alive() (bool, string) {
	select {
	case <-lc.exited:
		lc.mu.Lock()
		defer lc.mu.Unlock()
		lc.t.Fatalf("%s exited: %v\nstderr:\n%s", lc.name, lc.waitErr, lc.stderr.String())
	default:
	}
	return true, ""
}

// stop sends "stop" and waits for the program to leave and exit cleanly.
func (lc *liveClient) stop() {
	lc.t.Helper()
	lc.send("stop")
	select {
	case <-lc.exited:
	case <-time.After(clientTimeout):
		lc.t.Fatalf("%s did not exit within %v of stop", lc.name, clientTimeout)
	}
	if lc.waitErr != nil || lc.count("closed") != 1 {
		lc.mu.Lock()
		defer lc.mu.Unlock()
		lc.t.Fatalf("%s stopped with %v (closed events %d)\nstderr:\n%s", lc.name, lc.waitErr, len(lc.events["closed"]), lc.stderr.String())
	}
}

type assignedEvent struct {
	Partitions []int32 `json:"partitions"`
}

// assignment is the member's latest assignment.
func (lc *liveClient) assignment() []int32 {
	a := liveEvents[assignedEvent](lc, "assigned")
	if len(a) == 0 {
		return nil
	}
	return a[len(a)-1].Partitions
}

// waitAssigned waits until every member has partitions and together they
// hold each of the topic's partitions exactly once.
func waitAssigned(t *testing.T, partitions int32, members ...*liveClient) {
	t.Helper()
	testutil.WaitFor(t, clientTimeout, func() (bool, string) {
		owner := map[int32]string{}
		for _, m := range members {
			m.alive()
			a := m.assignment()
			if len(a) == 0 {
				return false, m.name + " has no partitions yet"
			}
			for _, p := range a {
				if o, dup := owner[p]; dup {
					return false, fmt.Sprintf("partition %d held by %s and %s", p, o, m.name)
				}
				owner[p] = m.name
			}
		}
		if int32(len(owner)) != partitions {
			return false, fmt.Sprintf("partitions held: %v", owner)
		}
		return true, ""
	})
}

// read returns the highest offset the member read per partition.
func (lc *liveClient) read() map[int32]int64 {
	out := map[int32]int64{}
	for _, r := range liveEvents[Record](lc, "record") {
		if o, ok := out[r.Partition]; !ok || r.Offset > o {
			out[r.Partition] = r.Offset
		}
	}
	return out
}

// commitUntil waits until each partition's current owner has read up to
// want, has every member commit, and checks the broker's committed offsets
// equal want (a rebalance in between makes it try again).
func (c *cluster) commitUntil(t *testing.T, group string, want map[int32]int64, members ...*liveClient) {
	t.Helper()
	testutil.WaitFor(t, clientTimeout, func() (bool, string) {
		for _, m := range members {
			m.alive()
			read := m.read()
			for _, p := range m.assignment() {
				if read[p]+1 < want[p] {
					return false, fmt.Sprintf("%s has read partition %d to %d, want %d", m.name, p, read[p], want[p]-1)
				}
			}
		}
		for _, m := range members {
			before := m.count("committed")
			m.send("commit")
			testutil.WaitFor(t, clientTimeout, func() (bool, string) {
				m.alive()
				return m.count("committed") > before, m.name + " has not committed"
			})
		}
		got := c.committedOffsets(t, group)
		return sameOffsets(got, want), fmt.Sprintf("committed %v, want %v", got, want)
	})
}

// groupState is the group's state as DescribeGroups reports it.
func (c *cluster) groupState(t *testing.T, group string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, err := c.adm.DescribeGroups(ctx, group)
	if err != nil {
		t.Fatalf("describing %s: %v", group, err)
	}
	return d[group].State
}

func TestInteropGroupConfluentKafkaPython(t *testing.T) {
	forEachTarget(t, []string{"confluent_kafka"}, func(t *testing.T, c *cluster) {
		const (
			topic      = "group-confluent"
			group      = "group-confluent"
			partitions = 6
		)
		c.createTopic(t, topic, partitions, nil)
		member := func(name string) *liveClient {
			return startLive(t, name, pythonPath, confluentGroupScript, c.addr(), topic, group, "--client-id", name)
		}
		c.produceValues(t, topic, partitions, 10, "first")
		a, b := member("a"), member("b")
		waitAssigned(t, partitions, a, b)
		c.commitUntil(t, group, allAt(partitions, 10), a, b)

		// A third member joins: the partitions spread over three.
		cm := member("c")
		waitAssigned(t, partitions, a, b, cm)
		c.produceValues(t, topic, partitions, 5, "second")
		c.commitUntil(t, group, allAt(partitions, 15), a, b, cm)

		// One leaves: the other two take over its partitions, from its commits.
		b.stop()
		waitAssigned(t, partitions, a, cm)
		c.produceValues(t, topic, partitions, 5, "third")
		c.commitUntil(t, group, allAt(partitions, 20), a, cm)
		a.stop()
		cm.stop()
		testutil.WaitFor(t, 30*time.Second, func() (bool, string) {
			s := c.groupState(t, group)
			return s == "Empty", "group is " + s
		})

		// The commits survive the members: a new one reads only what came after.
		c.produceValues(t, topic, partitions, 1, "fourth")
		d := member("d")
		waitAssigned(t, partitions, d)
		c.commitUntil(t, group, allAt(partitions, 21), d)
		for _, r := range liveEvents[Record](d, "record") {
			if r.Offset < 20 {
				t.Errorf("the new member read partition %d offset %d, below the committed 20", r.Partition, r.Offset)
			}
		}
		d.stop()
	})
}

type committedEvent struct {
	Offsets []struct {
		Partition int32 `json:"partition"`
		Offset    int64 `json:"offset"`
	} `json:"offsets"`
}

// runGroupOnce runs a one-shot group consumer and checks it read exactly
// the offsets [from, to) of every partition and reported them committed.
func runGroupOnce(t *testing.T, c *cluster, group string, partitions int32, from, to int64, prog string, args ...string) {
	t.Helper()
	out := runClient(t, nil, prog, args...)
	seen := map[int32][]int64{}
	for _, r := range decodeEvents[Record](t, out, "record") {
		seen[r.Partition] = append(seen[r.Partition], r.Offset)
	}
	for p := range partitions {
		got := seen[p]
		slices.Sort(got)
		var want []int64
		for o := from; o < to; o++ {
			want = append(want, o)
		}
		if !slices.Equal(got, want) {
			t.Errorf("partition %d: read offsets %v, want %d..%d", p, got, from, to-1)
		}
	}
	committed := decodeEvents[committedEvent](t, out, "committed")
	if len(committed) != 1 {
		t.Fatalf("%d committed events", len(committed))
	}
	reported := map[int32]int64{}
	for _, o := range committed[0].Offsets {
		reported[o.Partition] = o.Offset
	}
	if want := allAt(partitions, to); !sameOffsets(reported, want) {
		t.Errorf("client reports committed %v, want %v", reported, want)
	}
	if got, want := c.committedOffsets(t, group), allAt(partitions, to); !sameOffsets(got, want) {
		t.Errorf("broker has committed %v, want %v", got, want)
	}
}

func TestInteropGroupKafkaPython(t *testing.T) {
	forEachTarget(t, []string{"kafka"}, func(t *testing.T, c *cluster) {
		const topic, group, partitions = "group-kafka-python", "group-kafka-python", 3
		c.createTopic(t, topic, partitions, nil)
		c.produceValues(t, topic, partitions, 4, "first")
		run := func(from, to int64) {
			t.Helper()
			n := fmt.Sprint(int64(partitions) * (to - from))
			runGroupOnce(t, c, group, partitions, from, to, pythonPath, kafkaPythonGroupScript, c.addr(), topic, group, "--count", n)
		}
		run(0, 4)
		c.produceValues(t, topic, partitions, 3, "second")
		run(4, 7) // resumes at the committed offsets
	})
}

func TestInteropGroupKafkaJS(t *testing.T) {
	forEachTarget(t, []string{"node", "kafkajs"}, func(t *testing.T, c *cluster) {
		const topic, group, partitions = "group-kafkajs", "group-kafkajs", 3
		c.createTopic(t, topic, partitions, nil)
		c.produceValues(t, topic, partitions, 5, "first")
		run := func(from, to int64) {
			t.Helper()
			n := fmt.Sprint(int64(partitions) * (to - from))
			runGroupOnce(t, c, group, partitions, from, to, "node", kafkaJSGroupScript, c.addr(), topic, group, n)
		}
		run(0, 5)
		c.produceValues(t, topic, partitions, 2, "second")
		run(5, 7)
	})
}

func TestInteropGroupKcat(t *testing.T) {
	forEachTarget(t, []string{"kcat"}, func(t *testing.T, c *cluster) {
		const topic, group, partitions = "group-kcat", "group-kcat", 2
		c.createTopic(t, topic, partitions, nil)
		// kcat -G is librdkafka's balanced consumer; -e exits once every
		// assigned partition is at its end, committing on close.
		consume := func() map[int32][]int64 {
			t.Helper()
			ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
			defer cancel()
			cmd := exec.CommandContext(ctx, "kcat", "-b", c.addr(), "-G", group, "-e", "-q", "-f", "%p %o\n",
				"-X", "auto.offset.reset=earliest", "-X", "session.timeout.ms=10000", topic)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("kcat -G: %v\n%s", err, stderr.Bytes())
			}
			seen := map[int32][]int64{}
			for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				var p int32
				var o int64
				if line == "" {
					continue
				}
				if _, err := fmt.Sscanf(line, "%d %d", &p, &o); err != nil {
					t.Fatalf("kcat printed %q", line)
				}
				seen[p] = append(seen[p], o)
			}
			return seen
		}
		check := func(seen map[int32][]int64, from, to int64) {
			t.Helper()
			for p := range int32(partitions) {
				var want []int64
				for o := from; o < to; o++ {
					want = append(want, o)
				}
				if got := seen[p]; !slices.Equal(got, want) {
					t.Errorf("partition %d: kcat -G read %v, want %d..%d", p, got, from, to-1)
				}
			}
		}
		c.produceValues(t, topic, partitions, 6, "first")
		check(consume(), 0, 6)
		if got := c.committedOffsets(t, group); !sameOffsets(got, allAt(partitions, 6)) {
			t.Fatalf("committed %v after kcat -G, want 6 everywhere", got)
		}
		c.produceValues(t, topic, partitions, 3, "second")
		check(consume(), 6, 9)
	})
}

// TestInteropGroupFranzGoCooperative runs franz-go members with the
// cooperative-sticky balancer (KIP-429): when a member joins, the first one
// gives up only the partitions that move, keeping the others throughout.
func TestInteropGroupFranzGoCooperative(t *testing.T) {
	forEachTarget(t, nil, func(t *testing.T, c *cluster) {
		const topic, group, partitions = "group-franz-go", "group-franz-go", 6
		c.createTopic(t, topic, partitions, nil)
		c.produceValues(t, topic, partitions, 10, "first")

		type member struct {
			cl *kgo.Client
			mu sync.Mutex
			// owned is the current assignment; revoked every partition
			// taken away, in order.
			owned   map[int32]bool
			revoked []int32
			lost    int
			read    map[int32]int64 // next offset per partition
		}
		newMember := func(name string) *member {
			m := &member{owned: map[int32]bool{}, read: map[int32]int64{}}
			cl, err := kgo.NewClient(
				kgo.SeedBrokers(c.addr()), kgo.ClientID(name),
				kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
				kgo.Balancers(kgo.CooperativeStickyBalancer()),
				kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
				kgo.SessionTimeout(10*time.Second), kgo.HeartbeatInterval(500*time.Millisecond),
				kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, a map[string][]int32) {
					m.mu.Lock()
					defer m.mu.Unlock()
					for _, p := range a[topic] {
						m.owned[p] = true
					}
				}),
				kgo.OnPartitionsRevoked(func(ctx context.Context, cl *kgo.Client, r map[string][]int32) {
					// Commit what was read before the partitions move.
					if err := cl.CommitMarkedOffsets(ctx); err != nil {
						t.Errorf("%s: commit on revoke: %v", name, err)
					}
					m.mu.Lock()
					defer m.mu.Unlock()
					for _, p := range r[topic] {
						delete(m.owned, p)
						m.revoked = append(m.revoked, p)
					}
				}),
				kgo.OnPartitionsLost(func(context.Context, *kgo.Client, map[string][]int32) {
					m.mu.Lock()
					defer m.mu.Unlock()
					m.lost++
				}),
				kgo.AutoCommitMarks(),
				kgo.BlockRebalanceOnPoll(),
			)
			if err != nil {
				t.Fatal(err)
			}
			m.cl = cl
			return m
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var wg sync.WaitGroup
		poll := func(m *member) {
			defer wg.Done()
			for ctx.Err() == nil {
				fs := m.cl.PollFetches(ctx)
				fs.EachRecord(func(r *kgo.Record) {
					m.mu.Lock()
					m.read[r.Partition] = r.Offset + 1
					m.mu.Unlock()
					m.cl.MarkCommitRecords(r)
				})
				m.cl.AllowRebalance()
			}
		}
		owned := func(m *member) []int32 {
			m.mu.Lock()
			defer m.mu.Unlock()
			var out []int32
			for p := range m.owned {
				out = append(out, p)
			}
			slices.Sort(out)
			return out
		}
		split := func(ms ...*member) (bool, string) {
			seen := map[int32]bool{}
			for i, m := range ms {
				o := owned(m)
				if len(o) != partitions/len(ms) {
					return false, fmt.Sprintf("member %d owns %v", i, o)
				}
				for _, p := range o {
					seen[p] = true
				}
			}
			return len(seen) == partitions, fmt.Sprintf("owned %v", seen)
		}

		a := newMember("a")
		wg.Add(1)
		go poll(a)
		testutil.WaitFor(t, clientTimeout, func() (bool, string) { return split(a) })
		before := owned(a)

		b := newMember("b")
		wg.Add(1)
		go poll(b)
		testutil.WaitFor(t, clientTimeout, func() (bool, string) { return split(a, b) })
		a.mu.Lock()
		revoked, lost := slices.Clone(a.revoked), a.lost
		a.mu.Unlock()
		// Cooperative: a gave up exactly the three partitions b got, and
		// never lost or gave up the ones it kept.
		slices.Sort(revoked)
		if got := owned(b); !slices.Equal(revoked, got) || lost != 0 || len(before) != partitions {
			t.Errorf("a revoked %v (lost %d times) for b's %v", revoked, lost, got)
		}

		// Between them they read everything (a moved partition starts at
		// what its previous owner committed on revoke); committing and
		// leaving keeps the offsets.
		testutil.WaitFor(t, clientTimeout, func() (bool, string) {
			read := map[int32]int64{}
			for _, m := range []*member{a, b} {
				m.mu.Lock()
				for p, o := range m.read {
					read[p] = max(read[p], o)
				}
				m.mu.Unlock()
			}
			for p := range int32(partitions) {
				if read[p] < 10 {
					return false, fmt.Sprintf("partition %d read to %d", p, read[p])
				}
			}
			return true, ""
		})
		for _, m := range []*member{a, b} {
			cctx, ccancel := context.WithTimeout(context.Background(), 30*time.Second)
			if err := m.cl.CommitMarkedOffsets(cctx); err != nil {
				t.Errorf("commit: %v", err)
			}
			ccancel()
		}
		cancel()
		wg.Wait()
		a.cl.Close()
		b.cl.Close()
		if got := c.committedOffsets(t, group); !sameOffsets(got, allAt(partitions, 10)) {
			t.Fatalf("committed %v, want 10 everywhere", got)
		}
	})
}

// TestInteropGroupFindCoordinator asks for group coordinators one at a time
// (v0-v3) and in a batch (v4+), and for a transaction coordinator, which
// Strait does not have.
func TestInteropGroupFindCoordinator(t *testing.T) {
	forEachTarget(t, nil, func(t *testing.T, c *cluster) {
		cl, err := kgo.NewClient(kgo.SeedBrokers(c.addr()))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		want := c.addr()

		for _, v := range []int16{0, 3} {
			req := kmsg.NewPtrFindCoordinatorRequest()
			req.Version, req.CoordinatorKey = v, "some-group"
			resp, err := req.RequestWith(ctx, cl)
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprintf("%s:%d", resp.Host, resp.Port); resp.ErrorCode != 0 || got != want {
				t.Errorf("v%d: coordinator %s (error %d), want %s", v, got, resp.ErrorCode, want)
			}
		}
		req := kmsg.NewPtrFindCoordinatorRequest()
		req.Version, req.CoordinatorKeys = 4, []string{"group-a", "group-b", ""}
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Coordinators) != 3 {
			t.Fatalf("%d coordinators for 3 keys", len(resp.Coordinators))
		}
		for _, co := range resp.Coordinators {
			if got := fmt.Sprintf("%s:%d", co.Host, co.Port); co.ErrorCode != 0 || got != want {
				t.Errorf("key %q: coordinator %s (error %d)", co.Key, got, co.ErrorCode)
			}
		}

		c.skipOnKfake(t, "kfake serves transactions")
		req = kmsg.NewPtrFindCoordinatorRequest()
		req.Version, req.CoordinatorType, req.CoordinatorKeys = 4, 1, []string{"txn"}
		resp, err = req.RequestWith(ctx, cl)
		if err != nil {
			t.Fatal(err)
		}
		if co := resp.Coordinators[0]; co.ErrorCode != kerr.CoordinatorNotAvailable.Code || co.ErrorMessage == nil || !strings.Contains(*co.ErrorMessage, "transactions") {
			t.Errorf("transaction coordinator: error %d %v", co.ErrorCode, co.ErrorMessage)
		}
	})
}
