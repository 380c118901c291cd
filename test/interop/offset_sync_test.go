package interop

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-kafka/strait/internal/testutil"
)

// TestInteropLinkOffsetSyncPythonGroups: consumer groups of
// confluent-kafka-python and kafka-python commit on a source cluster; a
// cluster link syncs their offsets to the destination; the same clients,
// moved to the destination, resume exactly where they stopped.
func TestInteropLinkOffsetSyncPythonGroups(t *testing.T) {
	if testing.Short() {
		t.Skip("drives external clients")
	}
	requireClient(t, "confluent_kafka")
	requireClient(t, "kafka")
	src, dst := startStrait(t), startStrait(t)
	bin := testutil.BuildBinary(t, "./cmd/strait")
	srcCl := newKgo(t, src.Addr())
	dstCl := newKgo(t, dst.Addr())
	srcC := &cluster{target: "strait", proc: src, adm: kadm.NewClient(srcCl)}
	const topic = "synced"
	srcC.createTopic(t, topic, 1, nil)
	srcC.produceValues(t, topic, 1, 20, "first")

	url := "http://" + dst.HTTPAddr()
	cli := func(args ...string) {
		t.Helper()
		out, errOut, err := testutil.RunCommand(t, time.Minute, nil, bin, append(args, "--url", url, "--bootstrap-server", dst.Addr())...)
		if err != nil {
			t.Fatalf("strait %v: %v\n%s\n%s", args, err, out, errOut)
		}
	}
	cli("link", "create", "py", "--source-bootstrap-server", src.Addr(),
		"--config", "consumer.offset.sync.enable=true,consumer.offset.sync.ms=1000,metadata.max.age.ms=1000",
		"--config", `consumer.offset.group.filters={"groupFilters":[{"name":"py-","patternType":"PREFIXED","filterType":"INCLUDE"}]}`)
	cli("mirror", "create", topic, "--link", "py")

	// kafka-python reads and commits the 20 records there are on the source.
	runGroupOnce(t, srcC, "py-kafka", 1, 0, 20, pythonPath, "python/kafkapython_group.py", src.Addr(), topic, "py-kafka", "--count", "20")
	// confluent-kafka-python reads all 40 there are then, and commits.
	srcC.produceValues(t, topic, 1, 20, "second")
	member := startLive(t, "confluent on source", pythonPath, "python/confluent_group.py", src.Addr(), topic, "py-confluent")
	srcC.commitUntil(t, "py-confluent", allAt(1, 40), member)
	member.stop()

	// The link syncs both groups' offsets to the destination.
	want := map[string]int64{"py-kafka": 20, "py-confluent": 40}
	testutil.WaitFor(t, 60*time.Second, func() (bool, string) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for g, w := range want {
			f, err := kadm.NewClient(dstCl).FetchOffsets(ctx, g)
			if err != nil {
				return false, err.Error()
			}
			o, ok := f.Lookup(topic, 0)
			if !ok || o.At != w {
				return false, fmt.Sprintf("group %s at %d on the destination, want %d", g, o.At, w)
			}
		}
		return true, ""
	})

	// New records arrive at the source and are mirrored.
	srcC.produceValues(t, topic, 1, 10, "after")
	testutil.WaitMirrorCaughtUp(t, 60*time.Second, srcCl, dstCl, topic, topic)

	// Moved to the destination, each client resumes exactly at its synced
	// offset: neither skipping nor re-reading a record.
	dstC := &cluster{target: "strait", proc: dst, adm: kadm.NewClient(dstCl)}
	runGroupOnce(t, dstC, "py-kafka", 1, 20, 50, pythonPath, "python/kafkapython_group.py", dst.Addr(), topic, "py-kafka", "--count", "30")
	moved := startLive(t, "confluent on destination", pythonPath, "python/confluent_group.py", dst.Addr(), topic, "py-confluent")
	testutil.WaitFor(t, clientTimeout, func() (bool, string) {
		moved.alive()
		return moved.count("record") >= 10, fmt.Sprintf("read %d records", moved.count("record"))
	})
	recs := liveEvents[Record](moved, "record")
	if recs[0].Offset != 40 || len(recs) != 10 {
		t.Fatalf("confluent-kafka-python resumed at offset %d and read %d records, want 40 and 10", recs[0].Offset, len(recs))
	}
	moved.stop()
}

func newKgo(t *testing.T, addr string) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}
