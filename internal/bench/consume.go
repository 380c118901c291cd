package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ConsumeResult holds the measurements of one consume run.
type ConsumeResult struct {
	Topic      string
	Partitions int

	// Records counts data records; control records (transaction markers)
	// are read but not counted.
	Records int64
	// Bytes counts key and value bytes of those records.
	Bytes int64
	// Elapsed runs from the creation of the consuming client to the last
	// record received (to the end of the run if none was).
	Elapsed time.Duration
	// FirstRecord is the time from the creation of the consuming client to
	// the first record, or 0 if none arrived.
	FirstRecord time.Duration
	// Errors counts fetch errors the client reported; FirstError is the
	// first of them. The client retries what is retriable on its own.
	Errors     int64
	FirstError error
	Stopped    StopReason
}

// RecordsPerSec returns records per second of Elapsed.
func (r ConsumeResult) RecordsPerSec() float64 { return perSec(float64(r.Records), r.Elapsed) }

// MBPerSec returns megabytes (10^6 bytes) per second.
func (r ConsumeResult) MBPerSec() float64 { return perSec(float64(r.Bytes)/1e6, r.Elapsed) }

// MiBPerSec returns mebibytes (2^20 bytes) per second.
func (r ConsumeResult) MiBPerSec() float64 { return perSec(float64(r.Bytes)/(1<<20), r.Elapsed) }

// Consume reads opts.Topic from the start of every partition, without a
// consumer group, until opts.Records were read, the partitions' starting
// high watermarks were reached (opts.UntilEnd), opts.Duration elapsed or
// ctx is cancelled, and returns the measurements.
//
// Cancelling ctx ends the run with Stopped set to StopInterrupted and a nil
// error. An error is returned only when the run cannot start.
//
// UntilEnd counts a partition as done when a record at or past its
// starting high watermark minus one arrives. A partition whose last
// offsets hold no record at all (a compacted tail) never gets there; bound
// such runs with Duration.
func Consume(ctx context.Context, opts ConsumeOptions) (ConsumeResult, error) {
	res := ConsumeResult{Topic: opts.Topic}
	if err := opts.Validate(); err != nil {
		return res, err
	}
	ends, err := partitionBounds(ctx, opts)
	if err != nil {
		return res, err
	}
	res.Partitions = len(ends)

	assign := make(map[int32]kgo.Offset, len(ends))
	// pending maps each partition still to be read to the offset of its
	// last record at the start; empty partitions are never pending.
	pending := make(map[int32]int64, len(ends))
	for p, b := range ends {
		assign[p] = kgo.NewOffset().AtStart()
		if b.end > b.start {
			pending[p] = b.end - 1
		}
	}

	copts := baseClientOpts(opts.Brokers, opts.Logger)
	copts = append(copts,
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{opts.Topic: assign}),
		kgo.KeepControlRecords(), // their offsets tell UntilEnd where a partition ends
	)
	if opts.FetchMaxBytes > 0 {
		copts = append(copts, kgo.FetchMaxBytes(opts.FetchMaxBytes))
	}
	if opts.PartitionMaxBytes > 0 {
		copts = append(copts, kgo.FetchMaxPartitionBytes(opts.PartitionMaxBytes))
	}
	copts = append(copts, opts.ClientOpts...)

	pollCtx := ctx
	if opts.Duration > 0 {
		var cancel context.CancelFunc
		pollCtx, cancel = context.WithTimeout(ctx, opts.Duration)
		defer cancel()
	}

	start := time.Now()
	cl, err := kgo.NewClient(copts...)
	if err != nil {
		return res, fmt.Errorf("bench: consume client: %w", err)
	}
	defer cl.Close()

	var last time.Time
	for {
		if opts.Records > 0 && res.Records >= opts.Records {
			res.Stopped = StopRecords
			break
		}
		if opts.UntilEnd && len(pending) == 0 {
			res.Stopped = StopEnd
			break
		}
		if pollCtx.Err() != nil {
			break
		}
		maxPoll := -1
		if opts.Records > 0 {
			maxPoll = int(min(opts.Records-res.Records, math.MaxInt32))
		}
		fs := cl.PollRecords(pollCtx, maxPoll)
		now := time.Now()
		fs.EachError(func(_ string, _ int32, err error) {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
				errors.Is(err, kgo.ErrClientClosed) {
				return
			}
			res.Errors++
			if res.FirstError == nil {
				res.FirstError = err
			}
		})
		fs.EachRecord(func(r *kgo.Record) {
			if lastOff, ok := pending[r.Partition]; ok && r.Offset >= lastOff {
				delete(pending, r.Partition)
			}
			if r.Attrs.IsControl() {
				return
			}
			if res.Records == 0 {
				res.FirstRecord = now.Sub(start)
			}
			res.Records++
			res.Bytes += int64(len(r.Key) + len(r.Value))
			last = now
		})
	}
	if res.Stopped == "" {
		res.Stopped = StopDuration
		if ctx.Err() != nil {
			res.Stopped = StopInterrupted
		}
	}
	end := time.Now()
	if res.Records > 0 {
		end = last
	}
	res.Elapsed = end.Sub(start)
	return res, nil
}

// offsetBounds is a partition's log start offset and high watermark.
type offsetBounds struct{ start, end int64 }

// partitionBounds lists the partitions of opts.Topic with their offsets at
// the start of the run, using a short-lived client that does not consume.
func partitionBounds(ctx context.Context, opts ConsumeOptions) (map[int32]offsetBounds, error) {
	copts := append(baseClientOpts(opts.Brokers, opts.Logger), opts.ClientOpts...)
	cl, err := kgo.NewClient(copts...)
	if err != nil {
		return nil, fmt.Errorf("bench: consume client: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)

	n, err := topicPartitions(ctx, adm, opts.Topic)
	if err != nil {
		return nil, err
	}
	starts, err := adm.ListStartOffsets(ctx, opts.Topic)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("bench: list start offsets of %q: %w", opts.Topic, err)
	}
	ends, err := adm.ListEndOffsets(ctx, opts.Topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("bench: list end offsets of %q: %w", opts.Topic, err)
	}
	bounds := make(map[int32]offsetBounds, n)
	for p := range int32(n) {
		s, okS := starts.Lookup(opts.Topic, p)
		e, okE := ends.Lookup(opts.Topic, p)
		if !okS || !okE {
			return nil, fmt.Errorf("bench: no offsets listed for %s/%d", opts.Topic, p)
		}
		bounds[p] = offsetBounds{start: s.Offset, end: e.Offset}
	}
	return bounds, nil
}
