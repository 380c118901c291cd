package link

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strait-kafka/strait/internal/link/linkconf"
)

type startKind int

const (
	startEarliest startKind = iota
	startLatest
	startTimestamp
)

type startSpec struct {
	kind        startKind
	timestampMs int64
}

// settings is what the runner uses of a link's configs.
type settings struct {
	conf       linkconf.Settings
	bootstrap  []string
	clientOpts []kgo.Opt
	// connection identifies the settings of the source client; when it
	// changes, the runner is restarted with a new client.
	connection string

	paused                bool
	prefix                string
	start                 startSpec
	retryTimeout          time.Duration
	availabilityCheck     time.Duration
	availabilityThreshold int
	topicConfigSync       time.Duration
	metadataMaxAge        time.Duration
	requestTimeout        time.Duration

	fetchWait        time.Duration
	fetchBackoff     time.Duration
	fetchMinBytes    int32
	fetchMaxBytes    int32
	responseMaxBytes int32
}

// behaviourKeys are the link configs the runner applies live; every other
// key describes the connection to the source.
var behaviourPrefixes = []string{
	"cluster.link.paused", "cluster.link.retry.timeout.ms", "availability.check.", "topic.config.sync.",
	"metadata.max.age.ms", "mirror.start.offset.spec", "consumer.offset.", "consumer.group.prefix.enable",
	"acl.", "auto.create.mirror.topics.", "replica.fetch.", "num.cluster.link.fetchers",
	"reconnect.backoff.",
}

func isBehaviourKey(k string) bool {
	for _, p := range behaviourPrefixes {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}

func parseSettings(cfg map[string]string) (settings, error) {
	c, err := linkconf.Parse(cfg)
	if err != nil {
		return settings{}, err
	}
	opts, err := linkconf.ClientOpts(c)
	if err != nil {
		return settings{}, err
	}
	var conn []string
	for k, v := range cfg {
		if !isBehaviourKey(k) {
			conn = append(conn, k+"="+v)
		}
	}
	sort.Strings(conn)
	s := settings{
		conf: c, bootstrap: c.BootstrapServers, clientOpts: opts, connection: strings.Join(conn, "\n"),
		paused: c.Paused, prefix: c.Prefix,
		retryTimeout: c.RetryTimeout, availabilityCheck: c.AvailabilityCheckInterval,
		availabilityThreshold: c.AvailabilityCheckFailureThreshold,
		topicConfigSync:       c.TopicConfigSyncInterval, metadataMaxAge: c.MetadataMaxAge,
		requestTimeout: c.RequestTimeout,
		fetchWait:      c.Fetch.MaxWait, fetchBackoff: c.Fetch.Backoff, fetchMinBytes: c.Fetch.MinBytes,
		fetchMaxBytes: c.Fetch.MaxPartitionBytes, responseMaxBytes: c.Fetch.MaxResponseBytes,
	}
	switch c.MirrorStartOffset.Kind {
	case linkconf.StartLatest:
		s.start.kind = startLatest
	case linkconf.StartTimestamp:
		s.start = startSpec{kind: startTimestamp, timestampMs: c.MirrorStartOffset.TimestampMs}
	}
	if s.availabilityThreshold < 1 {
		s.availabilityThreshold = 1
	}
	return s, nil
}

// newSourceClient makes a client of the link's source whose connections go
// through a sourceDialer with the link's reconnect backoff, and returns both.
func newSourceClient(s settings, hooks dialHooks, lg *slog.Logger) (*kgo.Client, *sourceDialer, error) {
	d := newSourceDialer(linkconf.Dial(s.conf), s.conf.ReconnectBackoff, s.conf.ReconnectBackoffMax, hooks, lg)
	cl, err := kgo.NewClient(append(slices.Clip(s.clientOpts), kgo.Dialer(d.DialContext))...)
	if err != nil {
		return nil, nil, err
	}
	return cl, d, nil
}

// probeSource connects to the source as the link would and returns its
// cluster ID; it fails if the source is unreachable or the credentials
// cannot describe the cluster.
func probeSource(ctx context.Context, s settings, lg *slog.Logger) (string, error) {
	cl, dialer, err := newSourceClient(s, dialHooks{}, lg)
	if err != nil {
		return "", err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, s.requestTimeout)
	defer cancel()
	md, err := kadm.NewClient(cl).BrokerMetadata(ctx)
	if err != nil {
		// franz-go's error may guess at a cause (TLS, say); the
		// dialer knows what happened to the connections.
		if fs := dialer.failing(); len(fs) > 0 {
			return "", fmt.Errorf("cannot reach the source cluster at %s: %w; %s: %v",
				strings.Join(s.bootstrap, ","), err, fs[0].addr, fs[0].err)
		}
		return "", fmt.Errorf("cannot reach the source cluster at %s: %w", strings.Join(s.bootstrap, ","), err)
	}
	return md.Cluster, nil
}
