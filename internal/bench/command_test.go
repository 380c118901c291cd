package bench

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// runCommand executes `bench args...` and returns its standard output.
func runCommand(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := NewCommand()
	var stdout, stderr bytes.Buffer
	cmd.SetOut(&stdout)
	cmd.SetErr(&stderr)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(testContext(t))
	return stdout.String(), err
}

func TestBenchCommand(t *testing.T) {
	brokers := strings.Join(newCluster(t), ",")

	out, err := runCommand(t, "produce", "--bootstrap-server", brokers, "--topic", "cli",
		"--records", "500", "--record-size", "10", "--key-size", "4", "--partitions", "2", "-o", "json")
	if err != nil {
		t.Fatalf("produce: %v", err)
	}
	var pr ProduceReport
	if err := json.Unmarshal([]byte(out), &pr); err != nil {
		t.Fatalf("produce output is not a report: %v\n%s", err, out)
	}
	if pr.Kind != "produce" || pr.Acked != 500 || pr.Bytes != 500*14 || pr.Partitions != 2 ||
		pr.Linger != "default" || !pr.Idempotent || pr.Acks != AcksAll {
		t.Errorf("produce report: %+v", pr)
	}
	if pr.LatencyMs.Max <= 0 || pr.LatencyMs.P50 > pr.LatencyMs.P99 || pr.LatencyMs.P99 > pr.LatencyMs.Max {
		t.Errorf("produce latency: %+v", pr.LatencyMs)
	}

	// acks=1 turns the idempotent producer off unless it was asked for.
	out, err = runCommand(t, "produce", "--bootstrap-server", brokers, "--topic", "cli",
		"--records", "100", "--acks", "1", "--linger", "0s")
	if err != nil {
		t.Fatalf("produce with acks=1: %v", err)
	}
	for _, want := range []string{"100 acked", "idempotent=false", "linger=0s", "MiB/s", "p99.9"} {
		if !strings.Contains(out, want) {
			t.Errorf("text report lacks %q:\n%s", want, out)
		}
	}
	if _, err := runCommand(t, "produce", "--bootstrap-server", brokers, "--acks", "1", "--idempotent"); !errors.Is(err, ErrInvalidOption) {
		t.Errorf("--acks 1 --idempotent: %v, want ErrInvalidOption", err)
	}
	if _, err := runCommand(t, "produce", "--bootstrap-server", brokers, "-o", "yaml"); !errors.Is(err, ErrInvalidOption) {
		t.Errorf("-o yaml: %v, want ErrInvalidOption", err)
	}

	out, err = runCommand(t, "consume", "--bootstrap-server", brokers, "--topic", "cli", "-o", "json")
	if err != nil {
		t.Fatalf("consume: %v", err)
	}
	var cr ConsumeReport
	if err := json.Unmarshal([]byte(out), &cr); err != nil {
		t.Fatalf("consume output is not a report: %v\n%s", err, out)
	}
	if cr.Kind != "consume" || cr.Records != 600 || cr.Partitions != 2 || cr.Stopped != StopEnd || cr.FirstRecordMs <= 0 {
		t.Errorf("consume report: %+v", cr)
	}

	out, err = runCommand(t, "consume", "--bootstrap-server", brokers, "--topic", "cli", "--records", "50")
	if err != nil {
		t.Fatalf("consume text: %v", err)
	}
	for _, want := range []string{"50 read", "stopped by", "first record"} {
		if !strings.Contains(out, want) {
			t.Errorf("text report lacks %q:\n%s", want, out)
		}
	}
}
