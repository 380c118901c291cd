package interop

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-kafka/strait/internal/testutil"
)

func TestMain(m *testing.M) { testutil.Main(m) }

const (
	// clientTimeout bounds one run of a client program.
	clientTimeout = 2 * time.Minute
	// defaultPartitions is what both targets give topics created without a
	// partition count.
	defaultPartitions = 3
	// pythonPath is where Debian's python3-confluent-kafka and python3-kafka
	// are importable.
	pythonPath = "/usr/bin/python3"
)

// target is a broker implementation the suite runs against.
type target struct {
	name  string
	start func(t *testing.T) *testutil.Process
}

var targets = []target{
	{name: "strait", start: startStrait},
	{name: "kfake", start: startKfake},
}

func startStrait(t *testing.T) *testutil.Process {
	t.Helper()
	bin := testutil.BuildBinary(t, "./cmd/strait")
	return testutil.StartProcess(t, bin, "serve",
		"--listeners", "PLAINTEXT://127.0.0.1:0",
		"--http.listeners", "http://127.0.0.1:0",
		"--log.dirs", t.TempDir(),
		"--num.partitions", fmt.Sprint(defaultPartitions),
		"--auto.create.topics.enable", "true",
	)
}

func startKfake(t *testing.T) *testutil.Process {
	t.Helper()
	bin := testutil.BuildBinary(t, "./test/kfakeserver")
	return testutil.StartProcess(t, bin,
		"-listen", "127.0.0.1:0",
		"-partitions", fmt.Sprint(defaultPartitions),
	)
}

// cluster is one started target.
type cluster struct {
	target string
	proc   *testutil.Process
	adm    *kadm.Client // for setup and checks, never the client under test
}

func (c *cluster) addr() string { return c.proc.Addr() }

// skipOnKfake skips the rest of a case against kfake only.
func (c *cluster) skipOnKfake(t *testing.T, why string) {
	t.Helper()
	if c.target == "kfake" {
		t.Skip("kfake: " + why)
	}
}

// forEachTarget runs body once per target, each as a subtest with a freshly
// started broker. needs names the client programs the test drives; a missing
// one fails the test rather than skipping it.
func forEachTarget(t *testing.T, needs []string, body func(t *testing.T, c *cluster)) {
	t.Helper()
	if testing.Short() {
		t.Skip("interop tests drive external clients; skipped with -short")
	}
	for _, prog := range needs {
		requireClient(t, prog)
	}
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			proc := tg.start(t)
			cl, err := kgo.NewClient(kgo.SeedBrokers(proc.Addr()))
			if err != nil {
				t.Fatalf("franz-go client: %v", err)
			}
			t.Cleanup(cl.Close)
			body(t, &cluster{target: tg.name, proc: proc, adm: kadm.NewClient(cl)})
		})
	}
}

// requireClient fails the test when a client program or module is missing.
func requireClient(t *testing.T, prog string) {
	t.Helper()
	const hint = "; run scripts/install-test-deps.sh (make test does)"
	switch prog {
	case "kcat", "node":
		if _, err := exec.LookPath(prog); err != nil {
			t.Fatalf("%s not found%s", prog, hint)
		}
	case "confluent_kafka", "kafka":
		if out, err := exec.Command(pythonPath, "-c", "import "+prog).CombinedOutput(); err != nil {
			t.Fatalf("%s cannot import %s: %v: %s%s", pythonPath, prog, err, out, hint)
		}
	case "kafkajs":
		if _, err := os.Stat(filepath.Join("js", "node_modules", "kafkajs", "package.json")); err != nil {
			t.Fatalf("kafkajs is not installed under test/interop/js%s", hint)
		}
	default:
		t.Fatalf("requireClient: unknown client %q", prog)
	}
}

// createTopic creates topic with the given partitions and configs through
// franz-go and waits until every partition has a leader.
func (c *cluster) createTopic(t *testing.T, topic string, partitions int32, configs map[string]*string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := c.adm.CreateTopic(ctx, partitions, 1, configs, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("creating topic %s: %v", topic, err)
	}
	c.waitForLeaders(t, topic, partitions)
}

func (c *cluster) waitForLeaders(t *testing.T, topic string, partitions int32) {
	t.Helper()
	testutil.WaitFor(t, 30*time.Second, func() (bool, string) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		topics, err := c.adm.ListTopics(ctx, topic)
		if err != nil {
			return false, err.Error()
		}
		td, ok := topics[topic]
		if !ok || td.Err != nil {
			return false, fmt.Sprintf("topic %s not listed yet (%v)", topic, td.Err)
		}
		if got := int32(len(td.Partitions)); got != partitions {
			return false, fmt.Sprintf("topic %s has %d partitions, want %d", topic, got, partitions)
		}
		for _, p := range td.Partitions {
			if p.Leader < 0 || p.Err != nil {
				return false, fmt.Sprintf("partition %s/%d has no leader (%v)", topic, p.Partition, p.Err)
			}
		}
		return true, ""
	})
}

// Header is one record header; Value is nil for a null header value.
type Header struct {
	Key   string `json:"key"`
	Value []byte `json:"value"`
}

// Record is a record as the client scripts exchange it. As input to a
// producer, Partition -1 lets the client choose and Timestamp 0 lets it stamp
// the record; Offset is ignored.
type Record struct {
	Partition int32    `json:"partition"`
	Offset    int64    `json:"offset"`
	Key       []byte   `json:"key"`
	Value     []byte   `json:"value"`
	Headers   []Header `json:"headers"`
	Timestamp int64    `json:"timestamp"`
}

// ack is a producer's report that record Index of its input was acknowledged.
type ack struct {
	Index     int   `json:"index"`
	Partition int32 `json:"partition"`
	Offset    int64 `json:"offset"`
}

// clientOutput is what a client program printed, split by event.
type clientOutput map[string][]json.RawMessage

// runClient runs a client program with stdin and returns its JSON-line
// output by event. It fails the test if the program fails or prints anything
// but JSON lines with an "event" on stdout.
func runClient(t *testing.T, stdin []byte, name string, args ...string) clientOutput {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	started := time.Now()
	err := cmd.Run()
	cmdline := name + " " + strings.Join(args, " ")
	if ctx.Err() != nil {
		t.Fatalf("%s: no exit within %v\nstderr:\n%s\nstdout:\n%s", cmdline, clientTimeout, stderr.Bytes(), stdout.Bytes())
	}
	if err != nil {
		t.Fatalf("%s: %v\nstderr:\n%s\nstdout:\n%s", cmdline, err, stderr.Bytes(), stdout.Bytes())
	}
	t.Logf("%s: ok in %v", cmdline, time.Since(started).Round(time.Millisecond))

	out := clientOutput{}
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var head struct {
			Event string `json:"event"`
		}
		if err := json.Unmarshal(line, &head); err != nil || head.Event == "" {
			t.Fatalf("%s printed a line that is not a JSON event: %q (%v)", cmdline, line, err)
		}
		out[head.Event] = append(out[head.Event], slices.Clone(line))
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: reading its output: %v", cmdline, err)
	}
	return out
}

// decodeEvents decodes every event of one kind.
func decodeEvents[T any](t *testing.T, out clientOutput, event string) []T {
	t.Helper()
	var vs []T
	for _, raw := range out[event] {
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatalf("decoding %s event %s: %v", event, raw, err)
		}
		vs = append(vs, v)
	}
	return vs
}

// encodeRecords is the JSON-lines input of a producer script.
func encodeRecords(t *testing.T, recs []Record) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, r := range recs {
		if err := enc.Encode(r); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// genOptions shapes the records genRecords makes.
type genOptions struct {
	partitions int32 // records alternate between explicit partitions and -1
	// uniqueHeaderKeys keeps header keys distinct within a record except for
	// adjacent duplicates, for clients that hold headers in a map.
	uniqueHeaderKeys bool
}

// genRecords makes n records with binary keys, values and headers of varied
// sizes, including null keys, a null value, an empty value, a large value and
// a duplicated header key. The same seed gives the same records.
func genRecords(n int, seed uint64, o genOptions) []Record {
	rng := rand.New(rand.NewPCG(seed, 0x5742a17))
	randBytes := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.UintN(256))
		}
		return b
	}
	// Recent, distinct, millisecond timestamps: old ones could fall to
	// time-based retention.
	base := time.Now().Add(-time.Hour).UnixMilli()
	recs := make([]Record, n)
	for i := range recs {
		r := Record{Partition: -1, Timestamp: base + int64(i)*7}
		if o.partitions > 0 && i%2 == 0 {
			r.Partition = int32(i/2) % o.partitions
		}
		if i%7 != 3 {
			r.Key = randBytes(1 + rng.IntN(32))
		}
		switch {
		case i == 4:
			r.Value = []byte{}
		case i == 5:
			r.Value = nil // a tombstone
		case i%17 == 9:
			r.Value = randBytes(32<<10 + rng.IntN(32<<10))
		default:
			r.Value = randBytes(rng.IntN(2000))
		}
		for h := range rng.IntN(4) {
			r.Headers = append(r.Headers, Header{Key: fmt.Sprintf("h%d-%d", h, i%5), Value: randBytes(rng.IntN(64))})
		}
		if i%11 == 1 {
			r.Headers = append(r.Headers, Header{Key: "dup", Value: []byte("first")}, Header{Key: "dup", Value: []byte("second")})
		}
		if i%13 == 6 {
			r.Headers = append(r.Headers, Header{Key: "empty", Value: []byte{}})
		}
		if !o.uniqueHeaderKeys && i%11 == 1 {
			// Duplicates apart from each other must keep their order.
			r.Headers = append(r.Headers, Header{Key: "dup", Value: []byte("third")})
		}
		recs[i] = r
	}
	return recs
}

// checkAcks checks that every record was acknowledged exactly once, in the
// partition it asked for, and that each partition's offsets run densely from
// zero, as they must in a fresh topic. It returns the records with their
// acknowledged partition and offset.
func checkAcks(t testing.TB, sent []Record, acks []ack) []Record {
	t.Helper()
	if len(acks) != len(sent) {
		t.Fatalf("%d acks for %d records", len(acks), len(sent))
	}
	acked := slices.Clone(sent)
	seen := make([]bool, len(sent))
	perPartition := map[int32][]int64{}
	for _, a := range acks {
		if a.Index < 0 || a.Index >= len(sent) || seen[a.Index] {
			t.Fatalf("ack %+v: index out of range or acknowledged twice", a)
		}
		seen[a.Index] = true
		if want := sent[a.Index].Partition; want >= 0 && a.Partition != want {
			t.Errorf("record %d was sent to partition %d but acknowledged in %d", a.Index, want, a.Partition)
		}
		acked[a.Index].Partition, acked[a.Index].Offset = a.Partition, a.Offset
		perPartition[a.Partition] = append(perPartition[a.Partition], a.Offset)
	}
	for p, offsets := range perPartition {
		slices.Sort(offsets)
		for i, o := range offsets {
			if o != int64(i) {
				t.Fatalf("partition %d: acknowledged offsets %v are not 0..%d", p, offsets, len(offsets)-1)
			}
		}
	}
	return acked
}

// checkReadBack checks that read holds exactly the acknowledged records, each
// at its acknowledged partition and offset, byte for byte. Timestamps are
// compared where the record was sent with one.
func checkReadBack(t testing.TB, acked, read []Record) {
	t.Helper()
	type pos struct {
		p int32
		o int64
	}
	got := map[pos]Record{}
	for _, r := range read {
		k := pos{r.Partition, r.Offset}
		if _, dup := got[k]; dup {
			t.Errorf("partition %d offset %d read twice", r.Partition, r.Offset)
		}
		got[k] = r
	}
	for i, want := range acked {
		k := pos{want.Partition, want.Offset}
		r, ok := got[k]
		if !ok {
			t.Errorf("record %d, acknowledged at partition %d offset %d, was not read back", i, want.Partition, want.Offset)
			continue
		}
		delete(got, k)
		if diff := diffRecord(want, r); diff != "" {
			t.Errorf("record %d at partition %d offset %d: %s", i, want.Partition, want.Offset, diff)
		}
	}
	for k := range got {
		t.Errorf("read a record at partition %d offset %d that was never acknowledged", k.p, k.o)
	}
}

// diffRecord describes how got differs from want, or returns "".
func diffRecord(want, got Record) string {
	var diffs []string
	if !sameBytes(want.Key, got.Key) {
		diffs = append(diffs, fmt.Sprintf("key %s, want %s", show(got.Key), show(want.Key)))
	}
	if !sameBytes(want.Value, got.Value) {
		diffs = append(diffs, fmt.Sprintf("value %s, want %s", show(got.Value), show(want.Value)))
	}
	if len(want.Headers) != len(got.Headers) {
		diffs = append(diffs, fmt.Sprintf("%d headers, want %d", len(got.Headers), len(want.Headers)))
	} else {
		for i := range want.Headers {
			w, g := want.Headers[i], got.Headers[i]
			if w.Key != g.Key || !sameBytes(w.Value, g.Value) {
				diffs = append(diffs, fmt.Sprintf("header %d is %q=%s, want %q=%s", i, g.Key, show(g.Value), w.Key, show(w.Value)))
			}
		}
	}
	if want.Timestamp != 0 && want.Timestamp != got.Timestamp {
		diffs = append(diffs, fmt.Sprintf("timestamp %d, want %d", got.Timestamp, want.Timestamp))
	}
	return strings.Join(diffs, "; ")
}

// sameBytes is bytes.Equal that also tells null from empty.
func sameBytes(a, b []byte) bool {
	return (a == nil) == (b == nil) && bytes.Equal(a, b)
}

func show(b []byte) string {
	switch {
	case b == nil:
		return "null"
	case len(b) > 24:
		return fmt.Sprintf("%d bytes %x...", len(b), b[:24])
	default:
		return fmt.Sprintf("%q", b)
	}
}

// readAll reads every record of topic from the start to the end offsets it
// has now, with franz-go, consuming partitions directly.
func (c *cluster) readAll(t *testing.T, topic string) []Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ends, err := c.adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		t.Fatalf("listing end offsets of %s: %v", topic, err)
	}
	want := map[int32]int64{}
	start := map[int32]kgo.Offset{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			want[o.Partition] = o.Offset
			start[o.Partition] = kgo.NewOffset().AtStart()
		}
	})
	if len(want) == 0 {
		return nil
	}
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(c.addr()),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: start}),
	)
	if err != nil {
		t.Fatalf("franz-go consumer: %v", err)
	}
	defer cl.Close()

	var out []Record
	for len(want) > 0 {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("reading %s: still waiting for partitions %v after %d records", topic, want, len(out))
		}
		fetches.EachError(func(topic string, p int32, err error) {
			t.Fatalf("reading %s/%d: %v", topic, p, err)
		})
		fetches.EachRecord(func(r *kgo.Record) {
			rec := Record{
				Partition: r.Partition,
				Offset:    r.Offset,
				Key:       r.Key,
				Value:     r.Value,
				Timestamp: r.Timestamp.UnixMilli(),
			}
			for _, h := range r.Headers {
				rec.Headers = append(rec.Headers, Header{Key: h.Key, Value: h.Value})
			}
			out = append(out, rec)
			if end, ok := want[r.Partition]; ok && r.Offset+1 >= end {
				delete(want, r.Partition)
			}
		})
	}
	return out
}
