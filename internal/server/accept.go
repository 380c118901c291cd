package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// Accept backoff after a failed Accept: net/http's values. Running out of
// descriptors (EMFILE, ENFILE), memory or buffers (ENOMEM, ENOBUFS), or a
// handshake aborted by the peer (ECONNABORTED) all pass; waiting, instead of
// retrying at once, keeps the loop from spinning while they last.
const (
	acceptBackoffMin = 5 * time.Millisecond
	acceptBackoffMax = time.Second
)

// logEvery lets a hot-path warning through at most once per interval and
// counts what it held back.
type logEvery struct {
	every time.Duration

	mu      sync.Mutex
	last    time.Time
	skipped int
}

// allow reports whether to log now and how many were held back since the
// last line.
func (l *logEvery) allow(now time.Time) (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.last.IsZero() && now.Sub(l.last) < l.every {
		l.skipped++
		return false, 0
	}
	n := l.skipped
	l.last, l.skipped = now, 0
	return true, n
}

// acceptLoop accepts connections and starts serve for each, until ctx
// ends. A failed Accept never ends it: it backs off (5 ms doubling to 1 s)
// and tries again. Only a closed listener does; that is the normal end at
// shutdown (nil), and an error if the listener was closed by anyone else.
func (s *Server) acceptLoop(ctx context.Context, serve func(c net.Conn, release func())) error {
	var delay time.Duration
	for {
		if q := s.o.Quotas; q != nil {
			if !q.waitSlot(ctx, s.blocked) {
				return nil
			}
			s.unblocked()
		}
		c, err := s.o.Listener.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, net.ErrClosed) {
				return fmt.Errorf("server: listener closed: %w", err)
			}
			delay = min(max(2*delay, acceptBackoffMin), acceptBackoffMax)
			if m := s.o.Metrics; m != nil {
				m.acceptErrors.WithLabelValues(s.o.Name).Inc()
			}
			if ok, held := s.acceptLog.allow(time.Now()); ok {
				s.lg.Warn("accept failed; retrying after a backoff", "err", err, "backoff", delay, "similar_errors_not_logged", held)
			}
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return nil
			}
			continue
		}
		delay = 0
		release := func() {}
		if q := s.o.Quotas; q != nil {
			ip := remoteIP(c)
			ok, reason, limit := q.admit(ip)
			if !ok {
				s.refuse(c, reason, limit)
				continue
			}
			release = func() { q.release(ip) }
		}
		serve(c, release)
	}
}

// refuse closes a connection over a limit, as Kafka does for
// max.connections.per.ip.
func (s *Server) refuse(c net.Conn, reason string, limit int32) {
	if m := s.o.Metrics; m != nil {
		m.refused.WithLabelValues(s.o.Name, reason).Inc()
	}
	if ok, held := s.refuseLog.allow(time.Now()); ok {
		s.lg.Info("connection refused: limit reached", "remote", c.RemoteAddr().String(), "limit", reason, "max", limit,
			"similar_refusals_not_logged", held)
	}
	c.Close()
}

func (s *Server) blocked() {
	if m := s.o.Metrics; m != nil {
		m.acceptBlocked.WithLabelValues(s.o.Name).Set(1)
	}
	if ok, held := s.blockLog.allow(time.Now()); ok {
		s.lg.Warn("not accepting connections: max.connections reached", "open", s.o.Quotas.Open(), "similar_not_logged", held)
	}
}

func (s *Server) unblocked() {
	if m := s.o.Metrics; m != nil {
		m.acceptBlocked.WithLabelValues(s.o.Name).Set(0)
	}
}
