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

func TestMain(m *testing.M) { testutil.Main(m) }

// startStrait starts the strait binary on ephemeral ports with its data in
// dataDir. Topics are only created explicitly.
func startStrait(t *testing.T, dataDir string) *testutil.Process {
	t.Helper()
	bin := testutil.BuildBinary(t, "./cmd/strait")
	return testutil.StartProcess(t, bin, "serve",
		"--listeners", "PLAINTEXT://127.0.0.1:0",
		"--http.listeners", "http://127.0.0.1:0",
		"--log.dirs", dataDir,
		"--auto.create.topics.enable", "false",
	)
}

// newAdmin returns an admin client for addr, closed when the test ends.
func newAdmin(t *testing.T, addr string) *kadm.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatalf("franz-go client: %v", err)
	}
	t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

// createTopic creates topic and waits until every partition has a leader.
func createTopic(t *testing.T, adm *kadm.Client, topic string, partitions int32) kadm.TopicID {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := adm.CreateTopic(ctx, partitions, 1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("creating topic %s: %v", topic, err)
	}
	return waitForTopic(t, adm, topic, partitions)
}

// waitForTopic waits until topic has partitions partitions, each with a
// leader, and returns its ID.
func waitForTopic(t *testing.T, adm *kadm.Client, topic string, partitions int32) kadm.TopicID {
	t.Helper()
	var id kadm.TopicID
	testutil.WaitFor(t, 30*time.Second, func() (bool, string) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		topics, err := adm.ListTopics(ctx, topic)
		if err != nil {
			return false, err.Error()
		}
		td, ok := topics[topic]
		if !ok || td.Err != nil {
			return false, fmt.Sprintf("topic %s not listed (%v)", topic, td.Err)
		}
		if int32(len(td.Partitions)) != partitions {
			return false, fmt.Sprintf("topic %s has %d partitions, want %d", topic, len(td.Partitions), partitions)
		}
		for _, p := range td.Partitions {
			if p.Leader < 0 || p.Err != nil {
				return false, fmt.Sprintf("partition %s/%d has no leader (%v)", topic, p.Partition, p.Err)
			}
		}
		id = td.ID
		return true, ""
	})
	return id
}

// readLog reads every record of topic's partitions, from offset 0 up to the
// end offsets, once each partition's end offset has reached at least
// minEnd[p] (the high watermark may trail the log end briefly after a
// restart). It fails the test on any fetch error, such as a corrupt batch.
func readLog(t *testing.T, addr, topic string, partitions int32, minEnd map[int32]int64) map[int32][]*kgo.Record {
	t.Helper()
	adm := newAdmin(t, addr)
	var ends kadm.ListedOffsets
	testutil.WaitFor(t, 60*time.Second, func() (bool, string) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var err error
		ends, err = adm.ListEndOffsets(ctx, topic)
		if err == nil {
			err = ends.Error()
		}
		if err != nil {
			return false, err.Error()
		}
		for p, want := range minEnd {
			o, ok := ends.Lookup(topic, p)
			if !ok || o.Offset < want {
				return false, fmt.Sprintf("partition %d: end offset %d, want at least %d", p, o.Offset, want)
			}
		}
		return true, ""
	})

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	starts, err := adm.ListStartOffsets(ctx, topic)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		t.Fatalf("listing start offsets of %s: %v", topic, err)
	}

	end := map[int32]int64{}
	from := map[int32]kgo.Offset{}
	for p := range partitions {
		s, _ := starts.Lookup(topic, p)
		e, _ := ends.Lookup(topic, p)
		if s.Offset != 0 {
			t.Errorf("partition %d starts at offset %d, want 0: nothing was deleted", p, s.Offset)
		}
		if e.Offset > 0 {
			end[p] = e.Offset
			from[p] = kgo.NewOffset().At(0)
		}
	}
	out := map[int32][]*kgo.Record{}
	if len(end) == 0 {
		return out
	}
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(addr),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: from}),
		kgo.FetchMaxBytes(16<<20),
	)
	if err != nil {
		t.Fatalf("franz-go consumer: %v", err)
	}
	defer cl.Close()
	pending := len(end)
	for pending > 0 {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("reading %s: timed out with %d partitions short of their end offsets %v", topic, pending, end)
		}
		fetches.EachError(func(topic string, p int32, err error) {
			t.Fatalf("reading %s/%d: %v", topic, p, err)
		})
		fetches.EachRecord(func(r *kgo.Record) {
			e, ok := end[r.Partition]
			if !ok || r.Offset >= e {
				return // appended after we listed the end offsets
			}
			out[r.Partition] = append(out[r.Partition], r)
			if r.Offset == e-1 {
				pending--
			}
		})
	}
	return out
}
