package interop

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-kafka/strait/internal/testutil"
)

const deliveryScript = "python/confluent_delivery.py"

// deliveryError is a delivery callback's error as confluent_delivery.py
// reports it.
type deliveryError struct {
	Index     int    `json:"index"`
	Code      int    `json:"code"`
	Name      string `json:"name"`
	Message   string `json:"message"`
	Retriable bool   `json:"retriable"`
	Fatal     bool   `json:"fatal"`
}

// TestInteropMirrorReadOnly runs two strait brokers, a cluster link between
// them and a mirror topic, and has real clients produce into the mirror:
// kcat, confluent-kafka-python and `strait topic produce` must each report
// INVALID_REQUEST (Kafka's answer for a read-only mirror), and the mirror
// must not move: its end offsets stay where they were, and it still equals
// its source byte for byte and keeps mirroring. It runs against strait
// only: kfake has no cluster links, so it can hold no mirror topic.
func TestInteropMirrorReadOnly(t *testing.T) {
	if testing.Short() {
		t.Skip("interop tests drive external clients; skipped with -short")
	}
	requireClient(t, "kcat")
	requireClient(t, "confluent_kafka")
	const (
		link       = "ro-link"
		topic      = "read-only"
		partitions = 3
	)
	bin := testutil.BuildBinary(t, "./cmd/strait")
	src, dst := startStrait(t), startStrait(t)
	srcCl := mirrorClient(t, src.Addr())
	dstCl := mirrorClient(t, dst.Addr())
	ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
	defer cancel()
	if resp, err := kadm.NewClient(srcCl).CreateTopic(ctx, partitions, 1, nil, topic); err != nil || resp.Err != nil {
		t.Fatalf("creating %s on the source: %v %v", topic, err, resp.Err)
	}
	produceSource := func(prefix string, n int) {
		t.Helper()
		for i := range n {
			r := &kgo.Record{Topic: topic, Key: fmt.Appendf(nil, "%s-%d", prefix, i), Value: fmt.Appendf(nil, "%s value %d", prefix, i)}
			if err := srcCl.ProduceSync(ctx, r).FirstErr(); err != nil {
				t.Fatalf("producing to the source: %v", err)
			}
		}
	}
	produceSource("before", 30)

	straitCLI := func(stdin []byte, args ...string) (string, error) {
		t.Helper()
		args = append(args, "--url", "http://"+dst.HTTPAddr(), "--bootstrap-server", dst.Addr())
		out, errOut, err := testutil.RunCommand(t, clientTimeout, stdin, bin, args...)
		return out + errOut, err
	}
	for _, args := range [][]string{
		{"link", "create", link, "--source-bootstrap-server", src.Addr(), "--config",
			"metadata.max.age.ms=1000,availability.check.ms=1000,topic.config.sync.ms=1000,replica.fetch.wait.max.ms=100,replica.fetch.backoff.ms=100"},
		{"mirror", "create", topic, "--link", link},
	} {
		if out, err := straitCLI(nil, args...); err != nil {
			t.Fatalf("strait %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	testutil.WaitMirrorCaughtUp(t, time.Minute, srcCl, dstCl, topic, topic)
	before := mirrorEnds(t, dstCl, topic)

	t.Run("kcat", func(t *testing.T) {
		stdout, stderr, err := testutil.RunCommand(t, clientTimeout, []byte("one\ntwo\nthree\n"), "kcat", "-P", "-b", dst.Addr(), "-t", topic)
		out := stdout + stderr
		if err == nil {
			t.Fatalf("kcat -P into the mirror exited 0; output:\n%s", out)
		}
		if !strings.Contains(out, "Invalid request") && !strings.Contains(out, "INVALID_REQUEST") {
			t.Fatalf("kcat -P into the mirror: %v, output lacks Invalid request / INVALID_REQUEST:\n%s", err, out)
		}
		t.Logf("kcat: %v: %s", err, strings.TrimSpace(out))
	})

	for _, idempotent := range []bool{false, true} {
		t.Run(fmt.Sprintf("confluent-kafka-python idempotent=%v", idempotent), func(t *testing.T) {
			args := []string{deliveryScript, dst.Addr(), topic}
			if idempotent {
				args = append(args, "--idempotent")
			}
			sent := genRecords(12, 7, genOptions{partitions: partitions})
			out := runClient(t, encodeRecords(t, sent), pythonPath, args...)
			if acks := out["ack"]; len(acks) != 0 {
				t.Fatalf("%d records were acknowledged by the mirror: %s", len(acks), acks)
			}
			errs := decodeEvents[deliveryError](t, out, "delivery_error")
			if len(errs) != len(sent) {
				t.Fatalf("%d delivery errors for %d records", len(errs), len(sent))
			}
			for _, e := range errs {
				if e.Code != 42 || e.Name != "INVALID_REQUEST" {
					t.Errorf("record %d: delivery error %d %s (%s), want 42 INVALID_REQUEST", e.Index, e.Code, e.Name, e.Message)
				}
			}
			t.Logf("confluent-kafka-python: %s (retriable %v, fatal %v)", errs[0].Message, errs[0].Retriable, errs[0].Fatal)
		})
	}

	t.Run("strait topic produce", func(t *testing.T) {
		out, err := straitCLI([]byte("one\ntwo\n"), "topic", "produce", topic)
		if err == nil {
			t.Fatalf("strait topic produce into the mirror exited 0; output:\n%s", out)
		}
		if !strings.Contains(out, "INVALID_REQUEST") {
			t.Errorf("strait topic produce into the mirror: %v, output lacks INVALID_REQUEST:\n%s", err, out)
		}
		t.Logf("strait topic produce: %v: %s", err, strings.TrimSpace(out))
	})

	// Nothing was written: the end offsets did not move, the mirror still
	// equals its source, and it still mirrors.
	after := mirrorEnds(t, dstCl, topic)
	for p, end := range before {
		if after[p] != end {
			t.Errorf("mirror partition %d ended at %d before the refused writes and at %d after", p, end, after[p])
		}
	}
	testutil.CheckMirrorTopic(t, srcCl, dstCl, topic, topic, partitions)
	produceSource("after", 30)
	testutil.WaitMirrorCaughtUp(t, time.Minute, srcCl, dstCl, topic, topic)
	if batches, _ := testutil.CheckMirrorTopic(t, srcCl, dstCl, topic, topic, partitions); batches < 60 {
		t.Fatalf("the oracle compared %d batches, want the 60 produced one by one", batches)
	}
}

// mirrorClient returns a franz-go client for addr, closed when the test ends.
func mirrorClient(t *testing.T, addr string) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatalf("franz-go client: %v", err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// mirrorEnds lists topic's end offsets by partition.
func mirrorEnds(t *testing.T, cl *kgo.Client, topic string) map[int32]int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		t.Fatalf("listing end offsets of %s: %v", topic, err)
	}
	out := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) { out[o.Partition] = o.Offset })
	if len(out) == 0 {
		t.Fatalf("%s lists no partitions", topic)
	}
	return out
}
