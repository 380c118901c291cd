package e2e

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-kafka/strait/internal/testutil"
)

// TestServeSurvivesDescriptorExhaustion is the regression test for
// "accept4: too many open files is fatal": the binary runs under a limit of
// 300 descriptors and is sent 400 connections. Accepts fail with EMFILE
// and back off; the excess waits in the listen backlog. The broker stays
// up, and once the connections close a new client produces and fetches.
func TestE2EServeSurvivesDescriptorExhaustion(t *testing.T) {
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		t.Fatal("prlimit (util-linux) is needed to run the broker under a descriptor limit")
	}
	bin := testutil.BuildBinary(t, "./cmd/strait")
	p := testutil.StartProcess(t, prlimit, "--nofile=300:300", bin, "serve",
		"--listeners", "PLAINTEXT://127.0.0.1:0",
		"--http.listeners", "http://127.0.0.1:0",
		"--log.dirs", t.TempDir(),
		"--auto.create.topics.enable", "false",
		"--offsets.topic.num.partitions", "1",
	)
	adm := newAdmin(t, p.Addr())
	createTopic(t, adm, "fd", 1)

	const flood = 400
	var conns []net.Conn
	for i := 0; i < flood; i++ {
		// Connections over the limit complete in the kernel's backlog, or
		// time out once it is full; both are the broker degrading.
		c, err := net.DialTimeout("tcp", p.Addr(), 2*time.Second)
		if err != nil {
			continue
		}
		conns = append(conns, c)
	}
	t.Logf("%d of %d connections opened", len(conns), flood)
	if len(conns) < 300 {
		t.Fatalf("only %d connections opened; the test needs more than the descriptor limit", len(conns))
	}
	// Hold them until the broker has run out of descriptors (it logs the
	// failed accept and backs off), then let them go.
	testutil.WaitFor(t, 2*time.Minute, func() (bool, string) {
		return strings.Contains(p.Log(), "accept failed; retrying after a backoff"), "no failed accept logged yet"
	})
	for _, c := range conns {
		c.Close()
	}

	// A new client is served once descriptors are free again.
	cl, err := kgo.NewClient(kgo.SeedBrokers(p.Addr()), kgo.DefaultProduceTopic("fd"),
		kgo.ConsumeTopics("fd"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte("after the flood")}).FirstErr(); err != nil {
		t.Fatalf("produce after the flood: %v", err)
	}
	var got []string
	for len(got) == 0 && ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	if len(got) != 1 || got[0] != "after the flood" {
		t.Fatalf("fetched %q, want the record produced after the flood", got)
	}

	errs := metric(t, p.HTTPAddr(), "strait_kafka_accept_errors_total")
	if errs < 1 {
		t.Errorf("strait_kafka_accept_errors_total = %v; the flood should have exhausted descriptors", errs)
	}
	t.Logf("accept errors during the flood: %v", errs)
	p.Stop() // a clean exit: the broker never stopped serving
}

// metric reads the sum of a metric's series from /metrics at httpAddr,
// retrying while the HTTP listener is still short of descriptors.
func metric(t *testing.T, httpAddr, name string) float64 {
	t.Helper()
	var total float64
	testutil.WaitFor(t, time.Minute, func() (bool, string) {
		resp, err := http.Get("http://" + httpAddr + "/metrics")
		if err != nil {
			return false, err.Error()
		}
		defer resp.Body.Close()
		total = 0
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			line := sc.Text()
			if !strings.HasPrefix(line, name) {
				continue
			}
			f := strings.Fields(line)
			v, err := strconv.ParseFloat(f[len(f)-1], 64)
			if err == nil {
				total += v
			}
		}
		return sc.Err() == nil, "reading /metrics"
	})
	return total
}
