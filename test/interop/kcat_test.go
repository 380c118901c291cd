package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// kcat lines are produced with -K: (key before the first colon) and the same
// headers on every record. kcat -P does not print where records landed, so
// the cases produce into fresh topics: records of one partition must come back
// as exactly the lines sent, in order, at offsets 0..N-1.

var kcatHeaders = []Header{{Key: "origin", Value: []byte("kcat")}, {Key: "attempt", Value: []byte("1")}}

// kcatLine is one record as kcat consumed it.
type kcatLine struct {
	Partition int32
	Offset    int64
	Key       *string
	Value     string
	Headers   []Header
	Timestamp int64
}

func TestInteropKcat(t *testing.T) {
	forEachTarget(t, []string{"kcat"}, func(t *testing.T, c *cluster) {
		t.Run("metadata", func(t *testing.T) {
			const topic = "kcat-metadata"
			c.createTopic(t, topic, 3, nil)
			var md struct {
				Brokers []struct {
					ID   int32  `json:"id"`
					Name string `json:"name"`
				} `json:"brokers"`
				Topics []struct {
					Topic      string `json:"topic"`
					Error      string `json:"error"`
					Partitions []struct {
						Partition int32  `json:"partition"`
						Leader    int32  `json:"leader"`
						Error     string `json:"error"`
					} `json:"partitions"`
				} `json:"topics"`
			}
			out := kcat(t, nil, "-b", c.addr(), "-L", "-J", "-t", topic)
			if err := json.Unmarshal(out, &md); err != nil {
				t.Fatalf("kcat -L -J printed %s: %v", out, err)
			}
			if len(md.Brokers) != 1 || md.Brokers[0].Name != c.addr() {
				t.Fatalf("brokers %+v, want one at %s", md.Brokers, c.addr())
			}
			if len(md.Topics) != 1 || md.Topics[0].Topic != topic || md.Topics[0].Error != "" {
				t.Fatalf("topics %+v, want only %s without error", md.Topics, topic)
			}
			var parts []int32
			for _, p := range md.Topics[0].Partitions {
				if p.Leader != md.Brokers[0].ID || p.Error != "" {
					t.Errorf("partition %d: leader %d error %q, want leader %d", p.Partition, p.Leader, p.Error, md.Brokers[0].ID)
				}
				parts = append(parts, p.Partition)
			}
			slices.Sort(parts)
			if !slices.Equal(parts, []int32{0, 1, 2}) {
				t.Errorf("partitions %v, want [0 1 2]", parts)
			}
		})

		t.Run("produce acks=all and consume -J", func(t *testing.T) {
			const topic = "kcat-json"
			c.createTopic(t, topic, 1, nil)
			keys, values := kcatRecords(60, 300)
			window := kcatProduce(t, c, topic, keys, values, "-p", "0", "-X", "acks=all")
			got := kcatConsumeJSON(t, c, topic)
			checkKcatPartition(t, got, 0, keys, values, window)
		})

		for _, codec := range []string{"gzip", "snappy", "lz4", "zstd"} {
			t.Run("compression "+codec, func(t *testing.T) {
				topic := "kcat-" + codec
				c.createTopic(t, topic, 1, nil)
				// Repetitive values, so that batches really shrink.
				keys, values := kcatRecords(200, 2000)
				window := kcatProduce(t, c, topic, keys, values, "-p", "0", "-X", "acks=all", "-z", codec)
				got := kcatConsumeFormat(t, c, topic)
				checkKcatPartition(t, got, 0, keys, values, window)
			})
		}

		t.Run("keyed records across partitions", func(t *testing.T) {
			const topic = "kcat-keyed"
			c.createTopic(t, topic, 3, nil)
			keys, values := kcatRecords(150, 100)
			for i := range keys {
				keys[i] = fmt.Sprintf("key-%d", i%10) // ten keys, fifteen records each
			}
			kcatProduce(t, c, topic, keys, values, "-X", "acks=all")
			got := kcatConsumeJSON(t, c, topic)
			checkKcatKeyed(t, got, keys, values)
		})
	})
}

// kcatRecords makes n key/value lines; values are about size bytes of text
// that compresses well and contains no newline.
func kcatRecords(n, size int) (keys, values []string) {
	for i := range n {
		keys = append(keys, fmt.Sprintf("k%04d", i))
		unit := fmt.Sprintf("strait-%d-", i)
		values = append(values, strings.Repeat(unit, max(1, size/len(unit))))
	}
	return keys, values
}

// window is the wall-clock span in which records were produced, in Unix
// milliseconds.
type window struct{ from, to int64 }

func kcatProduce(t *testing.T, c *cluster, topic string, keys, values []string, extra ...string) window {
	t.Helper()
	var in bytes.Buffer
	for i := range keys {
		fmt.Fprintf(&in, "%s:%s\n", keys[i], values[i])
	}
	args := []string{"-b", c.addr(), "-P", "-t", topic, "-K:"}
	for _, h := range kcatHeaders {
		args = append(args, "-H", h.Key+"="+string(h.Value))
	}
	args = append(args, extra...)
	from := time.Now().UnixMilli()
	kcat(t, in.Bytes(), args...)
	return window{from: from, to: time.Now().UnixMilli()}
}

// kcatConsumeJSON reads every partition from the beginning to its end with -J.
func kcatConsumeJSON(t *testing.T, c *cluster, topic string) []kcatLine {
	t.Helper()
	out := kcat(t, nil, "-b", c.addr(), "-C", "-t", topic, "-o", "beginning", "-e", "-J")
	var lines []kcatLine
	for _, raw := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
		var m struct {
			Partition int32    `json:"partition"`
			Offset    int64    `json:"offset"`
			TSType    string   `json:"tstype"`
			TS        int64    `json:"ts"`
			Headers   []string `json:"headers"`
			Key       *string  `json:"key"`
			Payload   *string  `json:"payload"`
		}
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("kcat -C -J line %q: %v", raw, err)
		}
		if m.TSType != "create" {
			t.Errorf("partition %d offset %d: timestamp type %q, want create", m.Partition, m.Offset, m.TSType)
		}
		if m.Payload == nil {
			t.Fatalf("partition %d offset %d: null payload", m.Partition, m.Offset)
		}
		if len(m.Headers)%2 != 0 {
			t.Fatalf("partition %d offset %d: odd header list %q", m.Partition, m.Offset, m.Headers)
		}
		l := kcatLine{Partition: m.Partition, Offset: m.Offset, Key: m.Key, Value: *m.Payload, Timestamp: m.TS}
		for i := 0; i < len(m.Headers); i += 2 {
			l.Headers = append(l.Headers, Header{Key: m.Headers[i], Value: []byte(m.Headers[i+1])})
		}
		lines = append(lines, l)
	}
	return lines
}

// kcatConsumeFormat reads every partition with a -f format string.
func kcatConsumeFormat(t *testing.T, c *cluster, topic string) []kcatLine {
	t.Helper()
	out := kcat(t, nil, "-b", c.addr(), "-C", "-t", topic, "-o", "beginning", "-e",
		"-f", `%p|%o|%T|%k|%h|%s\n`)
	var lines []kcatLine
	for _, raw := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
		f := strings.SplitN(raw, "|", 6)
		if len(f) != 6 {
			t.Fatalf("kcat -f line %q: want 6 fields", raw)
		}
		p, err1 := strconv.ParseInt(f[0], 10, 32)
		o, err2 := strconv.ParseInt(f[1], 10, 64)
		ts, err3 := strconv.ParseInt(f[2], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil {
			t.Fatalf("kcat -f line %q: bad partition, offset or timestamp", raw)
		}
		l := kcatLine{Partition: int32(p), Offset: o, Key: &f[3], Value: f[5], Timestamp: ts}
		for _, kv := range strings.Split(f[4], ",") {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				t.Fatalf("kcat -f line %q: bad header %q", raw, kv)
			}
			l.Headers = append(l.Headers, Header{Key: k, Value: []byte(v)})
		}
		lines = append(lines, l)
	}
	return lines
}

// checkKcatPartition checks that got is exactly the sent lines, in order, at
// offsets 0..N-1 of partition p, stamped within w.
func checkKcatPartition(t *testing.T, got []kcatLine, p int32, keys, values []string, w window) {
	t.Helper()
	if len(got) != len(keys) {
		t.Fatalf("read %d records, want %d", len(got), len(keys))
	}
	for i, l := range got {
		if l.Partition != p || l.Offset != int64(i) {
			t.Fatalf("record %d read at partition %d offset %d, want %d/%d", i, l.Partition, l.Offset, p, i)
		}
		checkKcatRecord(t, l, keys[i], values[i])
		// One second of slack for clock granularity at the edges.
		if l.Timestamp < w.from-1000 || l.Timestamp > w.to+1000 {
			t.Errorf("offset %d: timestamp %d outside the produce window [%d, %d]", l.Offset, l.Timestamp, w.from, w.to)
		}
	}
}

func checkKcatRecord(t *testing.T, l kcatLine, key, value string) {
	t.Helper()
	if l.Key == nil || *l.Key != key || l.Value != value {
		k := "null"
		if l.Key != nil {
			k = strconv.Quote(*l.Key)
		}
		t.Errorf("partition %d offset %d: key %s value %.40q..., want %q %.40q...", l.Partition, l.Offset, k, l.Value, key, value)
	}
	if d := diffRecord(Record{Headers: kcatHeaders}, Record{Headers: l.Headers}); d != "" {
		t.Errorf("partition %d offset %d: %s", l.Partition, l.Offset, d)
	}
}

// checkKcatKeyed checks records produced with the default partitioner: all
// came back once, each partition densely from 0, every key in one partition
// and in the order sent.
func checkKcatKeyed(t *testing.T, got []kcatLine, keys, values []string) {
	t.Helper()
	if len(got) != len(keys) {
		t.Fatalf("read %d records, want %d", len(got), len(keys))
	}
	next := map[int32]int64{}
	partitionOf := map[string]int32{}
	byKey := map[string][]string{} // values read, per key, in offset order
	for _, l := range got {
		if l.Offset != next[l.Partition] {
			t.Fatalf("partition %d: offset %d follows %d", l.Partition, l.Offset, next[l.Partition]-1)
		}
		next[l.Partition]++
		if l.Key == nil {
			t.Fatalf("partition %d offset %d: null key", l.Partition, l.Offset)
		}
		if p, ok := partitionOf[*l.Key]; ok && p != l.Partition {
			t.Errorf("key %s in partitions %d and %d", *l.Key, p, l.Partition)
		}
		partitionOf[*l.Key] = l.Partition
		byKey[*l.Key] = append(byKey[*l.Key], l.Value)
		checkKcatRecord(t, l, *l.Key, l.Value) // headers
	}
	want := map[string][]string{}
	for i := range keys {
		want[keys[i]] = append(want[keys[i]], values[i])
	}
	for k, vs := range want {
		if !slices.Equal(byKey[k], vs) {
			t.Errorf("key %s: read %d values %.60q, want %d in the order sent", k, len(byKey[k]), byKey[k], len(vs))
		}
	}
	if len(next) < 2 {
		t.Errorf("ten keys all landed in partition(s) %v; the partitioner spread nothing", next)
	}
}

// kcat runs kcat and returns its stdout, failing the test if it fails or
// reports a failed delivery.
func kcat(t *testing.T, stdin []byte, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "kcat", args...)
	cmd.Stdin = bytes.NewReader(stdin)
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	cmdline := "kcat " + strings.Join(args, " ")
	switch {
	case ctx.Err() != nil:
		t.Fatalf("%s: no exit within %v\nstderr:\n%s", cmdline, clientTimeout, stderr.Bytes())
	case err != nil:
		t.Fatalf("%s: %v\nstderr:\n%s", cmdline, err, stderr.Bytes())
	case strings.Contains(stderr.String(), "Delivery failed"):
		t.Fatalf("%s reported failed deliveries:\n%s", cmdline, stderr.Bytes())
	}
	return stdout.Bytes()
}
