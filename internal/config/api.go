package config

// This file fixes the package's exported surface for the rest of the broker.

// Broker is the whole `strait serve` configuration, by Kafka's property names.
type Broker struct {
	NodeID                int32    // node.id (alias broker.id), default 1
	Listeners             []string // listeners, default PLAINTEXT://127.0.0.1:9092
	AdvertisedListeners   []string // advertised.listeners, default = listeners
	HTTPListeners         []string // http.listeners, default http://127.0.0.1:8090
	LogDirs               []string // log.dirs (alias log.dir), default ./strait-data
	MetadataLogDir        string   // metadata.log.dir, default = __metadata in the first log dir
	MetadataEndpoints     []string // metadata.endpoints: external etcd; empty = embedded
	NumPartitions         int32    // num.partitions, default 1
	DefaultReplication    int16    // default.replication.factor, default 1
	AutoCreateTopics      bool     // auto.create.topics.enable, default true
	DeleteTopicEnable     bool     // delete.topic.enable, default true
	MessageMaxBytes       int32    // message.max.bytes, default 1048588
	SocketRequestMaxBytes int32    // socket.request.max.bytes, default 104857600
	RetentionCheckMs      int64    // log.retention.check.interval.ms, default 300000
	FlushSchedulerMs      int64    // log.flush.scheduler.interval.ms, default 1000 here
	// Log defaults, copied into each topic's storage config unless overridden.
	SegmentBytes         int64  // log.segment.bytes, default 1073741824
	RollMs               int64  // log.roll.ms (log.roll.hours), default 7 days
	RetentionMs          int64  // log.retention.ms (.minutes/.hours), default 7 days
	RetentionBytes       int64  // log.retention.bytes, default -1
	FlushMessages        int64  // log.flush.interval.messages, default MaxInt64
	FlushMs              int64  // log.flush.interval.ms, default MaxInt64 (unset)
	IndexIntervalBytes   int32  // log.index.interval.bytes, default 4096
	IndexSizeMaxBytes    int32  // log.index.size.max.bytes, default 10485760
	SegmentDeleteDelayMs int64  // log.segment.delete.delay.ms, default 60000
	CleanupPolicy        string // log.cleanup.policy, default delete
	TimestampType        string // log.message.timestamp.type, default CreateTime
	CompressionType      string // compression.type, default producer
	// Values holds every key that was set explicitly, with its source.
	Values map[string]Value

	// Fields added after the first contract; same conventions as above.

	// ListenerSecurityProtocolMap maps listener names to security protocols
	// (listener.security.protocol.map). The default maps each of PLAINTEXT,
	// SSL, SASL_PLAINTEXT and SASL_SSL to itself.
	ListenerSecurityProtocolMap map[string]string
	// More log defaults, the broker synonyms of topic configs.
	RollJitterMs             int64   // log.roll.jitter.ms (log.roll.jitter.hours), default 0
	DeleteRetentionMs        int64   // log.cleaner.delete.retention.ms, default 1 day
	MinCompactionLagMs       int64   // log.cleaner.min.compaction.lag.ms, default 0
	MaxCompactionLagMs       int64   // log.cleaner.max.compaction.lag.ms, default MaxInt64
	MinCleanableRatio        float64 // log.cleaner.min.cleanable.ratio, default 0.5
	Preallocate              bool    // log.preallocate, default false
	TimestampDifferenceMaxMs int64   // log.message.timestamp.difference.max.ms, default MaxInt64
	TimestampBeforeMaxMs     int64   // log.message.timestamp.before.max.ms, default MaxInt64
	TimestampAfterMaxMs      int64   // log.message.timestamp.after.max.ms, default MaxInt64
	DownconversionEnable     bool    // log.message.downconversion.enable, default true
	LocalRetentionMs         int64   // log.local.retention.ms, default -2
	LocalRetentionBytes      int64   // log.local.retention.bytes, default -2
	MinInsyncReplicas        int32   // min.insync.replicas, default 1
	UncleanLeaderElection    bool    // unclean.leader.election.enable, default false
	// Group coordinator and committed offsets.
	OffsetsTopicPartitions   int32 // offsets.topic.num.partitions, default 50
	OffsetsRetentionMinutes  int32 // offsets.retention.minutes, default 10080 (7 days)
	OffsetsRetentionCheckMs  int64 // offsets.retention.check.interval.ms, default 600000
	GroupMinSessionTimeoutMs int32 // group.min.session.timeout.ms, default 6000
	GroupMaxSessionTimeoutMs int32 // group.max.session.timeout.ms, default 1800000
	GroupMaxSize             int32 // group.max.size, default MaxInt32
	// GroupInitialRebalanceDelayMs is group.initial.rebalance.delay.ms,
	// default 3000: how long the first rebalance of an empty group waits
	// for more members.
	GroupInitialRebalanceDelayMs int32
	// OffsetMetadataMaxBytes is offset.metadata.max.bytes, default 4096:
	// the longest metadata string an offset commit may carry.
	OffsetMetadataMaxBytes int32
	// MetadataMinFreeBytes is metadata.min.free.bytes, default 128 MiB:
	// the embedded etcd's writes are refused below this much free space.
	MetadataMinFreeBytes int64
	// Cluster links.
	ClusterLinkMaxLinks int32  // cluster.link.max.links, default 10
	ClusterLinkSecret   string // cluster.link.secret (password), default empty
	// Connections and request memory.
	QueuedMaxRequestBytes int64 // queued.max.request.bytes, default 268435456 (256 MiB); <= 0 unbounded
	MaxConnections        int32 // max.connections, default MaxInt32
	MaxConnectionsPerIP   int32 // max.connections.per.ip, default MaxInt32
	// MaxConnectionsPerIPOverrides is max.connections.per.ip.overrides in
	// canonical form (HOST:COUNT,... without spaces); see
	// ConnectionsPerIPOverrides for the parsed map.
	MaxConnectionsPerIPOverrides string
}

// Source says where a setting came from.
type Source int

const (
	SourceDefault Source = iota
	SourceFile
	SourceEnv
	SourceFlag
)

// Value is one explicitly set key.
type Value struct {
	Value  string
	Source Source
}
