package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Mirror benchmark (`strait bench mirror`)
//
// Mirror measures a cluster link between two clusters: how fast a new
// mirror topic copies an existing source topic, compared with a plain
// consumer reading the same topic at the same time, and then how long a
// record takes from its acknowledgement at the source to being readable at
// the mirror.
//
//	source cluster                          destination cluster
//	  topic T  --(link L, REST-created)-->    mirror topic prefix+T
//	     ^  \                                      |
//	  Produce \-- raw consumer (throughput)        +-- catch-up poll (ListOffsets)
//	  (load, then timestamped)                     +-- lag consumer (latency)
//
// Phases:
//
//  1. Setup, not measured: the REST client learns the cluster ID, the
//     source topic is created (it must not exist), the link is reused or
//     created with metadata.max.age.ms=1000 and replica.fetch.wait.max.ms=100,
//     and Records records are produced with Produce. The source's end
//     offsets after the load are the targets.
//  2. Throughput: at t0 a raw consumer (direct partition assignment from the
//     log start, one client) starts, and the mirror is created through
//     REST. Both clocks start at t0 and both include their own setup (the
//     REST call and the link's metadata refresh for the mirror, connecting
//     for the consumer). The mirror is done at the first answer of a
//     ListOffsets poll of the destination (every PollInterval) showing every
//     partition's end offset equal to its target; the consumer is done at
//     the poll that returned the last target offset. The mirror's time is
//     thus overstated by at most one poll interval plus one round trip; the
//     previous poll's send time is a lower bound and is reported too. Both
//     read the same source broker at once and share its CPU.
//  3. Lag: with the mirror caught up, a consumer of the mirror topic starts
//     at the current end offsets (FetchMaxWait LagFetchMaxWait) and, once
//     its first fetch is out, LagRecords records are produced at LagRate,
//     each value starting with the produce time (Unix nanoseconds, big
//     endian). The acknowledgement time of each record is kept by partition
//     and offset; since a mirror keeps offsets, the record read at the same
//     partition and offset at the destination is the same record, and its
//     read time minus its ack time is the end-to-end latency. The consumer's
//     own fetch wait adds up to LagFetchMaxWait to it.
//  4. Cleanup, if asked: the mirror topic and the source topic are
//     deleted; the link is kept.

// MirrorOptions configures Mirror. Start from DefaultMirrorOptions.
type MirrorOptions struct {
	// SourceBrokers are the source cluster's bootstrap servers; the link is
	// created towards them. Brokers are the destination's.
	SourceBrokers []string
	Brokers       []string
	// URL is the destination's HTTP listener (REST API v3 below /kafka/v3).
	URL string
	// Link is the cluster link's name. CreateLink creates it if missing;
	// an existing link is reused as it is.
	Link       string
	CreateLink bool
	// Topic is the source topic to create; the mirror is the link's prefix
	// plus Topic. Neither may exist.
	Topic             string
	Partitions        int32
	ReplicationFactor int16
	// Records of RecordSize bytes are produced to the source before the
	// mirror is created, at Rate records per second (0: unlimited).
	Records    int64
	RecordSize int
	Rate       float64
	// PollInterval is how often the destination's end offsets are listed
	// while the mirror catches up.
	PollInterval time.Duration
	// Timeout bounds the catch-up (and the producing before it).
	Timeout time.Duration

	// LagRecords records are produced at LagRate per second for the
	// latency phase (0 skips it). The consumer of the mirror uses
	// LagFetchMaxWait; LagTimeout bounds the wait for the last records
	// after the last acknowledgement.
	LagRecords      int64
	LagRate         float64
	LagFetchMaxWait time.Duration
	LagTimeout      time.Duration

	// Cleanup deletes the mirror and source topics at the end.
	Cleanup bool

	// Logger receives the Kafka clients' log; nil discards it.
	Logger *slog.Logger
	// ClientOpts are appended to every Kafka client's options (both
	// clusters); HTTPClient, if set, is used for the REST API.
	ClientOpts []kgo.Opt
	HTTPClient *http.Client
}

// DefaultMirrorOptions returns the options `strait bench mirror` starts
// from; SourceBrokers must still be set.
func DefaultMirrorOptions() MirrorOptions {
	return MirrorOptions{
		Brokers:           []string{DefaultBootstrapServer},
		URL:               DefaultURL,
		Link:              DefaultLink,
		CreateLink:        true,
		Topic:             DefaultMirrorTopic,
		Partitions:        DefaultPartitions,
		ReplicationFactor: -1,
		Records:           500_000,
		RecordSize:        DefaultRecordSize,
		PollInterval:      DefaultPollInterval,
		Timeout:           DefaultLinkTimeout,
		LagRecords:        DefaultLagRecords,
		LagRate:           DefaultLagRate,
		LagFetchMaxWait:   DefaultLagFetchWait,
		LagTimeout:        DefaultLagTimeout,
	}
}

// Validate reports the first invalid option, wrapping ErrInvalidOption.
func (o MirrorOptions) Validate() error {
	if err := validateLinkTarget(o.SourceBrokers, o.Brokers, o.URL, o.Link); err != nil {
		return err
	}
	switch {
	case o.Topic == "":
		return invalid("topic", o.Topic, "must not be empty")
	case o.Partitions < 1:
		return invalid("partitions", o.Partitions, "must be >= 1")
	case o.ReplicationFactor < -1 || o.ReplicationFactor == 0:
		return invalid("replication-factor", o.ReplicationFactor, "must be -1 or positive")
	case o.Records < 1:
		return invalid("records", o.Records, "must be >= 1")
	case o.RecordSize < 0:
		return invalid("record-size", o.RecordSize, "must be >= 0")
	case o.Rate < 0:
		return invalid("rate", o.Rate, "must be >= 0")
	case o.PollInterval <= 0:
		return invalid("poll-interval", o.PollInterval, "must be > 0")
	case o.Timeout <= 0:
		return invalid("timeout", o.Timeout, "must be > 0")
	case o.LagRecords < 0:
		return invalid("lag-records", o.LagRecords, "must be >= 0")
	case o.LagRecords > 0 && o.LagRate <= 0:
		return invalid("lag-rate", o.LagRate, "must be > 0: latency is measured at a fixed rate")
	case o.LagFetchMaxWait <= 0:
		return invalid("lag-fetch-max-wait", o.LagFetchMaxWait, "must be > 0")
	case o.LagTimeout <= 0:
		return invalid("lag-timeout", o.LagTimeout, "must be > 0")
	}
	return nil
}

// MirrorResult holds the measurements of one Mirror run.
type MirrorResult struct {
	Link        string
	LinkCreated bool
	// LinkConfigs are the link's configs that shape the numbers.
	LinkConfigs map[string]string
	SourceTopic string
	MirrorTopic string
	Partitions  int

	// Load is the produce run that filled the source topic.
	Load ProduceResult
	// SourceEnds are the source's end offsets after the load, per
	// partition: the mirror's targets. Records and Bytes are what the
	// mirror and the raw consumer had to copy (key and value bytes).
	SourceEnds []int64
	Records    int64
	Bytes      int64

	// CreateCall is the latency of the REST call creating the mirror.
	CreateCall time.Duration
	// MirrorElapsed runs from t0 to the poll answer that showed the mirror
	// caught up; MirrorLower is the send time of the poll before it, so
	// the catch-up happened in (MirrorLower, MirrorElapsed].
	MirrorElapsed time.Duration
	MirrorLower   time.Duration
	// MirrorFirstData is when a poll first saw mirrored data.
	MirrorFirstData time.Duration
	PollInterval    time.Duration
	Polls           int

	// Raw is the consumer that read the source alongside the mirror; its
	// Elapsed and FirstRecord run from t0 too.
	Raw ConsumeResult

	// Lag is the latency phase; nil when it was skipped.
	Lag *LagResult

	// CleanedUp says the topics were deleted; CleanupError why not.
	CleanedUp    bool
	CleanupError error
}

// MirrorRecordsPerSec is the mirror's copy rate (to MirrorElapsed).
func (r MirrorResult) MirrorRecordsPerSec() float64 {
	return perSec(float64(r.Records), r.MirrorElapsed)
}

// MirrorMBPerSec is the mirror's copy rate in 10^6 bytes per second.
func (r MirrorResult) MirrorMBPerSec() float64 { return perSec(float64(r.Bytes)/1e6, r.MirrorElapsed) }

// MirrorMBPerSecUpper is the rate if the catch-up happened right after the
// previous poll: the best the poll interval cannot rule out. It is 0 (no
// bound) when the mirror had caught up by the first poll.
func (r MirrorResult) MirrorMBPerSecUpper() float64 {
	return perSec(float64(r.Bytes)/1e6, r.MirrorLower)
}

// Ratio is the mirror's MB/s over the raw consumer's (0 if unknown).
func (r MirrorResult) Ratio() float64 {
	raw := r.Raw.MBPerSec()
	if raw == 0 {
		return 0
	}
	return r.MirrorMBPerSec() / raw
}

// Mirror runs the mirror benchmark described at the top of this file.
// Errors wrap ErrInvalidOption, ErrTopicExists, ErrREST, ErrMirrorCheck,
// ErrRecordsFailed or the Kafka client's and the context's errors; the
// result holds what was measured before the failure.
func Mirror(ctx context.Context, opts MirrorOptions) (res MirrorResult, err error) {
	res = MirrorResult{Link: opts.Link, SourceTopic: opts.Topic, PollInterval: opts.PollInterval}
	if err := opts.Validate(); err != nil {
		return res, err
	}
	rc, err := newRESTClient(ctx, opts.HTTPClient, opts.URL)
	if err != nil {
		return res, err
	}
	src, err := newAdmin(opts.SourceBrokers, opts.Logger, opts.ClientOpts)
	if err != nil {
		return res, err
	}
	defer src.close()
	dst, err := newAdmin(opts.Brokers, opts.Logger, opts.ClientOpts)
	if err != nil {
		return res, err
	}
	defer dst.close()

	if err := src.ensureAbsent(ctx, "source", opts.Topic); err != nil {
		return res, err
	}
	setup, err := rc.ensureLink(ctx, opts.Link, opts.SourceBrokers, opts.CreateLink)
	if err != nil {
		return res, err
	}
	res.LinkCreated, res.LinkConfigs = setup.Created, setup.Configs
	res.MirrorTopic = setup.Configs["cluster.link.prefix"] + opts.Topic
	if err := dst.ensureAbsent(ctx, "destination", res.MirrorTopic); err != nil {
		return res, err
	}
	if err := src.createTopics(ctx, opts.Partitions, opts.ReplicationFactor, opts.Topic); err != nil {
		return res, err
	}
	if opts.Cleanup {
		defer func() {
			cctx, cancel := cleanupContext(ctx)
			defer cancel()
			res.CleanupError = errors.Join(dst.deleteTopics(cctx, res.MirrorTopic), src.deleteTopics(cctx, opts.Topic))
			res.CleanedUp = res.CleanupError == nil
		}()
	}

	runCtx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	if err := mirrorLoad(runCtx, opts, &res, src); err != nil {
		return res, err
	}
	if err := mirrorThroughput(runCtx, opts, &res, rc, dst); err != nil {
		return res, err
	}
	if opts.LagRecords > 0 {
		lag, err := measureLag(ctx, opts, res.MirrorTopic, res.SourceEnds)
		res.Lag = &lag
		if err != nil {
			return res, err
		}
	}
	return res, nil
}

// mirrorLoad fills the source topic and sets the targets.
func mirrorLoad(ctx context.Context, opts MirrorOptions, res *MirrorResult, src admin) error {
	po := DefaultProduceOptions()
	po.Brokers, po.Topic, po.Partitions = opts.SourceBrokers, opts.Topic, 0
	po.Records, po.RecordSize, po.Rate = opts.Records, opts.RecordSize, opts.Rate
	po.Logger, po.ClientOpts = opts.Logger, opts.ClientOpts
	pr, err := Produce(ctx, po)
	res.Load = pr
	if err != nil {
		return err
	}
	if pr.Stopped != StopRecords || pr.Acked != opts.Records {
		return fmt.Errorf("%w: the load phase stopped by %s with %d of %d records acknowledged", ErrMirrorCheck, pr.Stopped, pr.Acked, opts.Records)
	}
	starts, err := src.offsets(ctx, false, opts.Topic)
	if err != nil {
		return err
	}
	ends, err := src.offsets(ctx, true, opts.Topic)
	if err != nil {
		return err
	}
	res.SourceEnds = ends[opts.Topic]
	res.Partitions = len(res.SourceEnds)
	var n int64
	for p, e := range res.SourceEnds {
		if s := starts[opts.Topic][p]; s != 0 {
			return fmt.Errorf("%w: source partition %d starts at %d, not 0", ErrMirrorCheck, p, s)
		}
		n += e
	}
	if n != pr.Acked {
		return fmt.Errorf("%w: the source topic holds %d records, the load produced %d", ErrMirrorCheck, n, pr.Acked)
	}
	res.Records, res.Bytes = n, pr.Bytes
	return nil
}

// mirrorThroughput creates the mirror and runs the raw consumer alongside,
// both from t0.
func mirrorThroughput(ctx context.Context, opts MirrorOptions, res *MirrorResult, rc *restClient, dst admin) error {
	// Warm the poller's connection: it measures, it is not measured.
	if _, err := dst.adm.BrokerMetadata(ctx); err != nil {
		return fmt.Errorf("bench: destination metadata: %w", err)
	}
	consCtx, stopConsumer := context.WithCancel(ctx)
	defer stopConsumer()
	var (
		wg      sync.WaitGroup
		raw     ConsumeResult
		consErr error
	)
	t0 := time.Now()
	wg.Go(func() {
		raw, consErr = consumeRange(consCtx, opts.SourceBrokers, opts.Topic, nil, res.SourceEnds, t0, opts.Logger, opts.ClientOpts)
	})
	err := rc.createMirror(ctx, opts.Link, opts.Topic)
	res.CreateCall = time.Since(t0)
	var cu catchUp
	if err == nil {
		cu, err = dst.waitCaughtUp(ctx, map[string][]int64{res.MirrorTopic: res.SourceEnds}, opts.PollInterval, t0)
		res.Polls = cu.Polls
	}
	if err != nil {
		stopConsumer()
	}
	wg.Wait()
	res.Raw = raw
	if err != nil {
		return err
	}
	res.MirrorElapsed, res.MirrorLower = cu.Done.Sub(t0), cu.Lower.Sub(t0)
	if !cu.FirstData.IsZero() {
		res.MirrorFirstData = cu.FirstData.Sub(t0)
	}
	if consErr != nil {
		return consErr
	}
	if raw.Stopped != StopEnd || raw.Records != res.Records {
		return fmt.Errorf("%w: the raw consumer stopped by %s after %d of %d records", ErrMirrorCheck, raw.Stopped, raw.Records, res.Records)
	}
	return nil
}

// consumeRange reads topic from starts (nil: offset 0) up to ends with
// one client and direct partition assignment, timing from t0. It stops
// with StopEnd when every partition has returned the record before its
// end, or with StopInterrupted when ctx ends.
func consumeRange(ctx context.Context, brokers []string, topic string, starts, ends []int64, t0 time.Time, lg *slog.Logger, extra []kgo.Opt) (ConsumeResult, error) {
	res := ConsumeResult{Topic: topic, Partitions: len(ends)}
	assign := make(map[int32]kgo.Offset, len(ends))
	pending := make(map[int32]int64, len(ends))
	for p, e := range ends {
		var s int64
		if starts != nil {
			s = starts[p]
		}
		assign[int32(p)] = kgo.NewOffset().At(s)
		if e > s {
			pending[int32(p)] = e - 1
		}
	}
	copts := append(baseClientOpts(brokers, lg),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: assign}),
		kgo.KeepControlRecords())
	cl, err := kgo.NewClient(append(copts, extra...)...)
	if err != nil {
		return res, fmt.Errorf("bench: consume client: %w", err)
	}
	defer cl.Close()
	var last time.Time
	for len(pending) > 0 && ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		now := time.Now()
		fs.EachError(func(_ string, _ int32, err error) {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, kgo.ErrClientClosed) {
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
				res.FirstRecord = now.Sub(t0)
			}
			res.Records++
			res.Bytes += int64(len(r.Key) + len(r.Value))
			last = now
		})
	}
	res.Stopped = StopEnd
	if len(pending) > 0 {
		res.Stopped = StopInterrupted
	}
	if last.IsZero() {
		last = time.Now()
	}
	res.Elapsed = last.Sub(t0)
	return res, nil
}
