package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// This file holds what `bench mirror` and `bench stop` share: their
// sentinel errors, Kafka admin clients for both clusters, and the wait for
// mirror topics to catch up with their sources.

// Sentinel errors of the link benchmarks.
var (
	// ErrREST reports an error answer of, or a failure to reach, the
	// destination's REST API; the message has the method, path, status and
	// the API's error message.
	ErrREST = errors.New("bench: REST API error")
	// ErrTopicExists reports that a topic the run would create already
	// exists; the link benchmarks never write into or measure old topics.
	ErrTopicExists = errors.New("bench: topic already exists")
	// ErrMirrorCheck reports that a consistency check of a mirror
	// benchmark failed: a mirror went past its source's end offsets, did not
	// catch up in time, or did not stop.
	ErrMirrorCheck = errors.New("bench: mirror check failed")
)

// Defaults of the link benchmarks.
const (
	DefaultURL           = "http://127.0.0.1:8090"
	DefaultLink          = "strait-bench-link"
	DefaultMirrorTopic   = "strait-bench-mirror"
	DefaultStopPrefix    = "strait-bench-stop"
	DefaultPollInterval  = 10 * time.Millisecond
	DefaultLinkTimeout   = 10 * time.Minute
	DefaultLagRecords    = 20_000
	DefaultLagRate       = 2000
	DefaultLagFetchWait  = 10 * time.Millisecond
	DefaultLagTimeout    = 30 * time.Second
	DefaultCleanupBudget = 2 * time.Minute
)

// admin is a Kafka client with its admin wrapper.
type admin struct {
	cl  *kgo.Client
	adm *kadm.Client
}

func newAdmin(brokers []string, lg *slog.Logger, extra []kgo.Opt) (admin, error) {
	cl, err := kgo.NewClient(append(baseClientOpts(brokers, lg), extra...)...)
	if err != nil {
		return admin{}, fmt.Errorf("bench: admin client: %w", err)
	}
	return admin{cl: cl, adm: kadm.NewClient(cl)}, nil
}

func (a admin) close() {
	if a.cl != nil {
		a.cl.Close()
	}
}

// ensureAbsent returns ErrTopicExists if any of topics exists.
func (a admin) ensureAbsent(ctx context.Context, where string, topics ...string) error {
	td, err := a.adm.ListTopics(ctx, topics...)
	// The client caches "unknown topic" answers for a while; the run is
	// about to create these topics and must not be told they are missing.
	a.cl.PurgeTopicsFromClient(topics...)
	if err != nil {
		return fmt.Errorf("bench: list topics on the %s: %w", where, err)
	}
	var found []string
	for _, t := range topics {
		if d, ok := td[t]; ok && d.Err == nil {
			found = append(found, t)
		}
	}
	if len(found) > 0 {
		more := ""
		if len(found) > 3 {
			more = fmt.Sprintf(" and %d more", len(found)-3)
			found = found[:3]
		}
		return fmt.Errorf("%w on the %s: %s%s (delete it, pick another name, or run with --cleanup next time)",
			ErrTopicExists, where, strings.Join(found, ", "), more)
	}
	return nil
}

// createTopics creates topics with partitions partitions each.
func (a admin) createTopics(ctx context.Context, partitions int32, rf int16, topics ...string) error {
	res, err := a.adm.CreateTopics(ctx, partitions, rf, nil, topics...)
	if err != nil {
		return fmt.Errorf("bench: create topics: %w", err)
	}
	for _, t := range topics {
		r, ok := res[t]
		switch {
		case !ok:
			return fmt.Errorf("bench: create topic %q: no answer", t)
		case errors.Is(r.Err, kerr.TopicAlreadyExists):
			return fmt.Errorf("%w on the source: %s", ErrTopicExists, t)
		case r.Err != nil:
			return fmt.Errorf("bench: create topic %q: %w", t, r.Err)
		}
	}
	return nil
}

// deleteTopics deletes topics, reporting the first failure.
func (a admin) deleteTopics(ctx context.Context, topics ...string) error {
	res, err := a.adm.DeleteTopics(ctx, topics...)
	if err != nil {
		return fmt.Errorf("bench: delete topics: %w", err)
	}
	for _, t := range topics {
		if r, ok := res[t]; ok && r.Err != nil && !errors.Is(r.Err, kerr.UnknownTopicOrPartition) {
			return fmt.Errorf("bench: delete topic %q: %w", t, r.Err)
		}
	}
	return nil
}

// offsets lists the start or end offsets of every partition of topics, as
// a slice per topic indexed by partition. Any error fails the call.
func (a admin) offsets(ctx context.Context, end bool, topics ...string) (map[string][]int64, error) {
	list, what := a.adm.ListStartOffsets, "start"
	if end {
		list, what = a.adm.ListEndOffsets, "end"
	}
	lo, err := list(ctx, topics...)
	if err == nil {
		err = lo.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("bench: list %s offsets: %w", what, err)
	}
	return offsetSlices(lo, topics)
}

func offsetSlices(lo kadm.ListedOffsets, topics []string) (map[string][]int64, error) {
	out := make(map[string][]int64, len(topics))
	for _, t := range topics {
		ps := lo[t]
		if len(ps) == 0 {
			return nil, fmt.Errorf("bench: no offsets listed for %q", t)
		}
		s := make([]int64, len(ps))
		for p, o := range ps {
			if p < 0 || int(p) >= len(s) {
				return nil, fmt.Errorf("bench: partition %d of %q out of range", p, t)
			}
			s[p] = o.Offset
		}
		out[t] = s
	}
	return out, nil
}

// catchUp is how a wait for mirrors to reach their targets went. Times are
// local; Done and Lower bracket the moment the last partition got there.
type catchUp struct {
	// Done is when the answer that showed every target reached arrived.
	Done time.Time
	// Lower is when the previous poll, which still saw a partition short
	// of its target, was sent: the catch-up happened after it.
	Lower time.Time
	// FirstData is when a poll first saw a mirror end offset above zero.
	FirstData time.Time
	Polls     int
}

// waitCaughtUp polls the destination's end offsets of the topics in target
// every interval until each partition's equals its target, and fails with
// ErrMirrorCheck if one goes past it. A topic the destination does not
// know yet counts as not caught up. from is when the measured interval
// started; it is the Lower bound if the first poll already succeeds.
func (a admin) waitCaughtUp(ctx context.Context, target map[string][]int64, interval time.Duration, from time.Time) (catchUp, error) {
	topics := slices.Sorted(maps.Keys(target))
	c := catchUp{Lower: from}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var lastProblem string
	for {
		sent := time.Now()
		lo, err := a.adm.ListEndOffsets(ctx, topics...)
		recv := time.Now()
		c.Polls++
		if err != nil {
			if ctx.Err() != nil {
				return c, fmt.Errorf("%w: mirrors not caught up (%s): %w", ErrMirrorCheck, lastProblem, ctx.Err())
			}
			lastProblem = err.Error()
		} else {
			done, problem, unknown, err := compareEnds(lo, target, topics)
			if err != nil {
				return c, err
			}
			if unknown {
				// Ask again next time instead of trusting the cached
				// "unknown topic" (a mirror may just have been created).
				a.cl.PurgeTopicsFromClient(topics...)
			}
			if c.FirstData.IsZero() && anyData(lo) {
				c.FirstData = recv
			}
			if done {
				c.Done = recv
				return c, nil
			}
			lastProblem = problem
		}
		c.Lower = sent
		select {
		case <-ctx.Done():
			return c, fmt.Errorf("%w: mirrors not caught up (%s): %w", ErrMirrorCheck, lastProblem, ctx.Err())
		case <-tick.C:
		}
	}
}

// compareEnds says whether every partition in target is at its target
// end offset, and otherwise describes the first that is not.
func compareEnds(lo kadm.ListedOffsets, target map[string][]int64, topics []string) (done bool, problem string, unknown bool, err error) {
	done = true
	for _, t := range topics {
		if o, ok := lo.Lookup(t, -1); ok && o.Err != nil {
			unknown = true
		}
		for p, want := range target[t] {
			o, ok := lo.Lookup(t, int32(p))
			switch {
			case !ok || o.Err != nil:
				if done {
					problem = fmt.Sprintf("%s/%d: no end offset yet", t, p)
					if ok {
						problem = fmt.Sprintf("%s/%d: %v", t, p, o.Err)
					}
				}
				done = false
			case o.Offset > want:
				return false, "", false, fmt.Errorf("%w: mirror %s/%d has end offset %d, past the source's %d", ErrMirrorCheck, t, p, o.Offset, want)
			case o.Offset < want:
				if done {
					problem = fmt.Sprintf("%s/%d at %d of %d", t, p, o.Offset, want)
				}
				done = false
			}
		}
	}
	return done, problem, unknown, nil
}

func anyData(lo kadm.ListedOffsets) bool {
	found := false
	lo.Each(func(o kadm.ListedOffset) {
		if o.Err == nil && o.Offset > 0 {
			found = true
		}
	})
	return found
}

// cleanupContext gives cleanup its own deadline: it runs after a Ctrl-C
// too.
func cleanupContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), DefaultCleanupBudget)
}

// validateLinkTarget checks the options every link benchmark shares: the
// two clusters, the destination's REST address and the link.
func validateLinkTarget(source, brokers []string, url, link string) error {
	switch {
	case len(source) == 0:
		return invalid("source-bootstrap-server", "", "the source cluster is required")
	case len(brokers) == 0:
		return invalid("bootstrap-server", "", "at least one broker is required")
	case url == "":
		return invalid("url", url, "the destination's REST address is required")
	case link == "":
		return invalid("link", link, "must not be empty")
	}
	return nil
}
