package link

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// errNoAnswer is what a connection that ended before the source answered a
// request failed with (errors.Is); the error itself is a *noAnswerError,
// which says how it ended.
var errNoAnswer = errors.New("link: the connection ended before the source answered a request")

// noAnswerError is a connection that ended before the source answered a
// request other than the handshake.
type noAnswerError struct {
	byUs  bool  // this side closed it (a request timed out, the handshake failed)
	cause error // the read or write error, when the connection failed
}

func (e *noAnswerError) Error() string {
	switch {
	case e.byUs:
		return "the connection was closed before the source answered a request (a request timed out or the handshake failed)"
	case errors.Is(e.cause, io.EOF), errors.Is(e.cause, syscall.ECONNRESET), errors.Is(e.cause, syscall.EPIPE):
		return fmt.Sprintf("the source closed the connection before answering a request (%v)", e.cause)
	}
	return fmt.Sprintf("the connection failed before the source answered a request (%v)", e.cause)
}

func (e *noAnswerError) Is(target error) bool { return target == errNoAnswer }
func (e *noAnswerError) Unwrap() error        { return e.cause }

// Request keys of the connection handshake: a connection that has answered
// only these has not yet shown that it works.
const (
	keySaslHandshake    = 17
	keyApiVersions      = 18
	keySaslAuthenticate = 36
)

// reconnectDelay is the pause after the failures-th failed connection
// attempt in a row to one address (failures >= 1), as Kafka's clients
// compute it: lo doubled failures-1 times, at most hi, with ±20% jitter —
// kept within [min(lo, hi), hi], so that the bounds are the configs' values.
// u is a random number in [0, 1). A hi below lo is the fixed pause (Kafka
// caps the growth at hi even then); lo or hi 0 turns the backoff off.
func reconnectDelay(failures int, lo, hi time.Duration, u float64) time.Duration {
	if failures < 1 || lo <= 0 || hi <= 0 {
		return 0
	}
	lo = min(lo, hi)
	base := lo
	for i := 1; i < failures && base < hi; i++ {
		if base > hi/2 {
			base = hi
		} else {
			base *= 2
		}
	}
	a := max(lo, time.Duration(float64(base)*0.8))
	b := hi
	if up := float64(base) * 1.2; up < float64(hi) { // in floats: base*1.2 may not fit
		b = time.Duration(up)
	}
	return a + time.Duration(float64(b-a)*u)
}

// dialHooks observe a sourceDialer: an attempt is started, an attempt has
// failed (counted once per run step, as the backoff counts it). Each may be
// nil; they run without the dialer's lock and must not block.
type dialHooks struct {
	attempt func()
	failure func()
}

// sourceDialer opens the connections of one source client and spaces the
// attempts to each address as Kafka's clients do with reconnect.backoff.ms
// and reconnect.backoff.max.ms. franz-go itself dials again at once after a
// failed connection (and up to three times in a row when the source resets
// a new connection), so without this a source that accepts connections and
// closes them straight away is dialed hundreds of times a second.
//
// An attempt fails when the dial fails or when the connection ends (read
// error or close) before it has answered a request other than the handshake
// (ApiVersions, SaslHandshake, SaslAuthenticate); it works when such an
// answer arrives, which ends the run of failures. After the n-th failure in
// a row, the next attempt to that address starts no sooner than
// reconnectDelay(n) after the failed attempt started, and while an address
// is failing one attempt at a time is made: other dials wait (within their
// context) until that attempt has failed or the source has answered on it.
// While an address works, dials are not held back.
//
// A sourceDialer is safe for concurrent use. Its connections are safe for
// the use franz-go makes of them (one reader and one writer at a time).
type sourceDialer struct {
	dial  func(ctx context.Context, network, addr string) (net.Conn, error)
	now   func() time.Time // time.Now; the waits are real timers
	rand  func() float64
	hooks dialHooks
	lg    *slog.Logger

	mu     sync.Mutex
	lo, hi time.Duration
	peers  map[string]*peer
	nextID uint64
}

// peer is the connection state of one source address.
type peer struct {
	// failures is the run of failed attempts; 0 while the address works.
	failures int
	// gen changes with every counted failure and every success; an attempt
	// counts as a failure only if nothing was counted since it started, so
	// connections that fail together count once.
	gen int
	// next is the earliest start of the next attempt while failing:
	// reconnectDelay after failedStart, the start of the attempt whose
	// failure was counted last.
	next        time.Time
	failedStart time.Time
	// probe is the attempt in flight while failing (0: none).
	probe uint64
	// changed is closed (and replaced) when failures, next or probe change.
	changed chan struct{}

	since   time.Time // first failure of the run
	lastErr error
}

func newSourceDialer(dial func(ctx context.Context, network, addr string) (net.Conn, error),
	lo, hi time.Duration, hooks dialHooks, lg *slog.Logger) *sourceDialer {
	if lg == nil {
		lg = slog.Default()
	}
	return &sourceDialer{dial: dial, now: time.Now, rand: rand.Float64, hooks: hooks, lg: lg,
		lo: lo, hi: hi, peers: make(map[string]*peer)}
}

// setBackoff changes the bounds. A failing address's next attempt is
// computed again with them, so a pause set too long can be cut short.
func (d *sourceDialer) setBackoff(lo, hi time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if lo == d.lo && hi == d.hi {
		return
	}
	d.lo, d.hi = lo, hi
	for _, p := range d.peers {
		if p.failures > 0 {
			p.next = p.failedStart.Add(reconnectDelay(p.failures, lo, hi, d.rand()))
			p.notifyLocked()
		}
	}
}

func (d *sourceDialer) peerLocked(addr string) *peer {
	p := d.peers[addr]
	if p == nil {
		p = &peer{changed: make(chan struct{})}
		d.peers[addr] = p
	}
	return p
}

func (p *peer) notifyLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// DialContext has the signature franz-go's kgo.Dialer takes.
func (d *sourceDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	id, gen, err := d.acquire(ctx, addr)
	if err != nil {
		return nil, err
	}
	if d.hooks.attempt != nil {
		d.hooks.attempt()
	}
	start := d.now()
	conn, err := d.dial(ctx, network, addr)
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, context.Canceled) {
			d.release(addr, id) // the caller gave up; says nothing of the source
		} else {
			d.failed(addr, id, gen, start, err)
		}
		return nil, err
	}
	return &watchedConn{Conn: conn, d: d, addr: addr, id: id, gen: gen, start: start}, nil
}

// acquire waits until an attempt to addr may start and returns its ID and
// the generation it starts in.
func (d *sourceDialer) acquire(ctx context.Context, addr string) (uint64, int, error) {
	for {
		d.mu.Lock()
		p := d.peerLocked(addr)
		var wait time.Duration
		blocked := false
		if p.failures > 0 {
			if w := p.next.Sub(d.now()); w > 0 {
				wait, blocked = w, true
			} else if p.probe != 0 {
				blocked = true // wait for the attempt in flight
			}
		}
		if !blocked {
			d.nextID++
			id := d.nextID
			if p.failures > 0 {
				p.probe = id
			}
			gen := p.gen
			d.mu.Unlock()
			return id, gen, nil
		}
		changed, failures := p.changed, p.failures
		d.mu.Unlock()
		var tick <-chan time.Time
		var timer *time.Timer
		if wait > 0 {
			timer = time.NewTimer(wait)
			tick = timer.C
		}
		select {
		case <-ctx.Done():
		case <-changed:
		case <-tick:
		}
		if timer != nil {
			timer.Stop()
		}
		if err := ctx.Err(); err != nil {
			return 0, 0, fmt.Errorf("waiting to reconnect to source %s after %d failed attempts: %w", addr, failures, err)
		}
	}
}

// release ends attempt id without a verdict.
func (d *sourceDialer) release(addr string, id uint64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	p := d.peerLocked(addr)
	if p.probe == id {
		p.probe = 0
		p.notifyLocked()
	}
}

// failed records that attempt id (started at start, in generation gen)
// failed with err.
func (d *sourceDialer) failed(addr string, id uint64, gen int, start time.Time, err error) {
	d.mu.Lock()
	p := d.peerLocked(addr)
	now := d.now()
	p.lastErr = err
	counted := gen == p.gen
	if counted {
		p.gen++
		p.failures++
		if p.failures == 1 {
			p.since = now
		}
		p.failedStart = start
		p.next = start.Add(reconnectDelay(p.failures, d.lo, d.hi, d.rand()))
	}
	if p.probe == id {
		p.probe = 0
	}
	failures, next := p.failures, p.next
	p.notifyLocked()
	d.mu.Unlock()
	if !counted {
		return
	}
	if d.hooks.failure != nil {
		d.hooks.failure()
	}
	if failures == 1 {
		d.lg.Warn("connection to the source failed; backing off between attempts",
			"addr", addr, "err", err, "next_attempt_in", next.Sub(now).Round(time.Millisecond))
	}
}

// answered records that the source answered on attempt id, which lets the
// next waiting dial go ahead; works says the answer was to a request other
// than the handshake, which ends the run of failures.
func (d *sourceDialer) answered(addr string, id uint64, works bool) {
	d.mu.Lock()
	p := d.peerLocked(addr)
	failures := 0
	if works {
		failures = p.failures
		p.failures, p.next, p.lastErr = 0, time.Time{}, nil
		p.gen++
	}
	if p.probe == id {
		p.probe = 0
	}
	p.notifyLocked()
	since := p.since
	d.mu.Unlock()
	if failures > 0 {
		d.lg.Info("connection to the source works again", "addr", addr, "failed_attempts", failures,
			"failing_for", d.now().Sub(since).Round(time.Millisecond))
	}
}

// failingAddr is one source address in a run of failed connection attempts.
type failingAddr struct {
	addr     string
	failures int
	since    time.Time
	err      error
	next     time.Time // earliest next attempt
}

// failing returns the addresses whose last attempts failed, most failures
// first (then by address).
func (d *sourceDialer) failing() []failingAddr {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []failingAddr
	for addr, p := range d.peers {
		if p.failures > 0 {
			out = append(out, failingAddr{addr: addr, failures: p.failures, since: p.since, err: p.lastErr, next: p.next})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].failures != out[j].failures {
			return out[i].failures > out[j].failures
		}
		return out[i].addr < out[j].addr
	})
	return out
}

// describeFailing is the link error message for failing source addresses
// ("" when none): the worst address, its last error, how long it has
// failed and when the next attempt may start.
func describeFailing(fs []failingAddr, now time.Time) string {
	if len(fs) == 0 {
		return ""
	}
	f := fs[0]
	var b strings.Builder
	attempts := "attempts"
	if f.failures == 1 {
		attempts = "attempt"
	}
	fmt.Fprintf(&b, "cannot connect to source %s: %v (%d failed %s in a row since %s); ",
		f.addr, f.err, f.failures, attempts, f.since.UTC().Format(time.RFC3339Nano))
	if w := f.next.Sub(now); w > 0 {
		fmt.Fprintf(&b, "next attempt in %v, at %s", w.Round(time.Millisecond), f.next.UTC().Format(time.RFC3339Nano))
	} else {
		b.WriteString("next attempt now")
	}
	if len(fs) > 1 {
		others := make([]string, 0, len(fs)-1)
		for _, o := range fs[1:] {
			others = append(others, o.addr)
		}
		fmt.Fprintf(&b, "; also failing: %s", strings.Join(others, ", "))
	}
	return b.String()
}

// watchedConn is a source connection that reports to its dialer whether it
// works. Until it has a verdict it follows the Kafka framing of both
// directions (4-byte big-endian size, then for requests the 2-byte API
// key): responses come in request order, so each complete response frame
// answers the oldest request not yet answered. After the verdict it only
// passes bytes through.
type watchedConn struct {
	net.Conn
	d     *sourceDialer
	addr  string
	id    uint64
	gen   int
	start time.Time

	// done is resolved, readable without mu: the fast path once the
	// connection has its verdict.
	done atomic.Bool

	mu       sync.Mutex
	resolved bool // works, or failed; set with done
	answered bool // some response arrived (the dialer was told)
	pending  []int16
	w, r     frameReader
}

// frameReader follows a stream of size-prefixed frames; for each frame it
// keeps the first six bytes (size and, in requests, the API key).
type frameReader struct {
	head [6]byte
	pos  int64 // bytes of the current frame seen, size field included
	size int64 // body size, known once pos >= 4
}

// feed consumes p and calls done for each frame completed, with its head.
func (f *frameReader) feed(p []byte, done func(head []byte)) {
	for len(p) > 0 {
		if f.pos < 4 {
			n := copy(f.head[f.pos:4], p)
			f.pos += int64(n)
			p = p[n:]
			if f.pos == 4 {
				f.size = int64(binary.BigEndian.Uint32(f.head[:4]))
			}
		} else {
			rest := 4 + f.size - f.pos
			n := min(int64(len(p)), rest)
			if f.pos < 6 {
				copy(f.head[f.pos:6], p[:min(n, 6-f.pos)])
			}
			f.pos += n
			p = p[n:]
		}
		if f.pos >= 4 && f.pos == 4+f.size {
			done(f.head[:min(f.pos, 6)])
			f.pos, f.size = 0, 0
		}
	}
}

// resolveLocked gives the connection its verdict; it reports whether it had
// none yet.
func (c *watchedConn) resolveLocked() bool {
	if c.resolved {
		return false
	}
	c.resolved = true
	c.done.Store(true)
	c.pending = nil
	return true
}

func (c *watchedConn) Write(p []byte) (int, error) {
	if c.done.Load() {
		return c.Conn.Write(p)
	}
	c.mu.Lock()
	if !c.resolved {
		// Before writing: the response may be read before Write returns.
		c.w.feed(p, func(head []byte) {
			key := int16(-1)
			if len(head) == 6 {
				key = int16(binary.BigEndian.Uint16(head[4:6]))
			}
			c.pending = append(c.pending, key)
		})
	}
	c.mu.Unlock()
	n, err := c.Conn.Write(p)
	if err != nil {
		c.fail(err)
	}
	return n, err
}

// fail records a failure unless the connection has its verdict.
func (c *watchedConn) fail(err error) {
	c.mu.Lock()
	failed := c.resolveLocked()
	c.mu.Unlock()
	if failed {
		c.d.failed(c.addr, c.id, c.gen, c.start, &noAnswerError{cause: err})
	}
}

func (c *watchedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if c.done.Load() {
		return n, err
	}
	c.mu.Lock()
	if c.resolved {
		c.mu.Unlock()
		return n, err
	}
	var works, first bool
	c.r.feed(p[:n], func([]byte) {
		key := int16(-1)
		if len(c.pending) > 0 {
			key, c.pending = c.pending[0], c.pending[1:]
		}
		if !c.answered {
			c.answered, first = true, true
		}
		if key != keyApiVersions && key != keySaslHandshake && key != keySaslAuthenticate {
			works = true
		}
	})
	failed := false
	switch {
	case works:
		works = c.resolveLocked()
	case err != nil:
		failed = c.resolveLocked()
	}
	c.mu.Unlock()
	switch {
	case works:
		c.d.answered(c.addr, c.id, true)
	case failed:
		c.d.failed(c.addr, c.id, c.gen, c.start, &noAnswerError{cause: err})
	case first:
		c.d.answered(c.addr, c.id, false)
	}
	return n, err
}

func (c *watchedConn) Close() error {
	c.mu.Lock()
	failed := c.resolveLocked()
	c.mu.Unlock()
	if failed {
		c.d.failed(c.addr, c.id, c.gen, c.start, &noAnswerError{byUs: true})
	}
	return c.Conn.Close()
}
