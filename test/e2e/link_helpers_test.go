package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-kafka/strait/internal/testutil"
)

// Helpers of the cluster link tests (link_*_test.go). Every test starts its
// own source and destination brokers; links and mirrors are created with the
// strait CLI against the destination's REST API, as an operator would, and
// observed through REST, the CLI and Kafka clients.

const (
	// linkFastConfig makes links quick to react: every period at its floor
	// of 1000 ms and short fetch waits.
	linkFastConfig = "metadata.max.age.ms=1000,availability.check.ms=1000,topic.config.sync.ms=1000," +
		"replica.fetch.wait.max.ms=100,replica.fetch.backoff.ms=100"
	// linkWait bounds every wait for the link to do something.
	linkWait = 60 * time.Second
	// cliTimeout bounds one run of the strait CLI.
	cliTimeout = time.Minute
)

// startLinkBroker starts strait serve with its data in dataDir and its
// Kafka listener on listen: "127.0.0.1:0" for any port, or a fixed address
// (testutil.FreeAddr) for a broker that must keep its address across
// restarts, as a link's source must. extra are more serve flags.
func startLinkBroker(t *testing.T, dataDir, listen string, extra ...string) *testutil.Process {
	t.Helper()
	args := append([]string{"serve",
		"--listeners", "PLAINTEXT://" + listen,
		"--http.listeners", "http://127.0.0.1:0",
		"--log.dirs", dataDir,
		"--auto.create.topics.enable", "false",
	}, extra...)
	return testutil.StartProcess(t, testutil.BuildBinary(t, "./cmd/strait"), args...)
}

// linkCLI runs the strait CLI against broker p (its REST and Kafka
// addresses) and returns what it printed, failing the test unless it exits 0.
func linkCLI(t *testing.T, p *testutil.Process, args ...string) string {
	t.Helper()
	out, errOut, err := linkCLIResult(t, p, nil, args...)
	if err != nil {
		t.Fatalf("strait %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// linkCLIResult runs the strait CLI against broker p with stdin and returns
// what it printed and its exit error.
func linkCLIResult(t *testing.T, p *testutil.Process, stdin []byte, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	args = append(args, "--url", "http://"+p.HTTPAddr(), "--bootstrap-server", p.Addr())
	return testutil.RunCommand(t, cliTimeout, stdin, testutil.BuildBinary(t, "./cmd/strait"), args...)
}

// createLinkCLI creates link name on dst, mirroring from the cluster at
// srcAddr, with linkFastConfig and extra --config arguments.
func createLinkCLI(t *testing.T, dst *testutil.Process, name, srcAddr string, extra ...string) string {
	t.Helper()
	args := []string{"link", "create", name, "--source-bootstrap-server", srcAddr, "--config", linkFastConfig}
	for _, e := range extra {
		args = append(args, "--config", e)
	}
	out := linkCLI(t, dst, args...)
	if !strings.Contains(out, fmt.Sprintf("Created cluster link %q", name)) {
		t.Fatalf("strait link create printed %q", out)
	}
	return out
}

// createMirrorCLI creates the mirror topic of source topic topic, under the
// same name, on link.
func createMirrorCLI(t *testing.T, dst *testutil.Process, link, topic string) {
	t.Helper()
	out := linkCLI(t, dst, "mirror", "create", topic, "--link", link)
	if !strings.Contains(out, fmt.Sprintf("Created mirror topic %q", topic)) {
		t.Fatalf("strait mirror create printed %q", out)
	}
}

// linkRESTMirror is the part of a REST KafkaMirrorData the tests read.
type linkRESTMirror struct {
	LinkName                string  `json:"link_name"`
	MirrorTopicName         string  `json:"mirror_topic_name"`
	SourceTopicName         string  `json:"source_topic_name"`
	SourceTopicID           string  `json:"source_topic_id"`
	NumPartitions           int     `json:"num_partitions"`
	MirrorStatus            string  `json:"mirror_status"`
	MirrorTopicError        string  `json:"mirror_topic_error"`
	MirrorTopicErrorMessage *string `json:"mirror_topic_error_message"`
	MirrorLags              []struct {
		Partition             int32 `json:"partition"`
		Lag                   int64 `json:"lag"`
		LastSourceFetchOffset int64 `json:"last_source_fetch_offset"`
	} `json:"mirror_lags"`
}

func (m linkRESTMirror) String() string {
	msg := ""
	if m.MirrorTopicErrorMessage != nil {
		msg = " (" + *m.MirrorTopicErrorMessage + ")"
	}
	return fmt.Sprintf("mirror %s of link %s: %s, error %s%s, lags %+v", m.MirrorTopicName, m.LinkName, m.MirrorStatus, m.MirrorTopicError, msg, m.MirrorLags)
}

// linkRESTLink is the part of a REST KafkaLinkData the tests read.
type linkRESTLink struct {
	LinkName         string   `json:"link_name"`
	LinkState        string   `json:"link_state"`
	LinkError        string   `json:"link_error"`
	LinkErrorMessage *string  `json:"link_error_message"`
	TopicNames       []string `json:"topic_names"`
}

// linkREST GETs path below /kafka/v3/clusters/<p's cluster ID> from p's REST
// API and decodes the JSON answer into out.
func linkREST(p *testutil.Process, path string, out any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	u := "http://" + p.HTTPAddr() + "/kafka/v3/clusters/" + url.PathEscape(p.ClusterID()) + path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", u, resp.Status, body)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("GET %s: %v in %s", u, err, body)
	}
	return nil
}

func getRESTMirror(p *testutil.Process, link, topic string) (linkRESTMirror, error) {
	var m linkRESTMirror
	err := linkREST(p, "/links/"+url.PathEscape(link)+"/mirrors/"+url.PathEscape(topic), &m)
	return m, err
}

func getRESTLink(p *testutil.Process, link string) (linkRESTLink, error) {
	var l linkRESTLink
	err := linkREST(p, "/links/"+url.PathEscape(link), &l)
	return l, err
}

// waitMirrorStatus waits until the REST API reports the mirror in state
// want and returns it.
func waitMirrorStatus(t *testing.T, dst *testutil.Process, link, topic, want string) linkRESTMirror {
	t.Helper()
	return waitMirrorStatusWithin(t, linkWait, dst, link, topic, want)
}

// waitMirrorStatusWithin is waitMirrorStatus with its own bound.
func waitMirrorStatusWithin(t *testing.T, timeout time.Duration, dst *testutil.Process, link, topic, want string) linkRESTMirror {
	t.Helper()
	var m linkRESTMirror
	testutil.WaitFor(t, timeout, func() (bool, string) {
		var err error
		if m, err = getRESTMirror(dst, link, topic); err != nil {
			return false, err.Error()
		}
		return m.MirrorStatus == want, fmt.Sprintf("want %s; %v", want, m)
	})
	return m
}

// waitLinkState waits until the REST API reports the link in state want
// and returns it.
func waitLinkState(t *testing.T, dst *testutil.Process, link, want string) linkRESTLink {
	t.Helper()
	var l linkRESTLink
	testutil.WaitFor(t, linkWait, func() (bool, string) {
		var err error
		if l, err = getRESTLink(dst, link); err != nil {
			return false, err.Error()
		}
		return l.LinkState == want, fmt.Sprintf("link %s is %s (%s), want %s", link, l.LinkState, l.LinkError, want)
	})
	return l
}

// linkCLIMirrorRow is one row of `strait mirror describe -o json`.
type linkCLIMirrorRow struct {
	Partition    string `json:"partition"`
	MirrorStatus string `json:"mirror_status"`
	Error        string `json:"mirror_topic_error"`
}

// cliMirrorDescribe runs `strait mirror describe TOPIC --link LINK -o json`
// and returns its rows, one per partition.
func cliMirrorDescribe(t *testing.T, dst *testutil.Process, link, topic string) []linkCLIMirrorRow {
	t.Helper()
	out := linkCLI(t, dst, "mirror", "describe", topic, "--link", link, "-o", "json")
	var rows []linkCLIMirrorRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("strait mirror describe -o json printed %q: %v", out, err)
	}
	return rows
}

// checkCLIMirrorStatus checks that the CLI describes every one of the
// mirror's partitions in state want (and, if wantErr is not empty, with
// that error).
func checkCLIMirrorStatus(t *testing.T, dst *testutil.Process, link, topic string, partitions int, want, wantErr string) {
	t.Helper()
	rows := cliMirrorDescribe(t, dst, link, topic)
	if len(rows) != partitions {
		t.Fatalf("strait mirror describe: %d rows %+v, want %d", len(rows), rows, partitions)
	}
	for _, r := range rows {
		if r.MirrorStatus != want || (wantErr != "" && r.Error != wantErr) {
			t.Fatalf("strait mirror describe: partition %s is %s with error %q, want %s %q", r.Partition, r.MirrorStatus, r.Error, want, wantErr)
		}
	}
}

// linkClient returns a franz-go client for addr, closed when the test ends.
func linkClient(t *testing.T, addr string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr)}, opts...)...)
	if err != nil {
		t.Fatalf("franz-go client: %v", err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// checkMirror waits until the mirror on dst has caught up with the source
// topic (its end offsets equal the source's high watermarks) and runs the
// byte-for-byte oracle on every partition. src and dst are clients of the
// two clusters as they are now.
func checkMirror(t *testing.T, src, dst *kgo.Client, topic string, partitions int32) {
	t.Helper()
	testutil.WaitMirrorCaughtUp(t, linkWait, src, dst, topic, topic)
	batches, bytes := testutil.CheckMirrorTopic(t, src, dst, topic, topic, partitions)
	if batches == 0 {
		t.Fatalf("the oracle compared no batches of %s: nothing was mirrored", topic)
	}
	t.Logf("mirror %s equals its source: %d batches, %d bytes", topic, batches, bytes)
}

// sumEnds lists topic's end offsets and adds them up.
func sumEnds(cl *kgo.Client, topic string) (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return -1, err
	}
	var sum int64
	for _, ps := range ends {
		for _, o := range ps {
			sum += o.Offset
		}
	}
	return sum, nil
}

// waitTotalEnd waits until the sum of topic's end offsets on the cluster
// reached by cl is at least want.
func waitTotalEnd(t *testing.T, cl *kgo.Client, topic string, want int64, what string) {
	t.Helper()
	testutil.WaitFor(t, linkWait, func() (bool, string) {
		n, err := sumEnds(cl, topic)
		if err != nil {
			return false, fmt.Sprintf("%s: %v", what, err)
		}
		return n >= want, fmt.Sprintf("%s: %s holds %d records, want at least %d", what, topic, n, want)
	})
}

// streamer is a producer writing continuously to one topic from its own
// goroutine, in small acks=all batches that alternate between two idempotent
// franz-go clients (one uncompressed, one zstd), so that the topic holds
// batches of two producers and two codecs. While the cluster is down its
// batches wait and are retried; it counts what was acknowledged and what
// failed.
type streamer struct {
	clients []*kgo.Client
	halt    chan struct{} // closed by stop: finish the batch in flight, then return
	done    chan struct{} // closed when the goroutine has returned

	// mu guards the counts below.
	mu      sync.Mutex
	acked   int
	failed  int
	lastErr error
}

// startStreamer starts writing to topic at addr.
func startStreamer(t *testing.T, addr, topic string) *streamer {
	t.Helper()
	s := &streamer{halt: make(chan struct{}), done: make(chan struct{})}
	for _, codec := range []kgo.CompressionCodec{kgo.NoCompression(), kgo.ZstdCompression()} {
		cl, err := kgo.NewClient(
			kgo.SeedBrokers(addr),
			kgo.DefaultProduceTopic(topic),
			kgo.RequiredAcks(kgo.AllISRAcks()),
			kgo.ProducerBatchCompression(codec),
			kgo.ProducerLinger(0),
		)
		if err != nil {
			t.Fatalf("franz-go producer: %v", err)
		}
		s.clients = append(s.clients, cl)
	}
	// Cancelling ends a batch in flight; only the cleanup does, stop lets
	// it finish.
	ctx, cancel := context.WithCancel(context.Background())
	go s.run(ctx)
	t.Cleanup(func() {
		cancel()
		<-s.done
		for _, cl := range s.clients {
			cl.Close()
		}
	})
	return s
}

func (s *streamer) run(ctx context.Context) {
	defer close(s.done)
	rng := rand.New(rand.NewPCG(1, 2))
	// Pace the batches so that a test does not spend its time copying
	// megabytes: at most one batch of 8 records per 10 ms.
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for round := 0; ; round++ {
		select {
		case <-s.halt:
			return
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		recs := make([]*kgo.Record, 8)
		for i := range recs {
			value := make([]byte, rng.IntN(1500))
			for j := range value {
				value[j] = byte('a' + rng.IntN(8)) // compressible
			}
			recs[i] = &kgo.Record{
				Key:     fmt.Appendf(nil, "r%d-%d", round, i),
				Value:   value,
				Headers: []kgo.RecordHeader{{Key: "round", Value: fmt.Append(nil, round)}},
			}
		}
		results := s.clients[round%len(s.clients)].ProduceSync(ctx, recs...)
		s.mu.Lock()
		for _, r := range results {
			if r.Err != nil {
				s.failed++
				s.lastErr = r.Err
			} else {
				s.acked++
			}
		}
		s.mu.Unlock()
	}
}

// counts reports how many records were acknowledged and how many failed.
func (s *streamer) counts() (acked, failed int, lastErr error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.acked, s.failed, s.lastErr
}

// waitAcked waits until at least n records were acknowledged.
func (s *streamer) waitAcked(t *testing.T, n int, what string) {
	t.Helper()
	testutil.WaitFor(t, linkWait, func() (bool, string) {
		acked, failed, err := s.counts()
		return acked >= n, fmt.Sprintf("%s: %d records acknowledged, want %d (%d failed, last error %v)", what, acked, n, failed, err)
	})
}

// stop lets the batch in flight finish (the cluster must be up) and waits
// for the producer to return, so that nothing is written afterwards. The
// clients are closed when the test ends.
func (s *streamer) stop(t *testing.T) {
	t.Helper()
	close(s.halt)
	select {
	case <-s.done:
	case <-time.After(linkWait):
		t.Fatal("the producer did not finish its last batch")
	}
	acked, failed, err := s.counts()
	if acked == 0 {
		t.Fatalf("the producer had nothing acknowledged (%d failed, last error %v)", failed, err)
	}
	t.Logf("producer: %d records acknowledged, %d failed (last error %v)", acked, failed, err)
}
