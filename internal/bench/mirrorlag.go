package bench

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// lagStampSize is the length of the produce timestamp that starts every
// value of the latency phase: Unix nanoseconds, big endian.
const lagStampSize = 8

// LagResult holds the latency phase of a Mirror run. Every record the
// source acknowledged ends in exactly one of Measured and Missing.
type LagResult struct {
	Rate         float64
	FetchMaxWait time.Duration
	RecordSize   int // value size, at least the 8-byte timestamp

	Sent   int64 // records handed to the producer
	Acked  int64 // acknowledged by the source
	Errors int64 // failed at the source
	// FirstError is the first produce failure.
	FirstError error
	// Elapsed runs from the first produce to the last acknowledgement.
	Elapsed time.Duration

	// Measured acknowledged records were read at the mirror at the same
	// partition and offset; Missing ones were not before the timeout.
	Measured int64
	Missing  int64
	// Duplicates counts records read more than once (each is measured
	// once), Unexpected records read at the mirror that this phase did not
	// get acknowledged, Mismatched records whose timestamp at the mirror
	// differs from the one produced at that partition and offset.
	Duplicates int64
	Unexpected int64
	Mismatched int64
	// Early counts records read at the mirror before the producer saw
	// their acknowledgement (client scheduling); they count as 0 in
	// AckToMirror.
	Early int64

	// AckToMirror is, per measured record, the time it was read at the
	// mirror minus the time the source's acknowledgement reached the
	// producer: the end-to-end mirroring latency, including up to
	// FetchMaxWait of the reading consumer's own fetch wait.
	AckToMirror *Histogram
	// ProduceToMirror runs from the Produce call (the value's timestamp)
	// to the read at the mirror; ProduceToAck is the source's produce
	// latency.
	ProduceToMirror *Histogram
	ProduceToAck    *Histogram
}

// partOffset identifies a record; a mirror keeps its source's offsets.
type partOffset struct {
	p   int32
	off int64
}

type lagAck struct {
	produced int64 // Unix ns, as written into the value
	at       time.Time
}

type lagRead struct {
	produced int64 // Unix ns, as read from the value
	at       time.Time
}

// lagReader is the consumer of the mirror in the latency phase.
type lagReader struct {
	ready     chan struct{} // closed when the first fetch request is written
	readyOnce sync.Once

	mu         sync.Mutex
	reads      map[partOffset]lagRead
	duplicates int64
	short      int64         // values too short to hold a timestamp
	target     int64         // stop once this many distinct records were read (-1: unknown yet)
	done       chan struct{} // closed once target is reached
	doneOnce   sync.Once
}

// OnBrokerWrite implements kgo.HookBrokerWrite: the first Fetch written
// means the consumer is in place.
func (l *lagReader) OnBrokerWrite(_ kgo.BrokerMetadata, key int16, _ int, _, _ time.Duration, err error) {
	if err == nil && key == kmsg.Fetch.Int16() {
		l.readyOnce.Do(func() { close(l.ready) })
	}
}

// setTarget tells the reader how many distinct records to wait for.
func (l *lagReader) setTarget(n int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.target = n
	l.checkDoneLocked()
}

func (l *lagReader) checkDoneLocked() {
	if l.target >= 0 && int64(len(l.reads)) >= l.target {
		l.doneOnce.Do(func() { close(l.done) })
	}
}

func (l *lagReader) run(ctx context.Context, cl *kgo.Client) {
	for ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		now := time.Now()
		l.mu.Lock()
		fs.EachRecord(func(r *kgo.Record) {
			if r.Attrs.IsControl() {
				return
			}
			k := partOffset{r.Partition, r.Offset}
			if _, ok := l.reads[k]; ok {
				l.duplicates++
				return
			}
			var ts int64
			if len(r.Value) >= lagStampSize {
				ts = int64(binary.BigEndian.Uint64(r.Value))
			} else {
				l.short++
			}
			l.reads[k] = lagRead{produced: ts, at: now}
		})
		l.checkDoneLocked()
		l.mu.Unlock()
	}
}

// measureLag runs the latency phase against a caught-up mirror whose end
// offsets are ends.
func measureLag(ctx context.Context, opts MirrorOptions, mirrorTopic string, ends []int64) (LagResult, error) {
	res := LagResult{
		Rate: opts.LagRate, FetchMaxWait: opts.LagFetchMaxWait, RecordSize: max(opts.RecordSize, lagStampSize),
		AckToMirror: new(Histogram), ProduceToMirror: new(Histogram), ProduceToAck: new(Histogram),
	}
	reader := &lagReader{
		ready: make(chan struct{}), done: make(chan struct{}),
		reads: make(map[partOffset]lagRead, opts.LagRecords), target: -1,
	}
	assign := make(map[int32]kgo.Offset, len(ends))
	for p, e := range ends {
		assign[int32(p)] = kgo.NewOffset().At(e)
	}
	copts := append(baseClientOpts(opts.Brokers, opts.Logger),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{mirrorTopic: assign}),
		kgo.FetchMaxWait(opts.LagFetchMaxWait),
		kgo.WithHooks(reader))
	cons, err := kgo.NewClient(append(copts, opts.ClientOpts...)...)
	if err != nil {
		return res, fmt.Errorf("bench: mirror consumer: %w", err)
	}
	defer cons.Close()
	readCtx, stopReading := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { reader.run(readCtx, cons) })
	// stop ends and joins the reader; calling it again does nothing.
	stop := func() {
		stopReading()
		wg.Wait()
	}
	defer stop()

	// The consumer's first fetch must be out before the first record, or
	// the first records would measure its connection set-up.
	setupCtx, cancelSetup := context.WithTimeout(ctx, opts.LagTimeout)
	select {
	case <-reader.ready:
	case <-setupCtx.Done():
	}
	cancelSetup()
	if ctx.Err() != nil {
		return res, ctx.Err()
	}

	acks, err := produceStamped(ctx, opts, &res)
	if err != nil {
		return res, err
	}
	reader.setTarget(res.Acked)
	wait := time.NewTimer(opts.LagTimeout)
	select {
	case <-reader.done:
	case <-wait.C:
	case <-ctx.Done():
	}
	wait.Stop()
	stop()

	reader.mu.Lock()
	defer reader.mu.Unlock()
	res.Duplicates = reader.duplicates
	for k, a := range acks {
		r, ok := reader.reads[k]
		if !ok {
			res.Missing++
			continue
		}
		res.Measured++
		if r.produced != a.produced {
			res.Mismatched++
		}
		d := r.at.Sub(a.at)
		if d < 0 {
			res.Early++
		}
		res.AckToMirror.Record(d)
		res.ProduceToMirror.Record(r.at.Sub(time.Unix(0, a.produced)))
		res.ProduceToAck.Record(a.at.Sub(time.Unix(0, a.produced)))
	}
	for k := range reader.reads {
		if _, ok := acks[k]; !ok {
			res.Unexpected++
		}
	}
	res.Mismatched += reader.short
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	if res.Missing > 0 || res.Unexpected > 0 || res.Mismatched > 0 {
		return res, fmt.Errorf("%w: latency phase: %d acknowledged records not read at the mirror within %s, %d unexpected, %d with another timestamp",
			ErrMirrorCheck, res.Missing, opts.LagTimeout, res.Unexpected, res.Mismatched)
	}
	return res, nil
}

// produceStamped produces opts.LagRecords timestamped records at
// opts.LagRate and returns each acknowledged record's times by partition
// and offset.
func produceStamped(ctx context.Context, opts MirrorOptions, res *LagResult) (map[partOffset]lagAck, error) {
	copts := append(baseClientOpts(opts.SourceBrokers, opts.Logger),
		kgo.DefaultProduceTopic(opts.Topic),
		kgo.RecordPartitioner(kgo.RoundRobinPartitioner()),
		kgo.ProducerLinger(0),
		kgo.RequiredAcks(kgo.AllISRAcks()))
	cl, err := kgo.NewClient(append(copts, opts.ClientOpts...)...)
	if err != nil {
		return nil, fmt.Errorf("bench: lag producer: %w", err)
	}
	defer cl.Close()

	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		acks     = make(map[partOffset]lagAck, opts.LagRecords)
		firstErr error
		errs     int64
		lastAck  time.Time
	)
	promise := func(r *kgo.Record, err error) {
		now := time.Now()
		defer wg.Done()
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			errs++
			if firstErr == nil {
				firstErr = err
			}
			return
		}
		acks[partOffset{r.Partition, r.Offset}] = lagAck{produced: int64(binary.BigEndian.Uint64(r.Value)), at: now}
		lastAck = now
	}
	tail, _ := payload(res.RecordSize-lagStampSize, 0)
	pace := newPacer(opts.LagRate)
	start := time.Now()
	for i := range opts.LagRecords {
		if pace.wait(ctx, i) != nil {
			break
		}
		v := make([]byte, res.RecordSize)
		copy(v[lagStampSize:], tail)
		now := time.Now()
		binary.BigEndian.PutUint64(v, uint64(now.UnixNano()))
		wg.Add(1)
		cl.Produce(ctx, &kgo.Record{Value: v, Timestamp: now}, promise)
		res.Sent++
	}
	flushErr := cl.Flush(ctx)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	res.Acked, res.Errors, res.FirstError = int64(len(acks)), errs, firstErr
	if !lastAck.IsZero() {
		res.Elapsed = lastAck.Sub(start)
	}
	switch {
	case ctx.Err() != nil:
		return acks, ctx.Err()
	case flushErr != nil:
		return acks, fmt.Errorf("bench: lag producer: %w", flushErr)
	case errs > 0:
		return acks, fmt.Errorf("%w: %d of %d in the latency phase, first: %w", ErrRecordsFailed, errs, res.Sent, firstErr)
	}
	return acks, nil
}

var _ kgo.HookBrokerWrite = (*lagReader)(nil)
