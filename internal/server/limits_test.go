package server

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/strait-kafka/strait/internal/testutil"
)

// flakyListener fails its first failures Accepts with err, recording when
// each Accept was called, then accepts from the real listener.
type flakyListener struct {
	net.Listener
	err error

	mu       sync.Mutex
	failures int
	calls    []time.Time
	accepted int
}

func (l *flakyListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	l.calls = append(l.calls, time.Now())
	if l.failures > 0 {
		l.failures--
		l.mu.Unlock()
		return nil, l.err
	}
	l.mu.Unlock()
	c, err := l.Listener.Accept()
	if err == nil {
		l.mu.Lock()
		l.accepted++
		l.mu.Unlock()
	}
	return c, err
}

func (l *flakyListener) snapshot() (calls []time.Time, accepted int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]time.Time(nil), l.calls...), l.accepted
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// TestServerAcceptEMFILEBacksOff is the regression test for "accept4: too
// many open files is fatal": Serve returned on the first failed Accept and
// the app stopped the broker. Now each failure waits (5 ms, doubling) and
// the server goes on serving.
func TestServerAcceptEMFILEBacksOff(t *testing.T) {
	for name, errno := range map[string]syscall.Errno{
		"EMFILE": syscall.EMFILE, "ENFILE": syscall.ENFILE, "ENOBUFS": syscall.ENOBUFS,
		"ENOMEM": syscall.ENOMEM, "ECONNABORTED": syscall.ECONNABORTED,
	} {
		t.Run(name, func(t *testing.T) {
			const failures = 5
			ln := &flakyListener{Listener: listen(t), failures: failures,
				err: &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", errno)}}
			ts := startServer(t, Options{Listener: ln})
			testutil.WaitFor(t, 30*time.Second, func() (bool, string) { return served(t, ts.addr) })
			if stopped, err := ts.stopped(); stopped {
				t.Fatalf("Serve returned %v after accept errors", err)
			}
			calls, _ := ln.snapshot()
			if len(calls) < failures+1 {
				t.Fatalf("%d Accept calls, want at least %d", len(calls), failures+1)
			}
			want := acceptBackoffMin
			for i := 1; i <= failures; i++ {
				if gap := calls[i].Sub(calls[i-1]); gap < want {
					t.Errorf("retry %d came after %v, want at least %v", i, gap, want)
				}
				want = min(2*want, acceptBackoffMax)
			}
			if got := ts.metricValue(t, "strait_kafka_accept_errors_total", "listener", "PLAINTEXT"); got != failures {
				t.Errorf("strait_kafka_accept_errors_total = %v, want %d", got, failures)
			}
		})
	}
}

// TestServerAcceptBackoffCapped: the backoff doubles up to one second and
// resets after a successful accept.
func TestServerAcceptBackoffCapped(t *testing.T) {
	d := time.Duration(0)
	var seq []time.Duration
	for range 10 {
		d = min(max(2*d, acceptBackoffMin), acceptBackoffMax)
		seq = append(seq, d)
	}
	if seq[0] != 5*time.Millisecond || seq[1] != 10*time.Millisecond || seq[len(seq)-1] != time.Second {
		t.Fatalf("backoff sequence %v", seq)
	}
}

// TestServerClosedListenerEndsServe: a listener closed by someone else
// than the context is the one accept error Serve returns.
func TestServerClosedListenerEndsServe(t *testing.T) {
	ln := listen(t)
	s := New(Options{Listener: ln, Broker: newTestBroker(t, nil), Logger: testLogger(),
		MaxRequestBytes: func() int32 { return 1 << 20 }})
	done := make(chan error, 1)
	go func() { done <- s.Serve(context.Background()) }()
	ln.Close()
	if err := <-done; err == nil || !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Serve after the listener closed = %v, want net.ErrClosed", err)
	}
}

// limitsVar holds Limits a test changes while the server runs.
type limitsVar struct {
	mu sync.Mutex
	l  Limits
}

func (v *limitsVar) get() Limits {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.l
}

func (v *limitsVar) set(l Limits) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.l = l
}

const unlimited = 1<<31 - 1

// openServed opens n connections and checks each is served.
func openServed(t *testing.T, addr string, n int) []net.Conn {
	t.Helper()
	var cs []net.Conn
	for i := 0; i < n; i++ {
		c := dial(t, addr)
		if err := apiVersions(c, 30*time.Second); err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		cs = append(cs, c)
	}
	return cs
}

func TestServerMaxConnectionsPerIP(t *testing.T) {
	lim := &limitsVar{l: Limits{MaxConnections: unlimited, MaxPerIP: 2}}
	q := NewQuotas(lim.get, testLogger())
	ts := startServer(t, Options{Quotas: q})
	cs := openServed(t, ts.addr, 2)

	extra := dial(t, ts.addr)
	_ = send(extra, kmsgApiVersions(), 1)
	expectClosedByPeer(t, extra)
	if got := ts.metricValue(t, "strait_kafka_connections_refused_total", "limit", refusedPerIP); got != 1 {
		t.Errorf("refused per-ip = %v, want 1", got)
	}
	if q.Open() != 2 {
		t.Errorf("open connections %d, want 2", q.Open())
	}

	// One closes: a new connection is accepted again.
	cs[0].Close()
	testutil.WaitFor(t, 30*time.Second, func() (bool, string) { return served(t, ts.addr) })

	// A dynamic raise applies to the next connection.
	lim.set(Limits{MaxConnections: unlimited, MaxPerIP: 3})
	openServed(t, ts.addr, 1)
}

func TestServerMaxConnectionsPerIPOverrides(t *testing.T) {
	lim := &limitsVar{l: Limits{MaxConnections: unlimited, MaxPerIP: 0,
		PerIPOverrides: map[string]int32{"broker-test-host": 1}}}
	q := NewQuotas(lim.get, testLogger())
	resolved := 0
	q.resolve = func(_ context.Context, host string) ([]netip.Addr, error) {
		resolved++
		if host != "broker-test-host" {
			return nil, errors.New("no such host")
		}
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
	}
	ts := startServer(t, Options{Quotas: q})
	openServed(t, ts.addr, 1)
	extra := dial(t, ts.addr)
	expectClosedByPeer(t, extra)

	// An IP override replaces the host one; the default (0) refuses the rest.
	lim.set(Limits{MaxConnections: unlimited, MaxPerIP: 0, PerIPOverrides: map[string]int32{"127.0.0.1": 3}})
	openServed(t, ts.addr, 2)
	expectClosedByPeer(t, dial(t, ts.addr))
	if resolved != 1 {
		t.Errorf("host names resolved %d times, want once (when the overrides changed)", resolved)
	}
}

// countingListener counts successful Accepts.
type countingListener struct {
	net.Listener
	n atomic.Int32
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

// TestServerMaxConnectionsDelaysAccept: at max.connections the server stops
// accepting (as Kafka's acceptor blocks); the waiting connection is served
// once another closes, or once the limit is raised.
func TestServerMaxConnectionsDelaysAccept(t *testing.T) {
	lim := &limitsVar{l: Limits{MaxConnections: 2, MaxPerIP: unlimited}}
	q := NewQuotas(lim.get, testLogger())
	ln := &countingListener{Listener: listen(t)}
	ts := startServer(t, Options{Listener: ln, Quotas: q})
	cs := openServed(t, ts.addr, 2)
	blocked := func() float64 { return ts.metricValue(t, "strait_kafka_accept_blocked", "listener", "PLAINTEXT") }
	testutil.WaitFor(t, 30*time.Second, func() (bool, string) {
		return blocked() == 1, "accept loop not blocked at max.connections"
	})

	// The kernel completes the handshake; the server does not accept.
	waiting := dial(t, ts.addr)
	if err := send(waiting, kmsgApiVersions(), 1); err != nil {
		t.Fatal(err)
	}
	if err := readResponse(waiting, kmsgApiVersionsResponse(), 1, 100*time.Millisecond); err == nil {
		t.Fatal("a connection over max.connections was served")
	}
	if n := ln.n.Load(); n != 2 {
		t.Fatalf("%d connections accepted, want 2", n)
	}

	cs[0].Close()
	if err := readResponse(waiting, kmsgApiVersionsResponse(), 1, 30*time.Second); err != nil {
		t.Fatalf("waiting connection not served after one closed: %v", err)
	}
	testutil.WaitFor(t, 30*time.Second, func() (bool, string) {
		return blocked() == 1, "accept loop not blocked again"
	})

	// Raising the limit lets the next waiting connection in without a close.
	next := dial(t, ts.addr)
	if err := send(next, kmsgApiVersions(), 1); err != nil {
		t.Fatal(err)
	}
	lim.set(Limits{MaxConnections: 3, MaxPerIP: unlimited})
	if err := readResponse(next, kmsgApiVersionsResponse(), 1, 30*time.Second); err != nil {
		t.Fatalf("waiting connection not served after the limit rose: %v", err)
	}
	if q.Open() != 3 {
		t.Errorf("open %d, want 3", q.Open())
	}
}
