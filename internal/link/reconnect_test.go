package link_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-kafka/strait/internal/link"
	"github.com/strait-kafka/strait/internal/testutil"
)

// slamListener wraps a listener and records when it accepted each
// connection. While slamming, it closes every connection as soon as it is
// accepted (and, when slamming starts, those it handed out before): a
// source that accepts connections and drops them at once.
type slamListener struct {
	net.Listener

	mu       sync.Mutex
	slamming bool
	accepts  []time.Time
	live     map[net.Conn]struct{}
}

func newSlamListener(ln net.Listener, slamming bool) *slamListener {
	return &slamListener{Listener: ln, slamming: slamming, live: map[net.Conn]struct{}{}}
}

// slamSource starts a kfake source whose listener is a slamListener.
func slamSource(t *testing.T) (*kfake.Cluster, string, *kgo.Client, *slamListener) {
	t.Helper()
	var sl *slamListener
	src, addr, cl := newSource(t, kfake.ListenFn(func(network, address string) (net.Listener, error) {
		ln, err := net.Listen(network, address)
		if err != nil {
			return nil, err
		}
		sl = newSlamListener(ln, false)
		return sl, nil
	}))
	return src, addr, cl, sl
}

func (l *slamListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		l.mu.Lock()
		l.accepts = append(l.accepts, time.Now())
		slam := l.slamming
		if !slam {
			l.live[c] = struct{}{}
		}
		l.mu.Unlock()
		if !slam {
			return &slamConn{Conn: c, l: l}, nil
		}
		c.Close()
	}
}

// slam starts (true) or ends closing every connection.
func (l *slamListener) slam(on bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.slamming = on
	if on {
		for c := range l.live {
			c.Close()
		}
	}
}

// acceptedSince returns when connections were accepted, from the i-th on.
func (l *slamListener) acceptedSince(i int) []time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]time.Time(nil), l.accepts[min(i, len(l.accepts)):]...)
}

type slamConn struct {
	net.Conn
	l *slamListener
}

func (c *slamConn) Close() error {
	c.l.mu.Lock()
	delete(c.l.live, c.Conn)
	c.l.mu.Unlock()
	return c.Conn.Close()
}

// leastReconnectDelay is the shortest pause the link may make after n
// failed connection attempts in a row with reconnect.backoff.ms lo and
// reconnect.backoff.max.ms hi (lo <= hi): lo doubled n-1 times, at most hi,
// less 20% jitter, and never below lo.
func leastReconnectDelay(n int, lo, hi time.Duration) time.Duration {
	d := lo
	for i := 1; i < n && d < hi; i++ {
		d *= 2
	}
	return max(lo, time.Duration(0.8*float64(min(d, hi))))
}

// checkReconnectGaps checks the attempts accepted at times ts, the first
// made while the source was still thought healthy (up to skip of them may
// start together): the gap after the j-th attempt (j >= skip) follows at
// least j+1-skip failures, so it is at least 0.8 times the least delay
// after that many — checked once that delay is 300 ms or more, so that the
// slack (a fifth of it) dwarfs how late the listener may see a connection
// on a busy machine. And over the span the attempts cover, there are far
// fewer than a dialer without backoff makes (hundreds a second).
func checkReconnectGaps(t *testing.T, ts []time.Time, lo, hi time.Duration, skip, minChecked int) {
	t.Helper()
	checked := 0
	for j := skip; j+1 < len(ts); j++ {
		least := leastReconnectDelay(j+1-skip, lo, hi)
		if least < 300*time.Millisecond {
			continue
		}
		checked++
		if gap := ts[j+1].Sub(ts[j]); gap < time.Duration(0.8*float64(least)) {
			t.Errorf("attempts %d and %d were %v apart; after %d failures the backoff is at least %v", j, j+1, gap, j+1-skip, least)
		}
	}
	if checked < minChecked {
		t.Fatalf("only %d gaps long enough to check among %d attempts", checked, len(ts))
	}
	if len(ts) == 0 {
		return
	}
	span := ts[len(ts)-1].Sub(ts[0])
	if limit := 4 + int(span/(50*time.Millisecond)); len(ts) > limit {
		t.Errorf("%d connection attempts in %v; with a backoff from %v there would be at most %d", len(ts), span, lo, limit)
	}
	t.Logf("%d attempts in %v, %d gaps checked", len(ts), span.Round(time.Millisecond), checked)
}

// waitAttempts waits until the listener has accepted at least n connections
// from the i-th on, and returns their times.
func waitAttempts(t *testing.T, sl *slamListener, i, n int) []time.Time {
	t.Helper()
	var ts []time.Time
	testutil.WaitFor(t, 60*time.Second, func() (bool, string) {
		ts = sl.acceptedSince(i)
		return len(ts) >= n, fmt.Sprintf("%d of %d connection attempts", len(ts), n)
	})
	return ts
}

// TestLinkRegressionReconnectStorm points a link at a source that accepts
// connections and closes them at once. franz-go dials again straight away
// (three times per request when the source resets the connection), so the
// link reconnected some 400 times a second. Consecutive attempts are now
// spaced by reconnect.backoff.ms, doubling up to reconnect.backoff.max.ms,
// and the link's error says why and when the next attempt is.
func TestLinkRegressionReconnectStorm(t *testing.T) {
	ln, err := netListen()
	if err != nil {
		t.Fatal(err)
	}
	sl := newSlamListener(ln, true)
	t.Cleanup(func() { sl.Close() })
	go func() {
		for {
			if _, err := sl.Accept(); err != nil {
				return
			}
		}
	}()
	const lo, hi = 100 * time.Millisecond, 400 * time.Millisecond
	cfg := fastLink(sl.Addr().String(), "reconnect.backoff.ms", "100", "reconnect.backoff.max.ms", "400",
		"request.timeout.ms", "3000")
	d := newDest(t, "")
	ctx := context.Background()

	// Creating the link checks the source: it fails, without a storm.
	err = d.links.CreateLink(ctx, link.CreateLinkRequest{Name: "l", Configs: cfg})
	if err == nil || !strings.Contains(err.Error(), "the source closed the connection before answering a request") {
		t.Fatalf("validating a link to a source that drops every connection: %v", err)
	}
	checkReconnectGaps(t, waitAttempts(t, sl, 0, 1), lo, hi, 3, 0)

	before := len(sl.acceptedSince(0))
	if err := d.links.CreateLink(ctx, link.CreateLinkRequest{Name: "l", Configs: cfg, SkipValidation: true}); err != nil {
		t.Fatal(err)
	}
	ts := waitAttempts(t, sl, before, 10)
	checkReconnectGaps(t, ts, lo, hi, 3, 3)

	testutil.WaitFor(t, 30*time.Second, func() (bool, string) {
		info, err := d.links.DescribeLink(ctx, "l", false)
		if err != nil {
			return false, err.Error()
		}
		return info.Error == "BOOTSTRAP_TCP_CONNECTION_FAILED_ERROR" &&
				strings.Contains(info.ErrorMessage, "the source closed the connection before answering a request") &&
				strings.Contains(info.ErrorMessage, sl.Addr().String()) &&
				strings.Contains(info.ErrorMessage, "next attempt"),
			fmt.Sprintf("link %s %s: %s", info.State, info.Error, info.ErrorMessage)
	})
	accepted := len(sl.acceptedSince(before))
	if n := d.counter("strait_link_source_connection_attempts_total", "l"); n < float64(accepted) {
		t.Errorf("%v connection attempts counted, the source accepted %d", n, accepted)
	}
	if n := d.counter("strait_link_source_connection_failures_total", "l"); n < 5 {
		t.Errorf("%v connection failures counted", n)
	}
}

// TestLinkReconnectBackoffResetsWhenSourceReturns mirrors a topic, then
// makes the source drop every connection: attempts back off with the
// reconnect.backoff.* values set on the live link, the link's error says
// why, and once the source accepts connections again the mirror catches up
// and the error clears (the run of failures is over).
func TestLinkReconnectBackoffResetsWhenSourceReturns(t *testing.T) {
	_, srcAddr, srcCl, sl := slamSource(t)
	createTopic(t, srcCl, "back", 1, nil)
	d := newDest(t, "")
	ctx := context.Background()
	mustLink(t, d, "l", fastLink(srcAddr, "request.timeout.ms", "3000"))
	mustMirror(t, d, "l", "back")
	waitCaughtUp(t, d, srcCl, "l", "back", "back")
	// Changed on the running link: the defaults (50 ms to 1 s) make the
	// early gaps shorter than these allow.
	if err := d.links.AlterLinkConfigs(ctx, "l", map[string]string{
		"reconnect.backoff.ms": "300", "reconnect.backoff.max.ms": "600"}, nil, false); err != nil {
		t.Fatal(err)
	}
	const lo, hi = 300 * time.Millisecond, 600 * time.Millisecond

	before := len(sl.acceptedSince(0))
	sl.slam(true)
	ts := waitAttempts(t, sl, before, 8)
	checkReconnectGaps(t, ts, lo, hi, 3, 3)
	testutil.WaitFor(t, 30*time.Second, func() (bool, string) {
		info, err := d.links.DescribeLink(ctx, "l", false)
		if err != nil {
			return false, err.Error()
		}
		return info.Error == "BOOTSTRAP_TCP_CONNECTION_FAILED_ERROR" && strings.Contains(info.ErrorMessage, "next attempt"),
			fmt.Sprintf("link %s %s: %s", info.State, info.Error, info.ErrorMessage)
	})

	sl.slam(false)
	if err := srcCl.ProduceSync(ctx, &kgo.Record{Topic: "back", Value: []byte("after the storm")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	waitCaughtUp(t, d, srcCl, "l", "back", "back")
	testutil.WaitFor(t, 30*time.Second, func() (bool, string) {
		info, err := d.links.DescribeLink(ctx, "l", false)
		if err != nil {
			return false, err.Error()
		}
		return info.State == link.LinkStateActive && info.Error == "NO_ERROR" && info.ErrorMessage == "",
			fmt.Sprintf("link %s %s: %s", info.State, info.Error, info.ErrorMessage)
	})
	testutil.CheckMirrorTopic(t, srcCl, d.cl, "back", "back", 1)
}

// TestLinkRegressionFetchBackoffCutShort: a failed fetch asks for a source
// metadata refresh, and the refresh handed the fetcher its (unchanged)
// partitions again, which woke it from its replica.fetch.backoff.ms pause:
// a source answering every Fetch with an error was fetched from over a
// thousand times a second. The pause now lasts.
func TestLinkRegressionFetchBackoffCutShort(t *testing.T) {
	src, srcAddr, srcCl := newSource(t)
	createTopic(t, srcCl, "t", 1, nil)
	d := newDest(t, "")
	const backoff = 500 * time.Millisecond
	mustLink(t, d, "l", fastLink(srcAddr, "replica.fetch.backoff.ms", "500"))
	mustMirror(t, d, "l", "t")
	waitCaughtUp(t, d, srcCl, "l", "t", "t")
	var fetches atomic.Int64
	start := time.Now()
	src.Control(func(req kmsg.Request) (kmsg.Response, error, bool) {
		src.KeepControl()
		if req.Key() != int16(kmsg.Fetch) {
			return nil, nil, false
		}
		fetches.Add(1)
		resp := req.(*kmsg.FetchRequest).ResponseKind().(*kmsg.FetchResponse)
		resp.ErrorCode = kerr.UnknownServerError.Code
		return resp, nil, true
	})
	testutil.WaitFor(t, 60*time.Second, func() (bool, string) {
		n := fetches.Load()
		return n >= 5, fmt.Sprintf("%d failed fetches", n)
	})
	n := fetches.Load()
	span := time.Since(start)
	// Each failed fetch is followed by a full pause.
	if limit := 2 + int64(span/backoff); n > limit {
		t.Errorf("%d fetches in %v with replica.fetch.backoff.ms=%v: more than %d", n, span, backoff, limit)
	}
}
