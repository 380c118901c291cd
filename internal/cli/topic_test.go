package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/strait-kafka/strait/internal/testutil"
)

func TestCLITopicCommands(t *testing.T) {
	addr := startStrait(t)
	kafka := func(args ...string) []string { return append(args, "--bootstrap-server", addr) }
	mustRun := func(stdin string, args ...string) string {
		t.Helper()
		out, stderr, err := runCLI(t, nil, stdin, kafka(args...)...)
		if err != nil {
			t.Fatalf("strait %s: %v (stderr %q)", strings.Join(args, " "), err, stderr)
		}
		if stderr != "" {
			t.Fatalf("strait %s printed on stderr: %q", strings.Join(args, " "), stderr)
		}
		return out
	}

	if out := mustRun("", "topic", "create", "orders", "--partitions", "1", "--config", "retention.ms=3600000"); out != lines(`Created topic "orders".`) {
		t.Fatalf("create: %q", out)
	}
	if _, _, err := runCLI(t, nil, "", kafka("topic", "create", "orders")...); err == nil || !strings.Contains(err.Error(), "TOPIC_ALREADY_EXISTS") {
		t.Fatalf("create twice: %v", err)
	}
	if out := mustRun("", "topic", "list"); out != lines("Name    Internal  Replication Factor  Partition Count", "orders  false     1                   1") {
		t.Fatalf("list:\n%s", out)
	}
	if out := mustRun("", "topic", "list", "--include-internal"); !strings.Contains(out, "__consumer_offsets  true") {
		t.Fatalf("list with internal:\n%s", out)
	}

	// Produce prints nothing; consume prints exactly the values.
	if out := mustRun("a\nb\n\nlast without newline", "topic", "produce", "orders"); out != "" {
		t.Fatalf("produce printed %q", out)
	}
	if out := mustRun("", "topic", "consume", "orders", "--from-beginning", "--max-messages", "4"); out != "a\nb\n\nlast without newline\n" {
		t.Fatalf("consume: %q", out)
	}

	// Keys: a line without the separator fails alone and the command fails.
	out, stderr, err := runCLI(t, nil, "k1:v1\nno separator\nk2:v:2\r\n", kafka("topic", "produce", "orders", "--key-separator", ":")...)
	if err == nil || err.Error() != "1 of 3 records failed" || out != "" || stderr != "line 2: no key separator \":\"\n" {
		t.Fatalf("produce with keys: err %v, stdout %q, stderr %q", err, out, stderr)
	}
	out = mustRun("", "topic", "consume", "orders", "--from-beginning", "--max-messages", "6", "--print-key", "--key-separator", "=", "--print-offsets")
	want := lines("partition:0\toffset:0\tnull=a", "partition:0\toffset:1\tnull=b", "partition:0\toffset:2\tnull=",
		"partition:0\toffset:3\tnull=last without newline", "partition:0\toffset:4\tk1=v1", "partition:0\toffset:5\tk2=v:2")
	if out != want {
		t.Fatalf("consume with keys and offsets:\n%q\nwant\n%q", out, want)
	}
	out = mustRun("", "topic", "consume", "orders", "--from-beginning", "--max-messages", "5", "-o", "json")
	recs := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	var last consumedRecord
	if len(recs) != 5 || json.Unmarshal([]byte(recs[4]), &last) != nil || last.Offset != 4 || *last.Key != "k1" || *last.Value != "v1" || last.Timestamp == 0 {
		t.Fatalf("consume -o json:\n%s", out)
	}

	// Describe shows partitions, offsets and configs.
	out = mustRun("", "topic", "describe", "orders")
	for _, w := range []string{
		"Topic               orders\n",
		"Partitions          1\n",
		"Partition  Leader  Replicas  ISR  Log Start Offset  High Watermark\n0          1       1         1    0                 6\n",
		"retention.ms",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("describe lacks %q:\n%s", w, out)
		}
	}
	var d topicDescription
	if err := json.Unmarshal([]byte(mustRun("", "topic", "describe", "orders", "-o", "json")), &d); err != nil {
		t.Fatal(err)
	}
	var retention configDescription
	for _, c := range d.Configs {
		if c.Name == "retention.ms" {
			retention = c
		}
	}
	if d.TopicName != "orders" || d.PartitionsCount != 1 || len(d.Partitions) != 1 || d.Partitions[0].HighWatermark != 6 ||
		d.Partitions[0].Leader != 1 || retention.Value != "3600000" || retention.Source != "DYNAMIC_TOPIC_CONFIG" {
		t.Fatalf("describe -o json: %+v", d)
	}

	// Without --from-beginning the consumer starts at the end: it prints a
	// record produced after it started and none of the six before.
	type result struct {
		out string
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, _, err := runCLI(t, nil, "", kafka("topic", "consume", "orders", "--max-messages", "1")...)
		done <- result{out, err}
	}()
	var got result
	n := 0
	testutil.WaitFor(t, 30*time.Second, func() (bool, string) {
		n++
		mustRun(fmt.Sprintf("new-%d\n", n), "topic", "produce", "orders")
		select {
		case got = <-done:
			return true, ""
		case <-time.After(50 * time.Millisecond):
			return false, "the consumer printed nothing yet"
		}
	})
	if got.err != nil || !strings.HasPrefix(got.out, "new-") || strings.Count(got.out, "\n") != 1 {
		t.Fatalf("consume from the end: %q, %v", got.out, got.err)
	}

	// Cancelling (as Ctrl-C does) ends the consumer without an error.
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() {
		_, _, err := runCLI(t, ctx, "", kafka("topic", "consume", "orders")...)
		stopped <- err
	}()
	cancel()
	if err := <-stopped; err != nil {
		t.Fatalf("interrupted consume: %v", err)
	}

	if out := mustRun("", "topic", "delete", "orders"); out != lines(`Deleted topic "orders".`) {
		t.Fatalf("delete: %q", out)
	}
	for _, args := range [][]string{
		{"topic", "describe", "orders"},
		{"topic", "delete", "orders"},
		{"topic", "consume", "orders"},
		{"topic", "produce", "orders"},
	} {
		if _, _, err := runCLI(t, nil, "x\n", kafka(args...)...); err == nil || err.Error() != `topic "orders" does not exist` {
			t.Errorf("%v after delete: %v", args, err)
		}
	}
}
