package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Stop benchmark (`strait bench stop`)
//
// Stop measures how long a cutover takes: Topics source topics of
// Partitions partitions, each holding RecordsPerTopic records (spread
// round-robin over its partitions), are mirrored over one link; once every
// mirror has caught up (destination end offsets equal the source's, and the
// REST API shows every mirror ACTIVE with zero lag), one REST call promotes
// or fails over all of them. Reported:
//
//   - the call's own latency (it returns once every mirror is
//     PENDING_STOPPED; promote checks each mirror first);
//   - the time from the call until a poll of GET .../mirrors?mirror_status=STOPPED
//     (every PollInterval) lists every accepted mirror: overstated by at most
//     one interval plus one round trip; the previous poll's send time is
//     the lower bound;
//   - the same moment as the broker stamped it: the latest state_time_ms
//     (millisecond resolution; meaningful only with the broker on the same
//     clock as the benchmark, as on one machine).
//
// After the stop the destination's end offsets are compared with the
// source's: a stopped mirror must keep everything it copied.

// Stop kinds.
const (
	StopPromote  = "promote"
	StopFailover = "failover"
)

// stopRecordSize is the value size of the few records each topic gets.
const stopRecordSize = 100

// StopOptions configures Stop. Start from DefaultStopOptions.
type StopOptions struct {
	SourceBrokers []string
	Brokers       []string
	URL           string
	Link          string
	CreateLink    bool
	// TopicPrefix names the source topics TopicPrefix-0, TopicPrefix-1, ...;
	// none may exist, nor their mirrors.
	TopicPrefix       string
	Topics            int
	Partitions        int32
	ReplicationFactor int16
	RecordsPerTopic   int
	// Kind is StopPromote or StopFailover.
	Kind string
	// PollInterval is how often mirror states (and, before the stop, end
	// offsets) are polled. Timeout bounds each wait: catch-up and stop.
	PollInterval time.Duration
	Timeout      time.Duration
	// Cleanup deletes the stopped topics at the destination and the
	// source topics at the end.
	Cleanup bool

	Logger     *slog.Logger
	ClientOpts []kgo.Opt
	HTTPClient *http.Client
}

// DefaultStopOptions returns the options `strait bench stop` starts from;
// SourceBrokers must still be set.
func DefaultStopOptions() StopOptions {
	return StopOptions{
		Brokers:           []string{DefaultBootstrapServer},
		URL:               DefaultURL,
		Link:              DefaultLink,
		CreateLink:        true,
		TopicPrefix:       DefaultStopPrefix,
		Topics:            100,
		Partitions:        10,
		ReplicationFactor: -1,
		RecordsPerTopic:   10,
		Kind:              StopPromote,
		PollInterval:      DefaultPollInterval,
		Timeout:           DefaultLinkTimeout,
	}
}

// Validate reports the first invalid option, wrapping ErrInvalidOption.
func (o StopOptions) Validate() error {
	if err := validateLinkTarget(o.SourceBrokers, o.Brokers, o.URL, o.Link); err != nil {
		return err
	}
	switch {
	case o.TopicPrefix == "":
		return invalid("topic-prefix", o.TopicPrefix, "must not be empty")
	case o.Topics < 1:
		return invalid("topics", o.Topics, "must be >= 1")
	case o.Partitions < 1:
		return invalid("partitions", o.Partitions, "must be >= 1")
	case o.ReplicationFactor < -1 || o.ReplicationFactor == 0:
		return invalid("replication-factor", o.ReplicationFactor, "must be -1 or positive")
	case o.RecordsPerTopic < 0:
		return invalid("records-per-topic", o.RecordsPerTopic, "must be >= 0")
	case o.Kind != StopPromote && o.Kind != StopFailover:
		return invalid("kind", o.Kind, "want promote or failover")
	case o.PollInterval <= 0:
		return invalid("poll-interval", o.PollInterval, "must be > 0")
	case o.Timeout <= 0:
		return invalid("timeout", o.Timeout, "must be > 0")
	}
	return nil
}

// StopResult holds the measurements of one Stop run.
type StopResult struct {
	Kind        string
	Link        string
	LinkCreated bool
	LinkConfigs map[string]string
	// Topics are the mirror topics, in call order.
	Topics     []string
	Partitions int   // per topic
	Records    int64 // in all source topics

	// CreateMirrors is the time to create every mirror (one REST call
	// each, in sequence); CatchUp the time from then until every mirror
	// had caught up and showed ACTIVE with zero lag.
	CreateMirrors time.Duration
	CatchUp       time.Duration

	// CallLatency is the promote or failover call's latency.
	CallLatency time.Duration
	// Refused counts mirrors the call refused (FirstRefusal says why);
	// the stop is timed over the accepted ones.
	Refused      int
	FirstRefusal string
	// AllStopped runs from the call to the poll answer that listed every
	// accepted mirror STOPPED; AllStoppedLower is the send time of the
	// poll before it. FirstStopped is the first answer listing any.
	AllStopped      time.Duration
	AllStoppedLower time.Duration
	FirstStopped    time.Duration
	// AllStoppedServer is the latest state_time_ms of the stopped mirrors
	// minus the call's start, at millisecond resolution.
	AllStoppedServer time.Duration
	PollInterval     time.Duration
	Polls            int
	// EndsMatch says the stopped topics' end offsets equal the source's.
	EndsMatch bool

	CleanedUp    bool
	CleanupError error
}

// Stop runs the stop benchmark described at the top of this file. Errors
// wrap ErrInvalidOption, ErrTopicExists, ErrREST, ErrMirrorCheck or the
// Kafka client's and the context's errors; the result holds what was
// measured before the failure.
func Stop(ctx context.Context, opts StopOptions) (res StopResult, err error) {
	res = StopResult{Kind: opts.Kind, Link: opts.Link, Partitions: int(opts.Partitions), PollInterval: opts.PollInterval}
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

	sources := make([]string, opts.Topics)
	for i := range sources {
		sources[i] = fmt.Sprintf("%s-%d", opts.TopicPrefix, i)
	}
	if err := src.ensureAbsent(ctx, "source", sources...); err != nil {
		return res, err
	}
	setup, err := rc.ensureLink(ctx, opts.Link, opts.SourceBrokers, opts.CreateLink)
	if err != nil {
		return res, err
	}
	res.LinkCreated, res.LinkConfigs = setup.Created, setup.Configs
	prefix := setup.Configs["cluster.link.prefix"]
	res.Topics = make([]string, len(sources))
	target := make(map[string][]int64, len(sources))
	for i, s := range sources {
		res.Topics[i] = prefix + s
	}
	if err := dst.ensureAbsent(ctx, "destination", res.Topics...); err != nil {
		return res, err
	}
	if err := src.createTopics(ctx, opts.Partitions, opts.ReplicationFactor, sources...); err != nil {
		return res, err
	}
	if opts.Cleanup {
		defer func() {
			cctx, cancel := cleanupContext(ctx)
			defer cancel()
			res.CleanupError = errors.Join(dst.deleteTopics(cctx, res.Topics...), src.deleteTopics(cctx, sources...))
			res.CleanedUp = res.CleanupError == nil
		}()
	}

	if err := produceFew(ctx, opts, sources); err != nil {
		return res, err
	}
	ends, err := src.offsets(ctx, true, sources...)
	if err != nil {
		return res, err
	}
	for i, s := range sources {
		target[res.Topics[i]] = ends[s]
		for _, e := range ends[s] {
			res.Records += e
		}
	}
	if want := int64(opts.Topics * opts.RecordsPerTopic); res.Records != want {
		return res, fmt.Errorf("%w: the source topics hold %d records, %d were produced", ErrMirrorCheck, res.Records, want)
	}

	start := time.Now()
	for _, s := range sources {
		if err := rc.createMirror(ctx, opts.Link, s); err != nil {
			return res, err
		}
	}
	created := time.Now()
	res.CreateMirrors = created.Sub(start)
	waitCtx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	if _, err := dst.waitCaughtUp(waitCtx, target, opts.PollInterval, created); err != nil {
		return res, err
	}
	if err := waitActive(waitCtx, rc, opts, res.Topics); err != nil {
		return res, err
	}
	res.CatchUp = time.Since(created)

	if err := timeStop(ctx, opts, &res, rc); err != nil {
		return res, err
	}

	got, err := dst.offsets(ctx, true, res.Topics...)
	if err != nil {
		return res, err
	}
	res.EndsMatch = true
	for _, t := range res.Topics {
		if !slices.Equal(got[t], target[t]) {
			res.EndsMatch = false
		}
	}
	if !res.EndsMatch {
		return res, fmt.Errorf("%w: stopped topics' end offsets differ from the source's", ErrMirrorCheck)
	}
	return res, nil
}

// produceFew writes RecordsPerTopic records to each topic, record i to
// partition i mod Partitions.
func produceFew(ctx context.Context, opts StopOptions, topics []string) error {
	if opts.RecordsPerTopic == 0 {
		return nil
	}
	copts := append(baseClientOpts(opts.SourceBrokers, opts.Logger),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.RequiredAcks(kgo.AllISRAcks()))
	cl, err := kgo.NewClient(append(copts, opts.ClientOpts...)...)
	if err != nil {
		return fmt.Errorf("bench: producer: %w", err)
	}
	defer cl.Close()
	value, _ := payload(stopRecordSize, 0)
	rs := make([]*kgo.Record, 0, len(topics)*opts.RecordsPerTopic)
	for _, t := range topics {
		for i := range opts.RecordsPerTopic {
			rs = append(rs, &kgo.Record{Topic: t, Partition: int32(i) % opts.Partitions, Value: value})
		}
	}
	if err := cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
		return fmt.Errorf("bench: produce: %w", err)
	}
	return nil
}

// waitActive polls the REST API until every mirror is ACTIVE with zero lag
// on every partition: what promote requires.
func waitActive(ctx context.Context, rc *restClient, opts StopOptions, topics []string) error {
	tick := time.NewTicker(opts.PollInterval)
	defer tick.Stop()
	var problem string
	for {
		ms, err := rc.listMirrors(ctx, opts.Link, "")
		if err != nil && ctx.Err() == nil {
			return err
		}
		if err == nil {
			problem = activeProblem(ms, topics, int(opts.Partitions))
			if problem == "" {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: mirrors not ACTIVE and caught up: %s: %w", ErrMirrorCheck, problem, ctx.Err())
		case <-tick.C:
		}
	}
}

// activeProblem describes the first of topics that is not ACTIVE with
// every partition at zero lag, or returns "".
func activeProblem(ms []restMirror, topics []string, partitions int) string {
	byName := make(map[string]restMirror, len(ms))
	for _, m := range ms {
		byName[m.MirrorTopicName] = m
	}
	for _, t := range topics {
		m, ok := byName[t]
		switch {
		case !ok:
			return t + " is not listed"
		case m.MirrorStatus != "ACTIVE":
			return fmt.Sprintf("%s is %s (%s)", t, m.MirrorStatus, m.MirrorTopicError)
		case len(m.MirrorLags) != partitions:
			return fmt.Sprintf("%s reports %d partition lags, not %d", t, len(m.MirrorLags), partitions)
		}
		for _, l := range m.MirrorLags {
			if l.Lag != 0 {
				return fmt.Sprintf("%s/%d lags %d", t, l.Partition, l.Lag)
			}
		}
	}
	return ""
}

// timeStop issues the one promote or failover call and polls until every
// accepted mirror is STOPPED.
func timeStop(ctx context.Context, opts StopOptions, res *StopResult, rc *restClient) error {
	t0 := time.Now()
	results, err := rc.alterMirrors(ctx, opts.Link, opts.Kind, res.Topics)
	callEnd := time.Now()
	res.CallLatency = callEnd.Sub(t0)
	if err != nil {
		return err
	}
	pending := make(map[string]bool, len(res.Topics))
	for _, t := range res.Topics {
		pending[t] = true
	}
	for _, r := range results {
		if r.ErrorCode == nil {
			continue
		}
		res.Refused++
		delete(pending, r.MirrorTopicName)
		if res.FirstRefusal == "" {
			msg := ""
			if r.ErrorMessage != nil {
				msg = *r.ErrorMessage
			}
			res.FirstRefusal = fmt.Sprintf("%s: %d %s", r.MirrorTopicName, *r.ErrorCode, msg)
		}
	}
	if len(results) != len(res.Topics) {
		return fmt.Errorf("%w: the %s call answered for %d topics, not %d", ErrMirrorCheck, opts.Kind, len(results), len(res.Topics))
	}
	if len(pending) == 0 {
		return fmt.Errorf("%w: the %s call refused every mirror; first: %s", ErrMirrorCheck, opts.Kind, res.FirstRefusal)
	}

	waitCtx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	tick := time.NewTicker(opts.PollInterval)
	defer tick.Stop()
	// The stop runs asynchronously and may even end before the call
	// returns, so the lower bound starts at the call.
	lower := t0
	var latest int64
	for {
		sent := time.Now()
		ms, err := rc.listMirrors(waitCtx, opts.Link, "STOPPED")
		recv := time.Now()
		res.Polls++
		if err != nil && waitCtx.Err() == nil {
			return err
		}
		seen := 0
		for _, m := range ms {
			if !pending[m.MirrorTopicName] {
				continue
			}
			seen++
			latest = max(latest, m.StateTimeMs)
		}
		if seen > 0 && res.FirstStopped == 0 {
			res.FirstStopped = recv.Sub(t0)
		}
		if seen == len(pending) {
			res.AllStopped, res.AllStoppedLower = recv.Sub(t0), lower.Sub(t0)
			res.AllStoppedServer = time.UnixMilli(latest).Sub(t0)
			return nil
		}
		lower = sent
		select {
		case <-waitCtx.Done():
			ms, _ := rc.listMirrors(ctx, opts.Link, "")
			var states []string
			for _, m := range ms {
				if pending[m.MirrorTopicName] && m.MirrorStatus != "STOPPED" {
					states = append(states, m.MirrorTopicName+"="+m.MirrorStatus)
				}
			}
			return fmt.Errorf("%w: %d of %d mirrors STOPPED after %s; not stopped: %s: %w",
				ErrMirrorCheck, seen, len(pending), opts.Timeout, strings.Join(states, ", "), waitCtx.Err())
		case <-tick.C:
		}
	}
}
