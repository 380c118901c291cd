package rest

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/strait-kafka/strait/internal/link"
)

// Default limits on what a client may send and how long it may take.
const (
	DefaultHeaderTimeout  = 10 * time.Second
	DefaultBodyTimeout    = 30 * time.Second
	DefaultIdleTimeout    = 60 * time.Second
	DefaultWriteTimeout   = 30 * time.Second
	DefaultDiscardTimeout = 30 * time.Second
	DefaultMaxHeaderBytes = 64 << 10
	DefaultMaxBodyBytes   = 1 << 20
)

// Limits bound what a client may send and how long it may take. A zero or
// negative field takes its Default constant.
type Limits struct {
	// HeaderTimeout is how long the request line and headers may take to
	// arrive, counted from the connection's accept or, on a kept-alive
	// connection, from the request's first byte. Past it the connection is
	// closed without an answer.
	HeaderTimeout time.Duration
	// BodyTimeout is how long the whole body may take to arrive once the
	// headers are in. Past it the request is answered 408 and the
	// connection closed.
	BodyTimeout time.Duration
	// IdleTimeout closes a kept-alive connection that starts no new request
	// for this long.
	IdleTimeout time.Duration
	// WriteTimeout is how long a response may take to reach the client once
	// the handler starts writing it; a client that stops reading is cut
	// off then. It does not bound the handler's own work, which can wait
	// for a remote cluster for as long as a link's request.timeout.ms.
	WriteTimeout time.Duration
	// DiscardTimeout is how long the server goes on reading and discarding
	// an oversized body after answering 413, so that a client that sends
	// the whole body before it reads gets the answer and not a connection
	// reset.
	DiscardTimeout time.Duration
	// MaxHeaderBytes bounds the request line and headers (Go's server
	// allows 4 KiB over it); a larger request gets a plain-text 431.
	MaxHeaderBytes int
	// MaxBodyBytes bounds a request body, on every route: a larger one is
	// answered 413.
	MaxBodyBytes int64
}

// DefaultLimits returns the Default constants.
func DefaultLimits() Limits {
	return Limits{
		HeaderTimeout: DefaultHeaderTimeout, BodyTimeout: DefaultBodyTimeout, IdleTimeout: DefaultIdleTimeout,
		WriteTimeout: DefaultWriteTimeout, DiscardTimeout: DefaultDiscardTimeout,
		MaxHeaderBytes: DefaultMaxHeaderBytes, MaxBodyBytes: DefaultMaxBodyBytes,
	}
}

// withDefaults replaces every zero or negative field with its default.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	pick := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	pick(&l.HeaderTimeout, d.HeaderTimeout)
	pick(&l.BodyTimeout, d.BodyTimeout)
	pick(&l.IdleTimeout, d.IdleTimeout)
	pick(&l.WriteTimeout, d.WriteTimeout)
	pick(&l.DiscardTimeout, d.DiscardTimeout)
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = d.MaxHeaderBytes
	}
	if l.MaxBodyBytes <= 0 {
		l.MaxBodyBytes = d.MaxBodyBytes
	}
	return l
}

// HTTPServer returns an http.Server that serves s with its header, idle
// and header-size limits. The body and write limits are s's own (see
// ServeHTTP), so they hold under any server.
func (s *Server) HTTPServer() *http.Server {
	return &http.Server{
		Handler:           s,
		ReadHeaderTimeout: s.lim.HeaderTimeout,
		IdleTimeout:       s.lim.IdleTimeout,
		MaxHeaderBytes:    s.lim.MaxHeaderBytes,
		// ReadTimeout and WriteTimeout stay zero: they would run from the
		// end of the headers and so cut short a handler that waits on a
		// remote cluster, and an expired read deadline cancels the
		// request's context. ServeHTTP sets both deadlines itself.
	}
}

// errBodyTooLarge marks a body over MaxBodyBytes.
var errBodyTooLarge = errors.New("rest: request body too large")

// readBody reads r's whole body before routing, within BodyTimeout and up
// to MaxBodyBytes, and returns a shallow copy of r whose body is that copy
// in memory. Reading it up front is what lets every route, including those
// that never look at a body, answer an oversized or stalled one the same
// way, and leaves Go's server nothing unread to trip on when the handler
// writes its answer. It fails with errBodyTooLarge, or with the read error.
func (s *Server) readBody(rc *http.ResponseController, r *http.Request) (*http.Request, error) {
	if r.ContentLength > s.lim.MaxBodyBytes {
		return nil, errBodyTooLarge // declared: refuse before reading, so no 100 Continue is sent
	}
	_ = rc.SetReadDeadline(time.Now().Add(s.lim.BodyTimeout))
	b, err := io.ReadAll(io.LimitReader(r.Body, s.lim.MaxBodyBytes+1))
	switch {
	case err != nil:
		return nil, err // the deadline stays: nothing may wait on this body again
	case int64(len(b)) > s.lim.MaxBodyBytes:
		return nil, errBodyTooLarge // a chunked body that grew past the limit
	}
	// At EOF Go's server starts a background read that watches for the
	// client going away; left in force, the body deadline would expire
	// under it and cancel the request's context while the handler works.
	_ = rc.SetReadDeadline(time.Time{})
	r2 := new(http.Request)
	*r2 = *r
	r2.Body = io.NopCloser(bytes.NewReader(b))
	return r2, nil
}

// refuseBody answers a body that readBody failed on and closes the
// connection: 413 for an oversized body, 408 for one that did not arrive in
// time, 400 for one that broke off or was malformed. After a 413 the rest
// of the body is read and thrown away, for at most DiscardTimeout, so that
// a client that writes its whole body before reading finds the answer: had
// the server closed with unread data, its kernel would send a reset, and
// the client's kernel drops the answer it had not yet read. Discarding goes
// through io.Discard's small pooled buffers, so memory stays flat however
// large the body.
func (s *Server) refuseBody(w http.ResponseWriter, rc *http.ResponseController, r *http.Request, err error) {
	// Full duplex lets this handler read the body after its answer has
	// gone out, which HTTP/1 in Go's server otherwise does not allow, and
	// stops the server from reading up to 256 KiB of the body itself
	// before it sends the answer. Nothing is read before the answer, so a
	// client waiting on 100 Continue is never sent one.
	_ = rc.EnableFullDuplex()
	w.Header().Set("Connection", "close")
	var ne net.Error
	switch {
	case errors.Is(err, errBodyTooLarge):
		s.writeError(w, r, link.Errorf(http.StatusRequestEntityTooLarge, http.StatusRequestEntityTooLarge,
			"request body is larger than %d bytes, the limit of this API", s.lim.MaxBodyBytes))
	case errors.As(err, &ne) && ne.Timeout():
		s.writeError(w, r, link.Errorf(http.StatusRequestTimeout, http.StatusRequestTimeout,
			"request body did not arrive within %v", s.lim.BodyTimeout))
		return
	default:
		s.writeError(w, r, badRequest("reading request body: %v", err))
		return
	}
	_ = rc.Flush()
	_ = rc.SetReadDeadline(time.Now().Add(s.lim.DiscardTimeout))
	_, _ = io.Copy(io.Discard, r.Body)
}

// deadlineWriter arms the write deadline when the handler starts its
// response, so that WriteTimeout bounds the delivery of the response and
// not the handler's work before it.
type deadlineWriter struct {
	http.ResponseWriter
	rc    *http.ResponseController
	d     time.Duration
	armed bool
}

func (w *deadlineWriter) arm() {
	if !w.armed {
		w.armed = true
		_ = w.rc.SetWriteDeadline(time.Now().Add(w.d))
	}
}

func (w *deadlineWriter) WriteHeader(code int) {
	if code >= 200 {
		w.arm()
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *deadlineWriter) Write(b []byte) (int, error) {
	w.arm()
	return w.ResponseWriter.Write(b)
}

// Flush lets handlers that assert http.Flusher flush through the wrapper.
func (w *deadlineWriter) Flush() {
	w.arm()
	_ = w.rc.Flush()
}

// Unwrap lets http.ResponseController reach the server's writer.
func (w *deadlineWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
