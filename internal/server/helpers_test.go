package server

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-kafka/strait/internal/broker"
	"github.com/strait-kafka/strait/internal/config"
	"github.com/strait-kafka/strait/internal/metadata"
	"github.com/strait-kafka/strait/internal/partition"
)

func testLogger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// newTestBroker is a real broker over an in-memory metadata store.
func newTestBroker(t *testing.T, cfg *config.Broker) *broker.Broker {
	t.Helper()
	if cfg == nil {
		cfg = config.DefaultBroker()
	}
	lg := testLogger()
	mgr, err := partition.NewManager(partition.ManagerOptions{Dirs: []string{t.TempDir()}, Logger: lg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mgr.Close() })
	b, err := broker.New(broker.Options{Config: cfg, Meta: metadata.NewMemory(""), Partitions: mgr, Logger: lg})
	if err != nil {
		t.Fatal(err)
	}
	b.SetAdvertised("127.0.0.1", 9092)
	if err := b.Reconcile(); err != nil {
		t.Fatal(err)
	}
	return b
}

// testServer runs a Server until the test ends.
type testServer struct {
	srv  *Server
	addr string
	reg  *prometheus.Registry
	done chan error
}

// startServer serves o (a listener on 127.0.0.1 unless o has one; a real
// broker unless o has a handler) until the test ends, and checks that
// Serve then returns nil.
func startServer(t *testing.T, o Options) *testServer {
	t.Helper()
	if o.Listener == nil {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		o.Listener = ln
	}
	if o.Broker == nil {
		o.Broker = newTestBroker(t, nil)
	}
	if o.MaxRequestBytes == nil {
		o.MaxRequestBytes = func() int32 { return 100 << 20 }
	}
	if o.Logger == nil {
		o.Logger = testLogger()
	}
	ts := &testServer{reg: prometheus.NewRegistry(), done: make(chan error, 1)}
	if o.Metrics == nil {
		o.Metrics = NewMetrics(ts.reg)
	}
	o.Name = "PLAINTEXT"
	ts.srv = New(o)
	ts.addr = o.Listener.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	go func() { ts.done <- ts.srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-ts.done; err != nil {
			t.Errorf("Serve returned %v", err)
		}
	})
	return ts
}

// stopped reports whether Serve returned (it must not, while the test runs).
func (ts *testServer) stopped() (bool, error) {
	select {
	case err := <-ts.done:
		ts.done <- err
		return true, err
	default:
		return false, nil
	}
}

// dial opens a client connection that the test closes at its end.
func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// send writes req as one frame with correlation id corr.
func send(c net.Conn, req kmsg.Request, corr int32) error {
	_ = c.SetWriteDeadline(time.Now().Add(30 * time.Second))
	_, err := c.Write((&kmsg.RequestFormatter{}).AppendRequest(nil, req, corr))
	return err
}

// readResponse reads one response frame and decodes it as resp (at the
// request's version), checking the correlation id.
func readResponse(c net.Conn, resp kmsg.Response, corr int32, timeout time.Duration) error {
	_ = c.SetReadDeadline(time.Now().Add(timeout))
	var size [4]byte
	if _, err := io.ReadFull(c, size[:]); err != nil {
		return err
	}
	b := make([]byte, binary.BigEndian.Uint32(size[:]))
	if _, err := io.ReadFull(c, b); err != nil {
		return err
	}
	if got := int32(binary.BigEndian.Uint32(b)); got != corr {
		return errors.New("wrong correlation id")
	}
	b = b[4:]
	if resp.IsFlexible() && resp.Key() != 18 {
		if b, _ = skipTags(b); b == nil {
			return errors.New("bad response header tags")
		}
	}
	return resp.ReadFrom(b)
}

// apiVersions makes one ApiVersions round trip.
func apiVersions(c net.Conn, timeout time.Duration) error {
	req := kmsg.NewPtrApiVersionsRequest()
	req.Version = 0
	if err := send(c, req, 1); err != nil {
		return err
	}
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.Version = 0
	if err := readResponse(c, resp, 1, timeout); err != nil {
		return err
	}
	if resp.ErrorCode != 0 || len(resp.ApiKeys) == 0 {
		return errors.New("bad ApiVersions response")
	}
	return nil
}

// served dials addr and reports whether one ApiVersions round trip works.
func served(t *testing.T, addr string) (bool, string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return false, err.Error()
	}
	defer c.Close()
	if err := apiVersions(c, 10*time.Second); err != nil {
		return false, "ApiVersions: " + err.Error()
	}
	return true, ""
}

// expectClosedByPeer asserts the server closed c without answering.
func expectClosedByPeer(t *testing.T, c net.Conn) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	var b [1]byte
	_, err := c.Read(b[:])
	var ne net.Error
	switch {
	case err == nil:
		t.Fatal("connection answered, want it closed")
	case errors.As(err, &ne) && ne.Timeout():
		t.Fatal("connection not closed (read timed out)")
	}
}

func kmsgApiVersions() *kmsg.ApiVersionsRequest {
	req := kmsg.NewPtrApiVersionsRequest()
	req.Version = 0
	return req
}

func kmsgApiVersionsResponse() *kmsg.ApiVersionsResponse {
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.Version = 0
	return resp
}

// metricValue reads a counter or gauge from ts's registry; labels pick the
// series (name=value pairs).
func (ts *testServer) metricValue(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := ts.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, lp := range m.GetLabel() {
					if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
						found = true
					}
				}
				if !found {
					continue series
				}
			}
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return 0
}
