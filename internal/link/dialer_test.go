package link

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestLinkReconnectDelayBounds(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name   string
		lo, hi time.Duration
		// base is the delay before jitter after 1, 2, ... failures.
		base []time.Duration
	}{
		{"kafka defaults", 50 * ms, 1000 * ms, []time.Duration{50 * ms, 100 * ms, 200 * ms, 400 * ms, 800 * ms, 1000 * ms, 1000 * ms}},
		{"not a power of two", 300 * ms, 1000 * ms, []time.Duration{300 * ms, 600 * ms, 1000 * ms, 1000 * ms}},
		{"equal bounds", 200 * ms, 200 * ms, []time.Duration{200 * ms, 200 * ms, 200 * ms}},
		{"max below min is the fixed pause", 500 * ms, 100 * ms, []time.Duration{100 * ms, 100 * ms, 100 * ms}},
		{"huge", time.Duration(1 << 61), time.Duration(1<<63 - 1), []time.Duration{1 << 61, 1 << 62, 1<<63 - 1, 1<<63 - 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			floor := min(tc.lo, tc.hi)
			prevLeast := time.Duration(0)
			for i, base := range tc.base {
				n := i + 1
				least := max(floor, time.Duration(float64(base)*0.8))
				most := tc.hi
				if up := float64(base) * 1.2; up < float64(tc.hi) {
					most = time.Duration(up)
				}
				if got := reconnectDelay(n, tc.lo, tc.hi, 0); got != least {
					t.Errorf("failure %d, u=0: %v, want %v", n, got, least)
				}
				top := reconnectDelay(n, tc.lo, tc.hi, 0.999999)
				if top < most-most/1000 || top > most {
					t.Errorf("failure %d, u→1: %v, want just under %v", n, top, most)
				}
				for _, u := range []float64{0, 0.1, 0.5, 0.9, 0.999999} {
					d := reconnectDelay(n, tc.lo, tc.hi, u)
					if d < floor || d > max(tc.hi, floor) {
						t.Errorf("failure %d, u=%v: %v outside [%v, %v]", n, u, d, floor, tc.hi)
					}
				}
				if least < prevLeast {
					t.Errorf("failure %d: least delay %v shrank from %v", n, least, prevLeast)
				}
				prevLeast = least
				// Jitter: different draws give different delays, unless
				// the bounds leave no room.
				if most > least && reconnectDelay(n, tc.lo, tc.hi, 0.25) == reconnectDelay(n, tc.lo, tc.hi, 0.75) {
					t.Errorf("failure %d: no jitter", n)
				}
			}
		})
	}
	for _, tc := range []struct {
		name     string
		failures int
		lo, hi   time.Duration
	}{
		{"no failure", 0, 50 * ms, time.Second},
		{"backoff off", 5, 0, time.Second},
		{"max zero", 5, 50 * ms, 0},
	} {
		if d := reconnectDelay(tc.failures, tc.lo, tc.hi, 0.5); d != 0 {
			t.Errorf("%s: %v, want 0", tc.name, d)
		}
	}
}

// fakeSource serves one end of a pipe: it reads request frames and answers
// the first answers of them with an empty response frame, then closes.
func fakeSource(t *testing.T, conn net.Conn, answers int) {
	t.Helper()
	go func() {
		defer conn.Close()
		for i := 0; i < answers; i++ {
			var size [4]byte
			if _, err := io.ReadFull(conn, size[:]); err != nil {
				return
			}
			body := make([]byte, binary.BigEndian.Uint32(size[:]))
			if _, err := io.ReadFull(conn, body); err != nil {
				return
			}
			resp := []byte{0, 0, 0, 4}
			resp = append(resp, body[4:8]...) // correlation ID
			if _, err := conn.Write(resp); err != nil {
				return
			}
		}
	}()
}

// request writes a request frame with the API key, split over two writes,
// and reads its response.
func request(t *testing.T, c net.Conn, key int16) error {
	t.Helper()
	frame := binary.BigEndian.AppendUint32(nil, 10)
	frame = binary.BigEndian.AppendUint16(frame, uint16(key))
	frame = append(frame, 0, 1, 0, 0, 0, 7, 0, 0) // version, correlation ID, client ID
	if _, err := c.Write(frame[:5]); err != nil {
		return err
	}
	if _, err := c.Write(frame[5:]); err != nil {
		return err
	}
	resp := make([]byte, 8)
	_, err := io.ReadFull(c, resp)
	return err
}

// TestLinkDialerBackoffResetsAfterAnswer drives a sourceDialer through a
// failing source: refused dials and a connection closed after the handshake
// count as failures; a connection that answers another request ends the
// run, and the next failure starts again from reconnect.backoff.ms.
func TestLinkDialerBackoffResetsAfterAnswer(t *testing.T) {
	const addr = "source:9092"
	var mu sync.Mutex
	var script []func() (net.Conn, error)
	dial := func(ctx context.Context, network, a string) (net.Conn, error) {
		mu.Lock()
		defer mu.Unlock()
		next := script[0]
		script = script[1:]
		return next()
	}
	refuse := func() (net.Conn, error) { return nil, &net.OpError{Op: "dial", Err: errors.New("connection refused")} }
	serve := func(answers int) func() (net.Conn, error) {
		return func() (net.Conn, error) {
			client, server := net.Pipe()
			fakeSource(t, server, answers)
			return client, nil
		}
	}
	script = []func() (net.Conn, error){refuse, refuse, serve(1), serve(2), refuse}
	var attempts, failures int
	var hmu sync.Mutex
	hooks := dialHooks{
		attempt: func() { hmu.Lock(); attempts++; hmu.Unlock() },
		failure: func() { hmu.Lock(); failures++; hmu.Unlock() },
	}
	const lo, hi = 2 * time.Millisecond, 8 * time.Millisecond
	d := newSourceDialer(dial, lo, hi, hooks, slog.New(slog.NewTextHandler(io.Discard, nil)))
	d.rand = func() float64 { return 0 }
	ctx := context.Background()
	wantFailing := func(n int) {
		t.Helper()
		fs := d.failing()
		switch {
		case n == 0 && len(fs) != 0:
			t.Fatalf("failing %+v, want none", fs)
		case n == 0:
		case len(fs) != 1 || fs[0].addr != addr || fs[0].failures != n:
			t.Fatalf("failing %+v, want %s with %d failures", fs, addr, n)
		}
	}

	// refused dials in a row: the next attempt is the backoff after the
	// last one started.
	refused := func(n int) {
		t.Helper()
		before := time.Now()
		if _, err := d.DialContext(ctx, "tcp", addr); err == nil {
			t.Fatal("a refused dial succeeded")
		}
		after := time.Now()
		wantFailing(n)
		pause := reconnectDelay(n, lo, hi, 0)
		if next := d.failing()[0].next; next.Before(before.Add(pause)) || next.After(after.Add(pause)) {
			t.Errorf("failure %d: next attempt %v after the dial began, want the backoff %v", n, next.Sub(before), pause)
		}
	}
	refused(1)
	refused(2)
	// The handshake is answered, then the source hangs up: still failing.
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if err := request(t, c, keyApiVersions); err != nil {
		t.Fatal(err)
	}
	wantFailing(2)
	if err := request(t, c, 3); err == nil {
		t.Fatal("the source answered past its script")
	}
	wantFailing(3)
	c.Close()
	wantFailing(3) // a close after the failure counts no more
	if !errors.Is(d.failing()[0].err, errNoAnswer) {
		t.Errorf("last error %v", d.failing()[0].err)
	}

	// This one answers a Metadata request: the run is over.
	c, err = d.DialContext(ctx, "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if err := request(t, c, keyApiVersions); err != nil {
		t.Fatal(err)
	}
	if err := request(t, c, 3); err != nil {
		t.Fatal(err)
	}
	wantFailing(0)
	c.Close()
	wantFailing(0)

	// The next failure starts again from the first pause.
	refused(1)
	hmu.Lock()
	defer hmu.Unlock()
	if attempts != 5 || failures != 4 {
		t.Errorf("hooks saw %d attempts and %d failures, want 5 and 4", attempts, failures)
	}
}

// TestLinkDialerWaitsForBackoff: while an address is failing, a dial waits
// for the backoff, and gives up with its context.
func TestLinkDialerWaitsForBackoff(t *testing.T) {
	const addr = "source:9092"
	dials := 0
	dial := func(ctx context.Context, network, a string) (net.Conn, error) {
		dials++
		return nil, &net.OpError{Op: "dial", Err: errors.New("connection refused")}
	}
	d := newSourceDialer(dial, time.Hour, time.Hour, dialHooks{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if _, err := d.DialContext(context.Background(), "tcp", addr); err == nil {
		t.Fatal("a refused dial succeeded")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := d.DialContext(ctx, "tcp", addr)
	if !errors.Is(err, context.Canceled) || dials != 1 {
		t.Fatalf("dial during an hour's backoff: %v after %d dials", err, dials)
	}
	// Another address is not held back.
	if _, err := d.DialContext(context.Background(), "tcp", "other:9092"); err == nil || dials != 2 {
		t.Fatalf("dial of another address: %v after %d dials", err, dials)
	}
	// A shorter backoff set on the running dialer cuts the hour short.
	d.setBackoff(time.Millisecond, time.Millisecond)
	for _, a := range []string{addr, "other:9092"} {
		if _, err := d.DialContext(context.Background(), "tcp", a); err == nil {
			t.Fatal("a refused dial succeeded")
		}
	}
	after := time.Now()
	fs := d.failing()
	if len(fs) != 2 || dials != 4 {
		t.Fatalf("failing %+v after %d dials", fs, dials)
	}
	for _, f := range fs {
		if f.failures != 2 || f.next.After(after.Add(time.Millisecond)) {
			t.Errorf("%s: %d failures, next attempt %v from now", f.addr, f.failures, f.next.Sub(after))
		}
	}
}

// TestLinkStatusShowsFailingConnections: the link's error is the failing
// connection's while the availability check has not failed, and a failed
// login (which the dialer sees only as a closed connection) stays an
// AUTHENTICATION_ERROR once the check reports it.
func TestLinkStatusShowsFailingConnections(t *testing.T) {
	r := bareRunner(t, nil)
	if st := r.status(); st.errCode != "NO_ERROR" || st.errMessage != "" {
		t.Fatalf("healthy link: %+v", st)
	}
	r.dialer.failed("source:9092", 1, 0, time.Now(), &net.OpError{Op: "dial", Err: errors.New("connection refused")})
	st := r.status()
	if st.state != LinkStateActive || st.errCode != "BOOTSTRAP_TCP_CONNECTION_FAILED_ERROR" ||
		!strings.Contains(st.errMessage, "source:9092") || !strings.Contains(st.errMessage, "connection refused") ||
		!strings.Contains(st.errMessage, "1 failed attempt in a row") {
		t.Fatalf("failing connection: %+v", st)
	}
	r.failures, r.availErr, r.availMsg = 1, "AUTHENTICATION_ERROR", "SASL authentication failed"
	if st := r.status(); st.errCode != "AUTHENTICATION_ERROR" || !strings.HasPrefix(st.errMessage, "SASL authentication failed; ") {
		t.Fatalf("failed login: %+v", st)
	}
	r.s.paused = true
	if st := r.status(); st.state != LinkStatePaused || st.errCode != "NO_ERROR" {
		t.Fatalf("paused link: %+v", st)
	}
}
