package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-kafka/strait/internal/broker"
	"github.com/strait-kafka/strait/internal/storage"
)

// Handler serves decoded requests; *broker.Broker is the one Strait runs.
// It is called from each connection's goroutine, so it must be safe for
// concurrent use.
type Handler interface {
	Handle(ctx context.Context, s *broker.Session, req kmsg.Request) (broker.Reply, error)
}

// Options configure a Server.
type Options struct {
	Listener net.Listener
	Name     string // listener name, e.g. PLAINTEXT
	Broker   Handler
	Logger   *slog.Logger
	// MaxRequestBytes returns socket.request.max.bytes (read per frame, so
	// dynamic changes apply to the next frame).
	MaxRequestBytes func() int32
	// IdleTimeout closes connections idle this long (connections.max.idle.ms).
	IdleTimeout time.Duration
	// WriteTimeout bounds writing one response.
	WriteTimeout time.Duration
	// Metrics, if set, receive request and connection metrics.
	Metrics *Metrics
	// DrainTimeout bounds how long Serve waits, at shutdown, for requests
	// already being handled to finish before closing their connections.
	DrainTimeout time.Duration
	// Quotas, if set, count connections against max.connections and
	// max.connections.per.ip. One Quotas is shared by all listeners.
	Quotas *Quotas
	// Budget, if set, bounds the request bytes held at once
	// (queued.max.request.bytes). One Budget is shared by all listeners.
	Budget *Budget
}

// Server serves one listener.
type Server struct {
	o  Options
	lg *slog.Logger

	mu    sync.Mutex
	conns map[net.Conn]struct{}

	// Rate limits of the hot-path log lines.
	acceptLog, refuseLog, blockLog, budgetLog, fitLog logEvery
}

// New makes a server; Serve runs it.
func New(o Options) *Server {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 10 * time.Minute
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 30 * time.Second
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = 5 * time.Second
	}
	s := &Server{o: o, lg: o.Logger.With("listener", o.Name), conns: make(map[net.Conn]struct{})}
	for _, l := range []*logEvery{&s.acceptLog, &s.refuseLog, &s.blockLog, &s.budgetLog, &s.fitLog} {
		l.every = 10 * time.Second
	}
	return s
}

// Serve accepts connections until ctx ends, then stops reading new
// requests, lets requests in progress finish (bounded by DrainTimeout),
// closes every connection and returns once all connection goroutines exited.
// A failed accept is retried after a backoff; Serve returns an error only
// if the listener is closed by something other than ctx ending.
func (s *Server) Serve(ctx context.Context) error {
	var wg sync.WaitGroup
	connCtx, cancelConns := context.WithCancel(context.Background())
	defer cancelConns()
	stop := context.AfterFunc(ctx, func() { s.o.Listener.Close() })
	defer stop()

	acceptErr := s.acceptLoop(ctx, func(c net.Conn, release func()) {
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
				c.Close()
				release()
			}()
			s.serveConn(connCtx, c)
		}()
	})

	// Shutdown: wake idle readers, end long polls, give in-flight work a
	// bounded time, then cut what remains.
	s.mu.Lock()
	for c := range s.conns {
		_ = c.SetReadDeadline(time.Now())
	}
	s.mu.Unlock()
	cancelConns()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(s.o.DrainTimeout):
		s.mu.Lock()
		for c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		<-done
	}
	return acceptErr
}

// errClose marks protocol violations that end a connection.
var errClose = errors.New("server: closing connection")

func (s *Server) serveConn(ctx context.Context, c net.Conn) {
	if m := s.o.Metrics; m != nil {
		g := m.connections.WithLabelValues(s.o.Name)
		g.Inc()
		defer g.Dec()
	}
	sess := &broker.Session{Remote: c.RemoteAddr().String(), Listener: s.o.Name}
	tcp, _ := c.(*net.TCPConn)
	sess.Plaintext = tcp != nil
	lg := s.lg.With("remote", sess.Remote)
	rd := bufio.NewReaderSize(c, 64<<10)
	wr := bufio.NewWriterSize(c, 64<<10)
	var sizeBuf [4]byte
	for {
		if ctx.Err() != nil {
			return
		}
		_ = c.SetReadDeadline(time.Now().Add(s.o.IdleTimeout))
		if _, err := io.ReadFull(rd, sizeBuf[:]); err != nil {
			if !errors.Is(err, io.EOF) && ctx.Err() == nil {
				lg.Debug("connection read ended", "err", err)
			}
			return
		}
		size := int32(binary.BigEndian.Uint32(sizeBuf[:]))
		if max := s.o.MaxRequestBytes(); size < 8 || size > max {
			lg.Warn("closing connection: request size out of bounds", "size", size, "socket.request.max.bytes", max)
			return
		}
		// The frame's bytes are charged to queued.max.request.bytes before
		// they are allocated, and held until the response is written.
		ch := charge{b: s.o.Budget}
		waited, err := ch.add(ctx, int64(size))
		if err != nil {
			if errors.Is(err, ErrOverBudget) {
				if m := s.o.Metrics; m != nil {
					m.budgetRefused.Inc()
				}
				lg.Warn("closing connection: request larger than queued.max.request.bytes", "size", size, "err", err)
			}
			return
		}
		if waited {
			if m := s.o.Metrics; m != nil {
				m.budgetWaits.Inc()
			}
			if ok, held := s.budgetLog.allow(time.Now()); ok {
				lg.Info("request waited for queued.max.request.bytes", "size", size, "similar_not_logged", held)
			}
			_ = c.SetReadDeadline(time.Now().Add(s.o.IdleTimeout))
		}
		frame := make([]byte, size)
		if _, err := io.ReadFull(rd, frame); err != nil {
			ch.release()
			lg.Debug("closing connection: truncated request", "err", err)
			return
		}
		start := time.Now()
		err = s.handleFrame(ctx, sess, c, tcp, wr, frame, &ch)
		ch.release()
		if m := s.o.Metrics; m != nil && len(frame) >= 2 {
			api := apiName(int16(binary.BigEndian.Uint16(frame)))
			m.requests.WithLabelValues(api).Inc()
			m.latency.WithLabelValues(api).Observe(time.Since(start).Seconds())
			m.bytesIn.Add(float64(len(frame) + 4))
		}
		if err != nil {
			if ctx.Err() == nil {
				lg.Info("closing connection", "client_id", sess.ClientID, "reason", err)
			}
			return
		}
	}
}

// frameHeader is a decoded request header.
type frameHeader struct {
	key, version int16
	corr         int32
	clientID     string
}

// errUnsupportedVersion marks a served API at a version that is not served.
var errUnsupportedVersion = errors.New("server: unsupported version")

// decodeFrame decodes one request frame (without its size prefix). Any
// error means the connection must be closed, except errUnsupportedVersion
// for ApiVersions, which is answered.
func decodeFrame(frame []byte) (frameHeader, kmsg.Request, error) {
	var h frameHeader
	if len(frame) < 10 {
		return h, nil, fmt.Errorf("%w: short header", errClose)
	}
	h.key = int16(binary.BigEndian.Uint16(frame[0:]))
	h.version = int16(binary.BigEndian.Uint16(frame[2:]))
	h.corr = int32(binary.BigEndian.Uint32(frame[4:]))
	idLen := int16(binary.BigEndian.Uint16(frame[8:]))
	rest := frame[10:]
	if idLen > 0 {
		if int(idLen) > len(rest) {
			return h, nil, fmt.Errorf("%w: client id longer than the frame", errClose)
		}
		h.clientID = string(rest[:idLen])
		rest = rest[idLen:]
	}
	minV, maxV, ok := broker.SupportedVersions(h.key)
	if !ok {
		return h, nil, fmt.Errorf("%w: unsupported api key %d", errClose, h.key)
	}
	if h.version < minV || h.version > maxV {
		return h, nil, fmt.Errorf("%w: %s version %d is not supported (supported %d-%d)", errUnsupportedVersion, kmsg.NameForKey(h.key), h.version, minV, maxV)
	}
	req := kmsg.RequestForKey(h.key)
	req.SetVersion(h.version)
	if req.IsFlexible() {
		var err error
		if rest, err = skipTags(rest); err != nil {
			return h, nil, fmt.Errorf("%w: request header tags: %v", errClose, err)
		}
	}
	if err := req.ReadFrom(rest); err != nil {
		return h, nil, fmt.Errorf("%w: decoding %s v%d: %v", errClose, kmsg.NameForKey(h.key), h.version, err)
	}
	return h, req, nil
}

// handleFrame decodes, serves and answers one request. ch holds the
// request's share of queued.max.request.bytes (the frame so far); an
// estimate of what decoding will allocate is charged to it with ch.add
// before decoding, when one is known.
func (s *Server) handleFrame(ctx context.Context, sess *broker.Session, c net.Conn, tcp *net.TCPConn, wr *bufio.Writer, frame []byte, ch *charge) error {
	h, req, err := decodeFrame(frame)
	if h.clientID != "" {
		sess.ClientID = h.clientID
	}
	if errors.Is(err, errUnsupportedVersion) && h.key == 18 {
		return s.writeResponse(c, tcp, wr, h.corr, false, broker.Reply{Msg: broker.UnsupportedApiVersions()})
	}
	if err != nil {
		return err
	}
	reply, err := s.o.Broker.Handle(ctx, sess, req)
	defer reply.Release()
	if err != nil {
		return err
	}
	if reply.Msg == nil {
		return nil
	}
	// ApiVersions responses never carry header tags (KIP-511).
	flexibleHeader := reply.Msg.IsFlexible() && h.key != 18
	return s.writeResponse(c, tcp, wr, h.corr, flexibleHeader, reply)
}

// skipTags skips a tagged-field section.
func skipTags(b []byte) ([]byte, error) {
	n, used := binary.Uvarint(b)
	if used <= 0 {
		return nil, errors.New("bad tag count")
	}
	b = b[used:]
	for i := uint64(0); i < n; i++ {
		if _, used = binary.Uvarint(b); used <= 0 {
			return nil, errors.New("bad tag")
		}
		b = b[used:]
		size, used := binary.Uvarint(b)
		if used <= 0 || uint64(len(b)-used) < size {
			return nil, errors.New("bad tag size")
		}
		b = b[used+int(size):]
	}
	return b, nil
}

// piece is part of a response on the wire: bytes, or a file range.
type piece struct {
	b     []byte
	chunk storage.Chunk
}

func (s *Server) writeResponse(c net.Conn, tcp *net.TCPConn, wr *bufio.Writer, corr int32, flexibleHeader bool, reply broker.Reply) error {
	buf := make([]byte, 8, 256)
	binary.BigEndian.PutUint32(buf[4:], uint32(corr))
	if flexibleHeader {
		buf = append(buf, 0)
	}
	if err := s.fit(reply.Msg); err != nil {
		return err
	}
	buf = reply.Msg.AppendTo(buf)
	pieces, size, err := splice(buf[4:], reply.Splices, reply.Msg.IsFlexible())
	if err != nil {
		return err
	}
	if size > math.MaxInt32 {
		if m := s.o.Metrics; m != nil {
			m.responseFailed.Inc()
		}
		return fmt.Errorf("server: %s response of %d bytes exceeds the int32 frame size", kmsg.NameForKey(reply.Msg.Key()), size)
	}
	binary.BigEndian.PutUint32(buf, uint32(size))
	if m := s.o.Metrics; m != nil {
		m.bytesOut.Add(float64(size + 4))
	}
	pieces[0].b = buf[:4+len(pieces[0].b)] // the first piece starts right after the size

	_ = c.SetWriteDeadline(time.Now().Add(s.o.WriteTimeout))
	zeroCopy := tcp != nil && len(reply.Splices) > 0
	if zeroCopy {
		setCork(tcp, true)
		defer setCork(tcp, false)
	}
	for _, p := range pieces {
		if p.chunk.File == nil {
			if _, err := wr.Write(p.b); err != nil {
				return err
			}
			continue
		}
		if err := s.writeChunk(tcp, wr, p.chunk); err != nil {
			return err
		}
	}
	return wr.Flush()
}

// fit makes msg expressible on the wire (see fitResponse): over-long
// strings are cut, with a rate-limited log line; arrays too long for their
// length field make an error that closes the connection.
func (s *Server) fit(msg kmsg.Response) error {
	cut, err := fitResponse(msg)
	if err != nil {
		if m := s.o.Metrics; m != nil {
			m.responseFailed.Inc()
		}
		return err
	}
	if cut > 0 {
		if m := s.o.Metrics; m != nil {
			m.stringsCut.Add(float64(cut))
		}
		if ok, held := s.fitLog.allow(time.Now()); ok {
			s.lg.Warn("response strings cut to fit their fields", "api", kmsg.NameForKey(msg.Key()), "strings", cut,
				"max_bytes", MaxStringLen, "similar_not_logged", held)
		}
	}
	return nil
}

func (s *Server) writeChunk(tcp *net.TCPConn, wr *bufio.Writer, ch storage.Chunk) error {
	var sent int64
	if f, ok := storage.OSFile(ch.File); ok && tcp != nil {
		if err := wr.Flush(); err != nil {
			return err
		}
		n, err := sendFile(tcp, f, ch.Pos, ch.Len)
		sent = n
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
			return err
		}
	} else {
		n, err := io.Copy(wr, io.NewSectionReader(ch.File, ch.Pos, ch.Len))
		sent = n
		if err != nil {
			return err
		}
	}
	// The segment shrank under us (truncated, which cuts at a batch
	// boundary): keep the frame's length true with filler that clients read
	// as a partial trailing batch and discard. Any four filler bytes read as
	// a batch length give 0x7f7f7f7f, more than the bytes left; zeros would
	// read as a batch of length 0, which clients report as corrupt.
	for ; sent < ch.Len; sent++ {
		if err := wr.WriteByte(partialBatchFiller); err != nil {
			return err
		}
	}
	return nil
}

// partialBatchFiller pads a chunk whose file shrank; see writeChunk.
const partialBatchFiller = 0x7f

// splice cuts the encoded response (starting at the correlation id) at each
// marker and returns the pieces to write and the total size on the wire.
// Each marker is preceded by its length prefix (int32 for non-flexible
// versions, uvarint length+1 for flexible ones), which is replaced by the
// chunk's length.
func splice(body []byte, splices []broker.Splice, flexible bool) ([]piece, int64, error) {
	if len(splices) == 0 {
		return []piece{{b: body}}, int64(len(body)), nil
	}
	var pieces []piece
	size := int64(0)
	pos := 0
	for _, sp := range splices {
		i := bytes.Index(body[pos:], sp.Marker)
		if i < 0 {
			return nil, 0, errors.New("server: splice marker not found in response")
		}
		start := pos + i
		prefixLen := 4
		if flexible {
			prefixLen = uvarintLen(uint64(len(sp.Marker)) + 1)
		}
		head := body[pos : start-prefixLen]
		var prefix []byte
		if flexible {
			prefix = binary.AppendUvarint(nil, uint64(sp.Chunk.Len)+1)
		} else {
			prefix = binary.BigEndian.AppendUint32(nil, uint32(sp.Chunk.Len))
		}
		pieces = append(pieces, piece{b: head}, piece{b: prefix}, piece{chunk: sp.Chunk})
		size += int64(len(head)+len(prefix)) + sp.Chunk.Len
		pos = start + len(sp.Marker)
	}
	pieces = append(pieces, piece{b: body[pos:]})
	size += int64(len(body) - pos)
	return pieces, size, nil
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}
