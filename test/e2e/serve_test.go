package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-kafka/strait/internal/testutil"
)

// TestE2ETwoBrokersSideBySide: two `strait serve` processes with their own
// listeners and data directories, and no other settings, run at once.
func TestE2ETwoBrokersSideBySide(t *testing.T) {
	a := startStrait(t, t.TempDir())
	b := startStrait(t, t.TempDir())
	if a.ClusterID() == b.ClusterID() {
		t.Fatalf("both brokers report cluster %s", a.ClusterID())
	}
	createTopic(t, newAdmin(t, a.Addr()), "only-on-a", 1)
	topics, err := newAdmin(t, b.Addr()).ListTopics(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if topics.Has("only-on-a") {
		t.Fatal("a topic created on one broker appeared on the other")
	}
}

// TestE2EBadSettingsStopStartup: the binary refuses unknown and invalid
// settings with a one-line message naming the key and value, and exits
// non-zero without touching the data directory.
func TestE2EBadSettingsStopStartup(t *testing.T) {
	bin := testutil.BuildBinary(t, "./cmd/strait")
	dir := t.TempDir()
	props := filepath.Join(dir, "server.properties")
	if err := os.WriteFile(props, []byte("# copied from Kafka\nnum.network.threads=3\nlog.segmnt.bytes=100\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	cases := []struct {
		name string
		args []string
		env  []string
		want []string
	}{
		{"unknown key in file", []string{"--config", props}, nil, []string{`unknown setting "log.segmnt.bytes"`, "line 3"}},
		{"invalid flag value", []string{"--log.segment.bytes", "abc"}, nil, []string{"log.segment.bytes", `"abc"`}},
		{"invalid env value", nil, []string{"STRAIT_NUM_PARTITIONS=0"}, []string{"num.partitions", `"0"`, "STRAIT_NUM_PARTITIONS"}},
		{"bad listener", []string{"--listeners", "nonsense"}, nil, []string{"listeners", `"nonsense"`}},
		{"unknown flag", []string{"--log.dirz", "x"}, nil, []string{"log.dirz"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			args := append([]string{"serve", "--log.dirs", data, "--listeners", "PLAINTEXT://127.0.0.1:0", "--http.listeners", "http://127.0.0.1:0"}, c.args...)
			cmd := exec.CommandContext(ctx, bin, args...)
			cmd.Env = append(os.Environ(), c.env...)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("started despite bad settings:\n%s", out)
			}
			msg := strings.TrimSpace(string(out))
			if strings.Count(msg, "\n") != 0 {
				t.Errorf("error is not one line:\n%s", msg)
			}
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not mention %s", msg, w)
				}
			}
			if _, err := os.Stat(data); err == nil {
				t.Errorf("data directory was created by a start-up that failed")
			}
		})
	}
}

// TestE2EConfigsPersist: topic configs and dynamic broker configs are kept
// in the metadata store across a restart of the binary.
func TestE2EConfigsPersist(t *testing.T) {
	p := startStrait(t, t.TempDir())
	adm := newAdmin(t, p.Addr())
	ctx := context.Background()
	createTopic(t, adm, "configured", 1)
	ret, seg := "3600000", "2097152"
	if _, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Name: "retention.ms", Value: &ret}}, "configured"); err != nil {
		t.Fatal(err)
	}
	if _, err := adm.AlterBrokerConfigs(ctx, []kadm.AlterConfig{{Name: "log.segment.bytes", Value: &seg}}); err != nil {
		t.Fatal(err)
	}
	p.Stop()
	p.Restart()
	adm = newAdmin(t, p.Addr())
	rcs, err := adm.DescribeTopicConfigs(ctx, "configured")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]kadm.Config{}
	for _, c := range rcs[0].Configs {
		got[c.Key] = c
	}
	if c := got["retention.ms"]; c.MaybeValue() != ret || c.Source != kmsg.ConfigSourceDynamicTopicConfig {
		t.Fatalf("retention.ms after restart: %q (%v)", c.MaybeValue(), c.Source)
	}
	if c := got["segment.bytes"]; c.MaybeValue() != seg || c.Source != kmsg.ConfigSourceDynamicDefaultBrokerConfig {
		t.Fatalf("segment.bytes after restart: %q (%v), want the dynamic broker default %s", c.MaybeValue(), c.Source, seg)
	}
}
