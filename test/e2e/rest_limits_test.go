package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestE2ERESTOversizedBodyGets413: a client that writes a whole 100 MB body
// to a REST endpoint before it reads anything reads a 413 with the JSON
// error body (it used to get a connection reset), the broker discards the
// body without holding it, and it still answers /healthz.
func TestE2ERESTOversizedBodyGets413(t *testing.T) {
	p := startStrait(t, t.TempDir())
	metricsURL := "http://" + p.HTTPAddr() + "/metrics"
	before := scrapeOne(t, metricsURL, "go_memstats_alloc_bytes_total")

	const bodySize = 100 << 20
	conn, err := net.Dial("tcp", p.HTTPAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// A guard against a broker that stops reading: the test then fails
	// instead of hanging. It is not a bound on how fast the broker is.
	if err := conn.SetDeadline(time.Now().Add(5 * time.Minute)); err != nil {
		t.Fatal(err)
	}
	path := "/kafka/v3/clusters/" + p.ClusterID() + "/topics"
	if _, err := fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n",
		path, p.HTTPAddr(), bodySize); err != nil {
		t.Fatal(err)
	}
	chunk := bytes.Repeat([]byte(" "), 1<<20)
	for sent := 0; sent < bodySize; sent += len(chunk) {
		if _, err := conn.Write(chunk); err != nil {
			t.Fatalf("writing the body failed after %d of %d bytes: %v", sent, bodySize, err)
		}
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the answer after sending the whole body: %v", err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the answer's body: %v", err)
	}
	var e struct {
		ErrorCode int    `json:"error_code"`
		Message   string `json:"message"`
	}
	if resp.StatusCode != http.StatusRequestEntityTooLarge || json.Unmarshal(b, &e) != nil ||
		e.ErrorCode != http.StatusRequestEntityTooLarge || !strings.Contains(e.Message, "1048576") {
		t.Fatalf("answer %s %q, want 413 with error_code 413 and a message naming the limit", resp.Status, b)
	}

	after := scrapeOne(t, metricsURL, "go_memstats_alloc_bytes_total")
	rss := scrapeOne(t, metricsURL, "process_resident_memory_bytes")
	t.Logf("discarding the %d MB body allocated %.1f MB in the broker; its RSS is %.0f MB", bodySize>>20, (after-before)/(1<<20), rss/(1<<20))
	if after-before > 32<<20 {
		t.Errorf("the broker allocated %.0f MB while discarding a %d MB body: it held the body", (after-before)/(1<<20), bodySize>>20)
	}

	resp, err = http.Get("http://" + p.HTTPAddr() + "/healthz")
	if err != nil {
		t.Fatalf("/healthz after the oversized body: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz after the oversized body: %s", resp.Status)
	}
}

// scrapeOne reads one unlabelled sample from the metrics at url.
func scrapeOne(t *testing.T, url, name string) float64 {
	t.Helper()
	m, err := scrapeMetrics(url)
	if err != nil {
		t.Fatal(err)
	}
	v, ok := m.get(name, nil)
	if !ok {
		t.Fatalf("%s: no sample %s", url, name)
	}
	return v
}
