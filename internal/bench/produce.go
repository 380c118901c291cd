package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// StopReason says why a run ended.
type StopReason string

// Stop reasons.
const (
	StopRecords     StopReason = "records"     // the record count was reached
	StopDuration    StopReason = "duration"    // the duration elapsed
	StopEnd         StopReason = "end"         // consume: every partition reached its starting high watermark
	StopInterrupted StopReason = "interrupted" // the context was cancelled
)

// distinctKeys is how many different keys a run with KeySize > 0 cycles
// through.
const distinctKeys = 1024

// maxOutstanding bounds the records handed to the client and not yet
// acknowledged; it is the client's default buffer size. The run enforces it
// itself, and gives the client room for twice as many, because a Produce
// call blocked on the client's own limit could only be interrupted through
// its context, and the client also fails buffered records when that context
// ends.
const maxOutstanding = 50_000

// ProduceResult holds the measurements of one produce run.
type ProduceResult struct {
	Topic      string
	Partitions int  // partition count of the topic
	Created    bool // whether this run created the topic

	Sent    int64 // records handed to the client
	Acked   int64 // records the broker acknowledged
	Errors  int64 // records the broker or client rejected
	Aborted int64 // records failed because the run was stopped before their ack
	// FirstError is the first error among Errors, or nil.
	FirstError error
	// Bytes counts key and value bytes of acknowledged records; record
	// and batch framing are not included.
	Bytes int64
	// Elapsed runs from the first Produce call to the last acknowledgement
	// (to the end of the run if nothing was acknowledged).
	Elapsed time.Duration
	// Latency holds, for every acknowledged record, the time from the
	// Produce call to its acknowledgement. Without Rate, the producer
	// keeps the client's buffer full, so this is dominated by queueing
	// in that buffer.
	Latency *Histogram
	Stopped StopReason
}

// RecordsPerSec returns acknowledged records per second of Elapsed.
func (r ProduceResult) RecordsPerSec() float64 { return perSec(float64(r.Acked), r.Elapsed) }

// MBPerSec returns acknowledged megabytes (10^6 bytes) per second.
func (r ProduceResult) MBPerSec() float64 { return perSec(float64(r.Bytes)/1e6, r.Elapsed) }

// MiBPerSec returns acknowledged mebibytes (2^20 bytes) per second.
func (r ProduceResult) MiBPerSec() float64 { return perSec(float64(r.Bytes)/(1<<20), r.Elapsed) }

func perSec(v float64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return v / d.Seconds()
}

// Produce writes records to opts.Topic until opts.Records were sent,
// opts.Duration elapsed or ctx is cancelled, waits for their
// acknowledgements and returns the measurements.
//
// Cancelling ctx is an expected way to end a run: Produce then stops
// sending, waits up to opts.DrainTimeout for outstanding acknowledgements
// and returns the result with Stopped set to StopInterrupted and a nil
// error. An error is returned when the run cannot start (invalid options,
// unreachable cluster, missing topic), and ErrRecordsFailed, together with
// the full result, when any record was rejected.
func Produce(ctx context.Context, opts ProduceOptions) (ProduceResult, error) {
	res := ProduceResult{Topic: opts.Topic, Latency: new(Histogram)}
	if err := opts.Validate(); err != nil {
		return res, err
	}
	acks, _ := parseAcks(opts.Acks)
	codec, _ := parseCompression(opts.Compression)

	copts := baseClientOpts(opts.Brokers, opts.Logger)
	copts = append(copts,
		kgo.RequiredAcks(acks),
		kgo.ProducerBatchCompression(codec),
		kgo.MaxBufferedRecords(2*maxOutstanding),
	)
	if !opts.Idempotent {
		copts = append(copts, kgo.DisableIdempotentWrite())
	}
	if opts.Linger >= 0 {
		copts = append(copts, kgo.ProducerLinger(opts.Linger))
	}
	if opts.BatchMaxBytes > 0 {
		copts = append(copts, kgo.ProducerBatchMaxBytes(opts.BatchMaxBytes))
	}
	if opts.MaxInflight > 0 {
		copts = append(copts, kgo.MaxProduceRequestsInflightPerBroker(opts.MaxInflight))
	}
	copts = append(copts, opts.ClientOpts...)
	cl, err := kgo.NewClient(copts...)
	if err != nil {
		return res, fmt.Errorf("bench: produce client: %w", err)
	}
	res.Partitions, res.Created, err = ensureTopic(ctx, kadm.NewClient(cl), opts)
	if err != nil {
		cl.Close()
		return res, err
	}

	run := &produceRun{lat: res.Latency, slots: make(chan struct{}, maxOutstanding)}
	value, keys := payload(opts.RecordSize, opts.KeySize)
	// Records are produced under a context the run's end does not reach:
	// stopping the run stops sending, it must not fail records already
	// buffered (Close does that once the drain is over).
	recCtx := context.WithoutCancel(ctx)
	sendCtx := ctx
	if opts.Duration > 0 {
		var cancel context.CancelFunc
		sendCtx, cancel = context.WithTimeout(ctx, opts.Duration)
		defer cancel()
	}
	var pace *pacer
	if opts.Rate > 0 {
		pace = newPacer(opts.Rate)
	}

	start := time.Now()
send:
	for opts.Records == 0 || res.Sent < opts.Records {
		if sendCtx.Err() != nil {
			break
		}
		if pace != nil && pace.wait(sendCtx, res.Sent) != nil {
			break
		}
		select {
		case run.slots <- struct{}{}:
		case <-sendCtx.Done():
			break send
		}
		r := &kgo.Record{Topic: opts.Topic, Value: value}
		if keys != nil {
			r.Key = keys[res.Sent%int64(len(keys))]
		}
		// The timestamp is taken before Produce so that latency includes
		// any time Produce spends; the promise subtracts it.
		r.Timestamp = time.Now()
		run.wg.Add(1)
		cl.Produce(recCtx, r, run.promise)
		res.Sent++
	}
	switch {
	case ctx.Err() != nil:
		res.Stopped = StopInterrupted
	case sendCtx.Err() != nil:
		res.Stopped = StopDuration
	default:
		res.Stopped = StopRecords
	}

	flushed := drain(ctx, cl, opts.DrainTimeout)
	if ctx.Err() != nil {
		res.Stopped = StopInterrupted
	}
	// Close fails whatever the drain left buffered; every promise has run
	// once the wait group is done.
	cl.Close()
	run.wg.Wait()
	end := flushed

	run.mu.Lock()
	defer run.mu.Unlock()
	res.Acked, res.Errors, res.Aborted = run.acked, run.errors, run.aborted
	res.Bytes, res.FirstError = run.bytes, run.firstErr
	if run.acked > 0 {
		end = run.lastAck
	}
	res.Elapsed = end.Sub(start)
	if res.Errors > 0 {
		return res, fmt.Errorf("%w: %d of %d, first: %w", ErrRecordsFailed, res.Errors, res.Sent, res.FirstError)
	}
	return res, nil
}

// drain waits for the client to flush. Once ctx is cancelled it waits at
// most grace longer. It returns when the wait ended.
func drain(ctx context.Context, cl *kgo.Client, grace time.Duration) time.Time {
	flushCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = cl.Flush(flushCtx) // its only error is flushCtx's, which we cause
	}()
	select {
	case <-done:
		return time.Now()
	case <-ctx.Done():
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		cancel()
		<-done
	}
	return time.Now()
}

// produceRun collects the outcome of every record. The client calls
// promise serially, but the final read happens on another goroutine.
type produceRun struct {
	wg    sync.WaitGroup // one per record handed to the client
	slots chan struct{}  // one per record not yet acknowledged, up to maxOutstanding

	mu       sync.Mutex
	lat      *Histogram
	acked    int64
	errors   int64
	aborted  int64
	bytes    int64
	firstErr error
	lastAck  time.Time
}

func (p *produceRun) promise(r *kgo.Record, err error) {
	now := time.Now()
	p.mu.Lock()
	switch {
	case err == nil:
		p.acked++
		p.bytes += int64(len(r.Key) + len(r.Value))
		p.lat.Record(now.Sub(r.Timestamp))
		p.lastAck = now
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, kgo.ErrClientClosed), errors.Is(err, kgo.ErrAborting):
		p.aborted++
	default:
		p.errors++
		if p.firstErr == nil {
			p.firstErr = err
		}
	}
	p.mu.Unlock()
	<-p.slots
	p.wg.Done()
}

// payload returns the value every record shares and, if keySize is
// positive, distinctKeys random keys. Generating them once keeps the
// producer loop free of per-record work.
func payload(valueSize, keySize int) (value []byte, keys [][]byte) {
	rng := rand.NewChaCha8([32]byte{'s', 't', 'r', 'a', 'i', 't'})
	value = make([]byte, valueSize)
	_, _ = rng.Read(value) // ChaCha8.Read never fails
	if keySize <= 0 {
		return value, nil
	}
	keys = make([][]byte, distinctKeys)
	for i := range keys {
		keys[i] = make([]byte, keySize)
		_, _ = rng.Read(keys[i])
	}
	return value, keys
}

// ensureTopic returns the partition count of opts.Topic, creating the topic
// first if it is missing and opts.Partitions allows.
func ensureTopic(ctx context.Context, adm *kadm.Client, opts ProduceOptions) (partitions int, created bool, err error) {
	n, err := topicPartitions(ctx, adm, opts.Topic)
	if err == nil || !errors.Is(err, ErrTopicNotFound) || opts.Partitions == 0 {
		return n, false, err
	}
	_, err = adm.CreateTopic(ctx, opts.Partitions, opts.ReplicationFactor, nil, opts.Topic)
	switch {
	case err == nil:
		return int(opts.Partitions), true, nil
	case errors.Is(err, kerr.TopicAlreadyExists): // lost a race with another creator
		n, err = topicPartitions(ctx, adm, opts.Topic)
		return n, false, err
	}
	return 0, false, fmt.Errorf("bench: create topic %q: %w", opts.Topic, err)
}

// topicPartitions returns the partition count of topic, or an error
// wrapping ErrTopicNotFound.
func topicPartitions(ctx context.Context, adm *kadm.Client, topic string) (int, error) {
	topics, err := adm.ListTopics(ctx, topic)
	if err != nil {
		return 0, fmt.Errorf("bench: describe topic %q: %w", topic, err)
	}
	d, ok := topics[topic]
	switch {
	case !ok || errors.Is(d.Err, kerr.UnknownTopicOrPartition):
		return 0, fmt.Errorf("%w: %q", ErrTopicNotFound, topic)
	case d.Err != nil:
		return 0, fmt.Errorf("bench: describe topic %q: %w", topic, d.Err)
	}
	return len(d.Partitions), nil
}

// pacer spaces sends on a fixed schedule: send i is due at start + i/rate.
type pacer struct {
	start    time.Time
	interval float64 // nanoseconds per record
}

func newPacer(rate float64) *pacer {
	return &pacer{start: time.Now(), interval: float64(time.Second) / rate}
}

// wait blocks until send i is due. Being up to a millisecond early is
// allowed, so high rates go out in small bursts instead of paying for a
// timer per record.
func (p *pacer) wait(ctx context.Context, i int64) error {
	due := p.start.Add(time.Duration(float64(i) * p.interval))
	d := time.Until(due)
	if d < time.Millisecond {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
