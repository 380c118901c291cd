package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strait-kafka/strait/internal/config"
	"github.com/strait-kafka/strait/internal/group"
	"github.com/strait-kafka/strait/internal/metadata"
	"github.com/strait-kafka/strait/internal/partition"
	"github.com/strait-kafka/strait/internal/storage"
)

// Options are what a Broker is built from.
type Options struct {
	Config     *config.Broker
	Meta       metadata.Store
	Partitions *partition.Manager
	// Groups is the group coordinator; without one the group APIs answer
	// COORDINATOR_NOT_AVAILABLE.
	Groups *group.Coordinator
	Logger *slog.Logger
	Now    func() time.Time
}

// Broker serves the Kafka APIs of one node. Safe for concurrent use: each
// connection calls Handle from its own goroutine.
type Broker struct {
	nodeID int32
	meta   metadata.Store
	parts  *partition.Manager
	groups *group.Coordinator
	lg     *slog.Logger
	now    func() time.Time
	static *config.Broker

	// cfg is the static config with the dynamic broker configs applied.
	cfg atomic.Pointer[config.Broker]
	// advertised is where clients reach this broker (set once listening).
	advertised atomic.Pointer[metadata.Broker]

	pids pidAllocator

	// reconcileMu serialises Reconcile so that metadata changes are applied
	// in order, and guards the derived-config cache below.
	reconcileMu sync.Mutex
	pcCache     map[string]cachedConfig // by topic name
	pcDyn       string                  // fingerprint of the dynamic configs pcCache was built with
}

// New builds a broker. Call Reconcile once before serving.
func New(o Options) (*Broker, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Groups == nil {
		o.Groups = group.New(group.Options{Logger: o.Logger}) // never loaded: COORDINATOR_NOT_AVAILABLE
	}
	b := &Broker{
		nodeID: o.Config.NodeID,
		meta:   o.Meta,
		parts:  o.Partitions,
		groups: o.Groups,
		lg:     o.Logger,
		now:    o.Now,
		static: o.Config,
	}
	b.pids.meta = o.Meta
	if err := b.applyDynamic(); err != nil {
		return nil, err
	}
	return b, nil
}

// SetAdvertised records the address clients are told to use.
func (b *Broker) SetAdvertised(host string, port int32) {
	b.advertised.Store(&metadata.Broker{NodeID: b.nodeID, Host: host, Port: port})
}

// Config returns the effective broker configuration.
func (b *Broker) Config() *config.Broker { return b.cfg.Load() }

// ClusterID is the cluster's ID.
func (b *Broker) ClusterID() string { return b.meta.ClusterID() }

func (b *Broker) applyDynamic() error {
	dyn := mergeDynamic(b.meta.BrokerConfigs(""), b.meta.BrokerConfigs(strconv.Itoa(int(b.nodeID))))
	c, err := config.ApplyDynamic(b.static, dyn)
	if err != nil {
		return err
	}
	b.cfg.Store(c)
	return nil
}

func mergeDynamic(clusterDefault, node map[string]string) map[string]string {
	out := make(map[string]string, len(clusterDefault)+len(node))
	for k, v := range clusterDefault {
		out[k] = v
	}
	for k, v := range node {
		out[k] = v
	}
	return out
}

// dynamicDefaults returns the dynamic broker configs that feed topic defaults.
func (b *Broker) dynamicDefaults() map[string]string {
	return mergeDynamic(b.meta.BrokerConfigs(""), b.meta.BrokerConfigs(strconv.Itoa(int(b.nodeID))))
}

// Reconcile brings the local partitions and effective config in line with
// the metadata. It runs at start, after each admin change made here, and on
// every metadata change notification.
func (b *Broker) Reconcile() error {
	b.reconcileMu.Lock()
	defer b.reconcileMu.Unlock()
	if err := b.applyDynamic(); err != nil {
		b.lg.Warn("dynamic broker configs rejected", "err", err)
	}
	var want []partition.Assignment
	dyn := b.dynamicDefaults()
	dynKey := fingerprint(dyn)
	if b.pcCache == nil || dynKey != b.pcDyn {
		b.pcCache, b.pcDyn = map[string]cachedConfig{}, dynKey
	}
	seen := make(map[string]bool)
	for _, t := range b.meta.Topics() {
		seen[t.Name] = true
		c, ok := b.pcCache[t.Name]
		if !ok || c.revision != t.Revision {
			c = cachedConfig{revision: t.Revision, cfg: b.partitionConfig(dyn, t.Configs)}
			b.pcCache[t.Name] = c
		}
		pc := c.cfg
		for i, p := range t.Partitions {
			if !containsNode(p.Replicas, b.nodeID) {
				continue
			}
			want = append(want, partition.Assignment{
				Topic: t.Name, TopicID: t.ID, Index: int32(i), LeaderEpoch: p.LeaderEpoch, Config: pc,
			})
		}
	}
	for name := range b.pcCache {
		if !seen[name] {
			delete(b.pcCache, name)
		}
	}
	return b.parts.Reconcile(want)
}

// cachedConfig is a topic's derived partition config at a metadata revision.
type cachedConfig struct {
	revision int64
	cfg      partition.Config
}

// fingerprint is a canonical string of a config map.
func fingerprint(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte(0)
		b.WriteString(m[k])
		b.WriteByte(0)
	}
	return b.String()
}

// Run reconciles on every metadata change until ctx ends.
func (b *Broker) Run(ctx context.Context) {
	ch := b.meta.Changes()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ch:
			if err := b.Reconcile(); err != nil {
				b.lg.Error("applying metadata change", "err", err)
			}
		}
	}
}

func containsNode(ns []int32, n int32) bool {
	for _, x := range ns {
		if x == n {
			return true
		}
	}
	return false
}

// partitionConfig derives a partition's behaviour from its topic's configs.
func (b *Broker) partitionConfig(dynamic, overrides map[string]string) partition.Config {
	cfg := b.static
	eff := config.EffectiveTopicConfigs(cfg, dynamic, overrides)
	get := func(k string) string { return eff[k].Value }
	i64 := func(k string, def int64) int64 {
		v, err := strconv.ParseInt(get(k), 10, 64)
		if err != nil {
			return def
		}
		return v
	}
	pc := partition.Config{
		Storage:              config.StorageConfig(cfg, dynamic, overrides),
		MaxMessageBytes:      int32(i64("max.message.bytes", 1048588)),
		LogAppendTime:        get("message.timestamp.type") == "LogAppendTime",
		TimestampBeforeMaxMs: i64("message.timestamp.before.max.ms", -1),
		TimestampAfterMaxMs:  i64("message.timestamp.after.max.ms", -1),
		MinInsyncReplicas:    int32(i64("min.insync.replicas", 1)),
	}
	if !strings.Contains(get("cleanup.policy"), "delete") {
		// Kafka deletes by time and size only under cleanup.policy=delete;
		// a compacted topic (__consumer_offsets) keeps its segments.
		pc.Storage.RetentionMs, pc.Storage.RetentionBytes = -1, -1
	}
	return pc
}

// EnsureInternalTopic creates the internal topic name (such as
// __consumer_offsets) with partitions partitions and configs unless it
// exists, and returns the partition count it has.
func (b *Broker) EnsureInternalTopic(ctx context.Context, name string, partitions int32, configs map[string]string) (int32, error) {
	if t, ok := b.meta.Topic(name); ok {
		return int32(len(t.Partitions)), nil
	}
	rf := min(b.Config().DefaultReplication, int16(len(b.liveBrokerIDs())))
	t, err := b.createTopic(ctx, topicRequest{Name: name, Partitions: partitions, Replication: rf, Configs: configs})
	if errors.Is(err, kerr.TopicAlreadyExists) {
		if t, ok := b.meta.Topic(name); ok {
			return int32(len(t.Partitions)), nil
		}
	}
	if err != nil {
		return 0, fmt.Errorf("creating %s: %w", name, err)
	}
	return int32(len(t.Partitions)), nil
}

// Session is the per-connection state a handler may read or set.
type Session struct {
	Remote                string
	Listener              string
	ClientID              string
	ClientSoftwareName    string
	ClientSoftwareVersion string
	// Plaintext reports whether record bytes may go to the socket with sendfile.
	Plaintext bool
}

// Reply is a handler's answer.
type Reply struct {
	// Msg is the response; nil sends nothing (acks=0 produce).
	Msg kmsg.Response
	// Splices are record ranges sent from segment files: each Marker sits
	// inside Msg as a bytes field and is replaced on the wire by the Chunk.
	Splices []Splice
}

// Release gives back the files of the reply's splices; the server calls it
// once the reply is written (or dropped).
func (r Reply) Release() {
	for _, sp := range r.Splices {
		sp.Chunk.Release()
	}
}

// Splice is a zero-copy record range.
type Splice struct {
	Marker []byte
	Chunk  storage.Chunk
}

// Handle serves one request whose version the caller checked with SupportedVersions.
func (b *Broker) Handle(ctx context.Context, s *Session, req kmsg.Request) (Reply, error) {
	a, ok := registry[req.Key()]
	if !ok {
		return Reply{}, fmt.Errorf("broker: unsupported api key %d", req.Key())
	}
	v := req.GetVersion()
	if v < a.min || v > a.max {
		return Reply{}, fmt.Errorf("broker: unsupported version %d of %s", v, kmsg.NameForKey(req.Key()))
	}
	// Each partition, topic, group or resource is served once (see
	// duplicates.go).
	refused := dedupe(req)
	reply, err := a.handle(ctx, b, s, req)
	if err == nil && reply.Msg != nil && refused != nil {
		refused(reply.Msg)
	}
	return reply, err
}
