package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/strait-kafka/strait/internal/testutil"
)

// TestE2ELinkMetrics mirrors a topic and reads the destination's /metrics:
// the link's state, its mirror topics, the per-partition lag, the bytes and
// records mirrored (exactly what the mirror holds) and the source fetch
// latency histogram.
func TestE2ELinkMetrics(t *testing.T) {
	t.Parallel()
	const (
		link       = "metrics-link"
		topic      = "measured"
		partitions = 3
	)
	src := startLinkBroker(t, t.TempDir(), "127.0.0.1:0")
	dst := startLinkBroker(t, t.TempDir(), "127.0.0.1:0")
	createTopic(t, newAdmin(t, src.Addr()), topic, partitions)
	srcCl := linkClient(t, src.Addr())
	linkProduce(t, srcCl, topic, "first", 60)
	linkProduce(t, srcCl, topic, "second", 30)
	createLinkCLI(t, dst, link, src.Addr())
	createMirrorCLI(t, dst, link, topic)
	dstCl := linkClient(t, dst.Addr())
	checkMirror(t, srcCl, dstCl, topic, partitions)

	// What the mirror holds, to compare the counters with.
	ctx, cancel := context.WithTimeout(context.Background(), linkWait)
	defer cancel()
	var wantBytes, wantRecords int64
	for p := range int32(partitions) {
		rp, err := testutil.ReadRawPartition(ctx, dstCl, topic, p)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range rp.Batches {
			wantBytes += int64(len(b))
		}
		wantRecords += rp.HighWatermark - rp.StartOffset // no gaps: plain records only
	}
	if wantRecords != 90 {
		t.Fatalf("the mirror holds %d records, want the 90 produced", wantRecords)
	}

	linkLabel := map[string]string{"link": link}
	topicLabels := map[string]string{"link": link, "topic": topic}
	var m promMetrics
	// Gauges are computed when scraped from the lag last seen; wait until
	// every partition shows 0.
	testutil.WaitFor(t, linkWait, func() (bool, string) {
		var err error
		if m, err = scrapeMetrics("http://" + dst.HTTPAddr() + "/metrics"); err != nil {
			return false, err.Error()
		}
		for p := range partitions {
			lag, ok := m.get("strait_link_mirror_partition_lag", map[string]string{"link": link, "topic": topic, "partition": strconv.Itoa(p)})
			if !ok || lag != 0 {
				return false, fmt.Sprintf("strait_link_mirror_partition_lag of partition %d: %v (present %v), want 0", p, lag, ok)
			}
		}
		return true, ""
	})

	for _, c := range []struct {
		name   string
		labels map[string]string
		want   func(float64) bool
		what   string
	}{
		{"strait_link_state", map[string]string{"link": link, "state": "ACTIVE"}, func(v float64) bool { return v == 1 }, "1"},
		{"strait_link_mirror_topics", map[string]string{"link": link, "state": "ACTIVE"}, func(v float64) bool { return v == 1 }, "1"},
		{"strait_link_mirrored_bytes_total", topicLabels, func(v float64) bool { return v == float64(wantBytes) }, fmt.Sprintf("%d, the bytes of the mirror's batches", wantBytes)},
		{"strait_link_mirrored_records_total", topicLabels, func(v float64) bool { return v == float64(wantRecords) }, fmt.Sprintf("%d, the records of the mirror", wantRecords)},
		{"strait_link_source_fetch_latency_seconds_count", linkLabel, func(v float64) bool { return v > 0 }, "> 0"},
		{"strait_link_source_fetch_latency_seconds_sum", linkLabel, func(v float64) bool { return v > 0 }, "> 0"},
	} {
		v, ok := m.get(c.name, c.labels)
		if !ok {
			t.Errorf("/metrics has no %s%v", c.name, c.labels)
			continue
		}
		if !c.want(v) {
			t.Errorf("%s%v = %v, want %s", c.name, c.labels, v, c.what)
		}
	}
	for _, state := range []string{"PAUSED", "UNAVAILABLE", "FAILED"} {
		if v, ok := m.get("strait_link_state", map[string]string{"link": link, "state": state}); ok && v != 0 {
			t.Errorf("strait_link_state{state=%q} = %v while the link is ACTIVE", state, v)
		}
	}
}

// promSample is one sample of the Prometheus text format.
type promSample struct {
	name   string
	labels map[string]string
	value  float64
}

type promMetrics []promSample

// get returns the value of the sample named name whose labels include
// labels.
func (m promMetrics) get(name string, labels map[string]string) (float64, bool) {
	for _, s := range m {
		if s.name != name {
			continue
		}
		match := true
		for k, v := range labels {
			if s.labels[k] != v {
				match = false
				break
			}
		}
		if match {
			return s.value, true
		}
	}
	return 0, false
}

// scrapeMetrics GETs url and parses the Prometheus text exposition format
// (label values without escapes, which is all these tests read).
func scrapeMetrics(url string) (promMetrics, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return nil, fmt.Errorf("GET %s: %s: %s", url, resp.Status, b)
	}
	var m promMetrics
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		s := promSample{labels: map[string]string{}}
		rest := line
		if i := strings.IndexByte(line, '{'); i >= 0 {
			j := strings.IndexByte(line, '}')
			if j < i {
				return nil, fmt.Errorf("malformed metrics line %q", line)
			}
			s.name, rest = line[:i], strings.TrimSpace(line[j+1:])
			for _, pair := range strings.Split(line[i+1:j], ",") {
				if pair == "" {
					continue
				}
				k, v, ok := strings.Cut(pair, "=")
				if !ok || len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
					return nil, fmt.Errorf("malformed label %q in %q", pair, line)
				}
				s.labels[k] = v[1 : len(v)-1]
			}
		} else {
			s.name, rest, _ = strings.Cut(line, " ")
		}
		value, _, _ := strings.Cut(strings.TrimSpace(rest), " ") // a timestamp may follow
		if s.value, err = strconv.ParseFloat(value, 64); err != nil {
			return nil, fmt.Errorf("malformed value in %q: %v", line, err)
		}
		m = append(m, s)
	}
	return m, sc.Err()
}
