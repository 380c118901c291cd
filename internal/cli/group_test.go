package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-kafka/strait/internal/app"
	"github.com/strait-kafka/strait/internal/config"
	"github.com/strait-kafka/strait/internal/metadata"
	"github.com/strait-kafka/strait/internal/testutil"
)

// startBroker runs an in-process broker with in-memory metadata.
func startBroker(t *testing.T) string {
	t.Helper()
	cfg, _, err := config.Load(config.LoadOptions{Flags: map[string]string{
		"listeners":                        "PLAINTEXT://127.0.0.1:0",
		"http.listeners":                   "http://127.0.0.1:0",
		"log.dirs":                         t.TempDir(),
		"offsets.topic.num.partitions":     "3",
		"group.initial.rebalance.delay.ms": "0",
		"group.min.session.timeout.ms":     "1000",
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.Start(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), app.Options{Meta: metadata.NewMemory("")})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("broker: %v", err)
		}
	})
	return a.KafkaAddrs[0]
}

// strait runs one client command and returns its stdout, stderr and error.
func strait(t *testing.T, addr string, args ...string) (string, string, error) {
	t.Helper()
	root := &cobra.Command{Use: "strait", SilenceUsage: true, SilenceErrors: true}
	root.AddCommand(Commands()...)
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(append(args, "--bootstrap-server", addr, "--timeout", "20s"))
	err := root.Execute()
	return out.String(), errOut.String(), err
}

func mustStrait(t *testing.T, addr string, args ...string) string {
	t.Helper()
	out, errOut, err := strait(t, addr, args...)
	if err != nil {
		t.Fatalf("strait %s: %v\n%s", strings.Join(args, " "), err, errOut)
	}
	return out
}

func TestCLIGroupCommands(t *testing.T) {
	addr := startBroker(t)
	const topic, group = "cli-orders", "cli-group"
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := adm.CreateTopic(ctx, 3, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	// Ten records per partition, one second apart in time.
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	var recs []*kgo.Record
	for p := range int32(3) {
		for i := range 10 {
			recs = append(recs, &kgo.Record{Partition: p, Value: []byte(fmt.Sprint(i)), Timestamp: base.Add(time.Duration(i) * time.Second)})
		}
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	// A live member consumes everything and commits.
	consumer, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit(), kgo.ClientID("cli-test"))
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n < 30; {
		fs := consumer.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of 30 records", n)
		}
		n += fs.NumRecords()
	}
	if err := consumer.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatal(err)
	}

	var listed []map[string]string
	if err := json.Unmarshal([]byte(mustStrait(t, addr, "group", "list", "-o", "json")), &listed); err != nil {
		t.Fatal(err)
	}
	if len(listed) != 1 || listed[0]["group"] != group || listed[0]["state"] != "Stable" || listed[0]["protocol_type"] != "consumer" {
		t.Fatalf("group list: %v", listed)
	}
	if out := mustStrait(t, addr, "group", "list", "--state", "Empty"); strings.Contains(out, group) {
		t.Fatalf("list --state Empty shows the stable group:\n%s", out)
	}

	table := mustStrait(t, addr, "group", "describe", group)
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "GROUP") || !strings.Contains(lines[0], "LOG-END-OFFSET") {
		t.Fatalf("describe table:\n%s", table)
	}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) != 9 || f[3] != "10" || f[4] != "10" || f[5] != "0" || f[8] != "cli-test" || !strings.HasPrefix(f[7], "/127.0.0.1") {
			t.Fatalf("describe row %q", l)
		}
	}

	// Offsets cannot be reset while a member is live.
	_, _, err = strait(t, addr, "group", "reset-offsets", group, "--topic", topic, "--to-earliest")
	if err == nil || !strings.Contains(err.Error(), "Stable") {
		t.Fatalf("reset with a live member: %v", err)
	}
	// Nor deleted.
	if _, _, err := strait(t, addr, "group", "delete", group); err == nil || !strings.Contains(err.Error(), "NON_EMPTY_GROUP") {
		t.Fatalf("delete of a live group: %v", err)
	}

	consumer.Close() // leaves the group
	testutil.WaitFor(t, 30*time.Second, func() (bool, string) {
		d, err := adm.DescribeGroups(ctx, group)
		if err != nil {
			return false, err.Error()
		}
		return d[group].State == "Empty", "group is " + d[group].State
	})

	committed := func() map[int32]int64 {
		t.Helper()
		o, err := adm.FetchOffsets(ctx, group)
		if err != nil {
			t.Fatal(err)
		}
		out := map[int32]int64{}
		o.Each(func(r kadm.OffsetResponse) { out[r.Partition] = r.At })
		return out
	}
	out := mustStrait(t, addr, "group", "reset-offsets", group, "--topic", topic, "--to-earliest", "--dry-run")
	if strings.Count(out, "\n") != 4 || !strings.Contains(out, "NEW-OFFSET") {
		t.Fatalf("dry run output:\n%s", out)
	}
	if got := committed(); got[0] != 10 || got[1] != 10 || got[2] != 10 {
		t.Fatalf("a dry run changed the offsets: %v", got)
	}
	cases := []struct {
		args []string
		want map[int32]int64
	}{
		{[]string{"--topic", topic, "--to-earliest"}, map[int32]int64{0: 0, 1: 0, 2: 0}},
		{[]string{"--topic", topic + ":1,2", "--to-offset", "4"}, map[int32]int64{0: 0, 1: 4, 2: 4}},
		{[]string{"--topic", topic + ":2", "--to-offset", "99"}, map[int32]int64{0: 0, 1: 4, 2: 10}}, // clamped
		{[]string{"--all-topics", "--to-latest"}, map[int32]int64{0: 10, 1: 10, 2: 10}},
		{[]string{"--topic", topic, "--to-datetime", base.Add(3 * time.Second).UTC().Format(time.RFC3339)}, map[int32]int64{0: 3, 1: 3, 2: 3}},
	}
	for _, c := range cases {
		out := mustStrait(t, addr, append([]string{"group", "reset-offsets", group, "-o", "json"}, c.args...)...)
		var rows []resetRow
		if err := json.Unmarshal([]byte(out), &rows); err != nil {
			t.Fatalf("%v: %v\n%s", c.args, err, out)
		}
		got := committed()
		for p, want := range c.want {
			if got[p] != want {
				t.Fatalf("%v: committed %v, want %v", c.args, got, c.want)
			}
		}
		for _, r := range rows {
			if r.Group != group || r.Topic != topic || r.NewOffset != c.want[r.Partition] {
				t.Fatalf("%v: printed %+v, want %v", c.args, rows, c.want)
			}
		}
	}

	var d describedGroup
	if err := json.Unmarshal([]byte(mustStrait(t, addr, "group", "describe", group, "-o", "json")), &d); err != nil {
		t.Fatal(err)
	}
	if d.State != "Empty" || len(d.Offsets) != 3 || *d.Offsets[0].Lag != 7 || len(d.Members) != 0 {
		t.Fatalf("describe -o json: %+v", d)
	}
	if _, _, err := strait(t, addr, "group", "reset-offsets", group, "--topic", topic); err == nil {
		t.Fatal("reset without a target accepted")
	}

	if out := mustStrait(t, addr, "group", "delete", group); !strings.Contains(out, "deleted") {
		t.Fatalf("delete output:\n%s", out)
	}
	if _, _, err := strait(t, addr, "group", "describe", group); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("describe of a deleted group: %v", err)
	}
	if _, _, err := strait(t, addr, "group", "delete", group); err == nil || !strings.Contains(err.Error(), "GROUP_ID_NOT_FOUND") {
		t.Fatalf("second delete: %v", err)
	}
}
