package config

import (
	"maps"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Key describes one broker setting.
type Key struct {
	Name    string
	Type    ConfigType
	Default string // as Strait reports it; "" when there is none or it is derived
	Doc     string
	// Dynamic keys can be changed while the broker runs, by AlterConfigs on
	// the BROKER resource with an empty name (the cluster-wide default).
	// They are the keys Kafka documents with update mode "cluster-wide".
	// Kafka's "per-broker" keys (listeners, advertised.listeners, the
	// protocol map) are read-only in Strait for now.
	Dynamic   bool
	Sensitive bool // value never shown (passwords)
	ReadOnly  bool // !Dynamic, as DescribeConfigs reports it
	// Aliases are other names of the same setting, in Kafka's precedence
	// order after Name (log.retention.ms > .minutes > .hours).
	Aliases []string
}

// keyDef is a Key with its value check and its field in Broker.
type keyDef struct {
	Key
	spec valueSpec
	get  func(b *Broker) string
	set  func(b *Broker, v string) // v has passed spec.check
	// derived keys (advertised.listeners, metadata.log.dir) default to
	// another setting's value.
	derived bool
}

// aliasDef is another name of a setting, possibly in other units.
type aliasDef struct {
	name   string
	target string
	spec   valueSpec
	factor int64 // multiply into the target's unit
	def    string
	doc    string
}

const (
	msPerMinute = 60 * 1000
	msPerHour   = 60 * msPerMinute
	maxInt64    = "9223372036854775807"
	maxInt32    = "2147483647"
)

// securityProtocols are the protocols a listener may use. Only PLAINTEXT is
// served today; the others are accepted here so that configuration written
// for them parses.
var securityProtocols = []string{"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"}

const defaultProtocolMap = "PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL,SSL:SSL"

var compressionTypes = []string{"uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"}

// accessor reads and writes one Broker field as a string. set parses values
// that already passed the key's check.
type accessor struct {
	get func(b *Broker) string
	set func(b *Broker, v string)
}

func i32(p func(*Broker) *int32) accessor {
	return accessor{func(b *Broker) string { return strconv.FormatInt(int64(*p(b)), 10) },
		func(b *Broker, v string) { n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 32); *p(b) = int32(n) }}
}

func i16(p func(*Broker) *int16) accessor {
	return accessor{func(b *Broker) string { return strconv.FormatInt(int64(*p(b)), 10) },
		func(b *Broker, v string) { n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 16); *p(b) = int16(n) }}
}

func i64(p func(*Broker) *int64) accessor {
	return accessor{func(b *Broker) string { return strconv.FormatInt(*p(b), 10) },
		func(b *Broker, v string) { n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64); *p(b) = n }}
}

func f64(p func(*Broker) *float64) accessor {
	return accessor{func(b *Broker) string { return formatDouble(*p(b)) },
		func(b *Broker, v string) { f, _ := strconv.ParseFloat(strings.TrimSpace(v), 64); *p(b) = f }}
}

func boolean(p func(*Broker) *bool) accessor {
	return accessor{func(b *Broker) string { return strconv.FormatBool(*p(b)) },
		func(b *Broker, v string) { *p(b) = strings.EqualFold(strings.TrimSpace(v), "true") }}
}

func str(p func(*Broker) *string) accessor {
	return accessor{func(b *Broker) string { return *p(b) },
		func(b *Broker, v string) { *p(b) = strings.TrimSpace(v) }}
}

func list(p func(*Broker) *[]string) accessor {
	return accessor{func(b *Broker) string { return strings.Join(*p(b), ",") },
		func(b *Broker, v string) { *p(b) = splitList(v) }}
}

func def(name string, typ valueSpec, dflt string, dynamic bool, doc string, acc accessor) keyDef {
	return keyDef{
		Key:  Key{Name: name, Type: typ.typ, Default: dflt, Doc: doc, Dynamic: dynamic, ReadOnly: !dynamic},
		spec: typ, get: acc.get, set: acc.set,
	}
}

// brokerDefs is the catalogue, in the order Keys returns it.
var brokerDefs = buildBrokerDefs()

func buildBrokerDefs() []keyDef {
	const dyn, ro = true, false
	cleanup := specList(true, nil)
	cleanup.oneOf = []string{"compact", "delete"}
	protoMap := specString()
	protoMap.custom = checkProtocolMap
	overrides := specString()
	overrides.custom = checkOverrides
	defs := []keyDef{
		def("node.id", specInt(0), "1", ro, "The id of this broker in the cluster.",
			i32(func(b *Broker) *int32 { return &b.NodeID })),
		def("listeners", specList(true, checkKafkaListener), "PLAINTEXT://127.0.0.1:9092", ro,
			"Kafka listeners, NAME://HOST:PORT, comma-separated. An empty host binds all interfaces; port 0 picks a free port.",
			list(func(b *Broker) *[]string { return &b.Listeners })),
		def("advertised.listeners", specList(false, checkAdvertisedListener), "", ro,
			"Listeners given to clients in metadata, by listener name. Defaults to listeners.",
			list(func(b *Broker) *[]string { return &b.AdvertisedListeners })),
		def("listener.security.protocol.map", protoMap, defaultProtocolMap, ro,
			"Security protocol of each listener name, NAME:PROTOCOL, comma-separated.",
			accessor{func(b *Broker) string { return formatProtocolMap(b.ListenerSecurityProtocolMap) },
				func(b *Broker, v string) { b.ListenerSecurityProtocolMap = parseProtocolMap(v) }}),
		def("http.listeners", specList(false, checkHTTPListener), "http://127.0.0.1:8090", ro,
			"HTTP listeners (REST API, metrics, console), http://HOST:PORT, comma-separated. Empty disables HTTP.",
			list(func(b *Broker) *[]string { return &b.HTTPListeners })),
		def("log.dirs", specList(true, nil), "./strait-data", ro, "Directories holding partition data.",
			list(func(b *Broker) *[]string { return &b.LogDirs })),
		def("metadata.log.dir", specString(), "", ro, "Directory of the embedded metadata store. Defaults to __metadata inside the first of log.dirs.",
			str(func(b *Broker) *string { return &b.MetadataLogDir })),
		def("metadata.endpoints", specList(false, nil), "", ro,
			"Endpoints of an external etcd cluster holding the metadata. Empty runs an embedded etcd.",
			list(func(b *Broker) *[]string { return &b.MetadataEndpoints })),
		def("metadata.min.free.bytes", specLong(-1), "134217728", ro,
			"Free space the file system of the embedded metadata store must keep: below it, metadata changes (creating topics, links, producer ID blocks, configs) are refused with a clear error until space is freed, and the broker does not start; removals are refused only below a quarter of it. -1 turns the check off.",
			i64(func(b *Broker) *int64 { return &b.MetadataMinFreeBytes })),
		def("num.partitions", specInt(1), "1", ro, "Partitions of a topic created without a partition count.",
			i32(func(b *Broker) *int32 { return &b.NumPartitions })),
		def("default.replication.factor", specShort(1), "1", ro, "Replication factor of a topic created without one.",
			i16(func(b *Broker) *int16 { return &b.DefaultReplication })),
		def("auto.create.topics.enable", specBool(), "true", ro, "Create a topic when a client asks for its metadata.",
			boolean(func(b *Broker) *bool { return &b.AutoCreateTopics })),
		def("delete.topic.enable", specBool(), "true", ro, "Allow topics to be deleted.",
			boolean(func(b *Broker) *bool { return &b.DeleteTopicEnable })),
		def("message.max.bytes", specInt(0), "1048588", dyn, "Largest record batch a topic accepts (topic config max.message.bytes).",
			i32(func(b *Broker) *int32 { return &b.MessageMaxBytes })),
		def("socket.request.max.bytes", specInt(1), "104857600", ro, "Largest request the broker reads; larger requests close the connection.",
			i32(func(b *Broker) *int32 { return &b.SocketRequestMaxBytes })),
		def("queued.max.request.bytes", specLongAny(), "268435456", ro,
			"Request bytes the broker holds at once, across all connections: a connection whose next request does not fit waits before reading it. At least socket.request.max.bytes; 0 or negative means no limit (Kafka's default, -1).",
			i64(func(b *Broker) *int64 { return &b.QueuedMaxRequestBytes })),
		def("max.connections", specInt(0), maxInt32, dyn,
			"Most Kafka connections the broker holds, across listeners. At the limit the broker stops accepting until a connection closes; new connections wait in the listen backlog.",
			i32(func(b *Broker) *int32 { return &b.MaxConnections })),
		def("max.connections.per.ip", specInt(0), maxInt32, dyn,
			"Most Kafka connections from one IP address; a connection beyond it is closed as soon as it is accepted. 0 is allowed only with max.connections.per.ip.overrides.",
			i32(func(b *Broker) *int32 { return &b.MaxConnectionsPerIP })),
		def("max.connections.per.ip.overrides", overrides, "", dyn,
			"Per-IP or per-host exceptions to max.connections.per.ip, HOST:COUNT comma-separated, for example \"hostName:100,127.0.0.1:200\". Host names are resolved when the value changes.",
			accessor{func(b *Broker) string { return b.MaxConnectionsPerIPOverrides },
				func(b *Broker, v string) { b.MaxConnectionsPerIPOverrides = formatOverrides(parseOverrides(v)) }}),
		def("log.retention.check.interval.ms", specLong(1), "300000", ro, "How often retention is enforced.",
			i64(func(b *Broker) *int64 { return &b.RetentionCheckMs })),
		def("log.flush.scheduler.interval.ms", specLong(1), "1000", ro,
			"How often logs are checked against log.flush.interval.ms. Unlike Kafka, it is not a fallback for flush.ms.",
			i64(func(b *Broker) *int64 { return &b.FlushSchedulerMs })),
		def("log.segment.bytes", specInt(14), "1073741824", dyn, "Default segment.bytes: the size at which a segment is rolled.",
			i64(func(b *Broker) *int64 { return &b.SegmentBytes })),
		def("log.roll.ms", specLong(1), "604800000", dyn, "Default segment.ms: the age at which a segment is rolled.",
			i64(func(b *Broker) *int64 { return &b.RollMs })),
		def("log.roll.jitter.ms", specLong(0), "0", dyn, "Default segment.jitter.ms.",
			i64(func(b *Broker) *int64 { return &b.RollJitterMs })),
		def("log.retention.ms", specLongAny(), "604800000", dyn,
			"Default retention.ms: how long data is kept. Negative means forever (-1).",
			accessor{func(b *Broker) string { return strconv.FormatInt(b.RetentionMs, 10) },
				func(b *Broker, v string) {
					b.RetentionMs, _ = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
					if b.RetentionMs < 0 {
						b.RetentionMs = -1 // Kafka: any negative retention means forever
					}
				}}),
		def("log.retention.bytes", specLongAny(), "-1", dyn, "Default retention.bytes: partition size kept; -1 means no limit.",
			i64(func(b *Broker) *int64 { return &b.RetentionBytes })),
		def("log.flush.interval.messages", specLong(1), maxInt64, dyn, "Default flush.messages: fsync after this many messages.",
			i64(func(b *Broker) *int64 { return &b.FlushMessages })),
		def("log.flush.interval.ms", specLong(0), maxInt64, dyn, "Default flush.ms: fsync data older than this.",
			i64(func(b *Broker) *int64 { return &b.FlushMs })),
		def("log.index.interval.bytes", specInt(0), "4096", dyn, "Default index.interval.bytes: bytes between offset index entries.",
			i32(func(b *Broker) *int32 { return &b.IndexIntervalBytes })),
		def("log.index.size.max.bytes", specInt(4), "10485760", dyn, "Default segment.index.bytes: index size that forces a roll.",
			i32(func(b *Broker) *int32 { return &b.IndexSizeMaxBytes })),
		def("log.segment.delete.delay.ms", specLong(0), "60000", dyn,
			"Default file.delete.delay.ms: deleted segments stay readable this long.",
			i64(func(b *Broker) *int64 { return &b.SegmentDeleteDelayMs })),
		def("log.cleanup.policy", cleanup, "delete", dyn, "Default cleanup.policy: delete, compact, or both.",
			accessor{func(b *Broker) string { return b.CleanupPolicy },
				func(b *Broker, v string) { b.CleanupPolicy = strings.Join(dedupe(splitList(v)), ",") }}),
		def("log.cleaner.delete.retention.ms", specLong(0), "86400000", dyn, "Default delete.retention.ms: how long tombstones are kept.",
			i64(func(b *Broker) *int64 { return &b.DeleteRetentionMs })),
		def("log.cleaner.min.compaction.lag.ms", specLong(0), "0", dyn, "Default min.compaction.lag.ms.",
			i64(func(b *Broker) *int64 { return &b.MinCompactionLagMs })),
		def("log.cleaner.max.compaction.lag.ms", specLong(1), maxInt64, dyn, "Default max.compaction.lag.ms.",
			i64(func(b *Broker) *int64 { return &b.MaxCompactionLagMs })),
		def("log.cleaner.min.cleanable.ratio", specRatio(), "0.5", dyn, "Default min.cleanable.dirty.ratio.",
			f64(func(b *Broker) *float64 { return &b.MinCleanableRatio })),
		def("log.preallocate", specBool(), "false", dyn, "Default preallocate: create segment files at full size.",
			boolean(func(b *Broker) *bool { return &b.Preallocate })),
		def("log.message.timestamp.type", specOneOf("CreateTime", "LogAppendTime"), "CreateTime", dyn,
			"Default message.timestamp.type.",
			str(func(b *Broker) *string { return &b.TimestampType })),
		def("log.message.timestamp.difference.max.ms", specLong(0), maxInt64, dyn,
			"Default message.timestamp.difference.max.ms (deprecated by the before/after pair).",
			i64(func(b *Broker) *int64 { return &b.TimestampDifferenceMaxMs })),
		def("log.message.timestamp.before.max.ms", specLong(0), maxInt64, dyn, "Default message.timestamp.before.max.ms.",
			i64(func(b *Broker) *int64 { return &b.TimestampBeforeMaxMs })),
		def("log.message.timestamp.after.max.ms", specLong(0), maxInt64, dyn, "Default message.timestamp.after.max.ms.",
			i64(func(b *Broker) *int64 { return &b.TimestampAfterMaxMs })),
		def("log.message.downconversion.enable", specBool(), "true", dyn, "Default message.downconversion.enable.",
			boolean(func(b *Broker) *bool { return &b.DownconversionEnable })),
		def("log.local.retention.ms", specLong(-2), "-2", dyn, "Default local.retention.ms (tiered storage; unused).",
			i64(func(b *Broker) *int64 { return &b.LocalRetentionMs })),
		def("log.local.retention.bytes", specLong(-2), "-2", dyn, "Default local.retention.bytes (tiered storage; unused).",
			i64(func(b *Broker) *int64 { return &b.LocalRetentionBytes })),
		def("compression.type", specOneOf(compressionTypes...), "producer", dyn,
			"Default compression.type: producer keeps the producer's codec.",
			str(func(b *Broker) *string { return &b.CompressionType })),
		def("min.insync.replicas", specInt(1), "1", dyn, "Default min.insync.replicas for acks=all.",
			i32(func(b *Broker) *int32 { return &b.MinInsyncReplicas })),
		def("unclean.leader.election.enable", specBool(), "false", dyn, "Default unclean.leader.election.enable.",
			boolean(func(b *Broker) *bool { return &b.UncleanLeaderElection })),
		def("offsets.topic.num.partitions", specInt(1), "50", ro, "Partitions of __consumer_offsets.",
			i32(func(b *Broker) *int32 { return &b.OffsetsTopicPartitions })),
		def("offsets.retention.minutes", specInt(1), "10080", ro,
			"How long committed offsets of an empty group are kept.",
			i32(func(b *Broker) *int32 { return &b.OffsetsRetentionMinutes })),
		def("offsets.retention.check.interval.ms", specLong(1), "600000", ro, "How often expired offsets are removed.",
			i64(func(b *Broker) *int64 { return &b.OffsetsRetentionCheckMs })),
		def("group.min.session.timeout.ms", specInt(1), "6000", ro, "Smallest session timeout a group member may ask for.",
			i32(func(b *Broker) *int32 { return &b.GroupMinSessionTimeoutMs })),
		def("group.max.session.timeout.ms", specInt(1), "1800000", ro, "Largest session timeout a group member may ask for.",
			i32(func(b *Broker) *int32 { return &b.GroupMaxSessionTimeoutMs })),
		def("group.max.size", specInt(1), maxInt32, ro, "Most members a consumer group may have.",
			i32(func(b *Broker) *int32 { return &b.GroupMaxSize })),
		def("group.initial.rebalance.delay.ms", specInt(0), "3000", ro,
			"How long the first rebalance of an empty group waits for more members to join.",
			i32(func(b *Broker) *int32 { return &b.GroupInitialRebalanceDelayMs })),
		def("offset.metadata.max.bytes", specInt(0), "4096", ro, "Longest metadata string an offset commit may carry.",
			i32(func(b *Broker) *int32 { return &b.OffsetMetadataMaxBytes })),
		def("cluster.link.max.links", specInt(0), "10", dyn, "Most cluster links this cluster may have.",
			i32(func(b *Broker) *int32 { return &b.ClusterLinkMaxLinks })),
		def("cluster.link.secret", specPassword(), "", ro,
			"Secret that encrypts cluster-link credentials stored in the metadata. Never shown.",
			str(func(b *Broker) *string { return &b.ClusterLinkSecret })),
	}
	for i := range defs {
		switch defs[i].Name {
		case "advertised.listeners", "metadata.log.dir":
			defs[i].derived = true
		case "cluster.link.secret":
			defs[i].Sensitive = true
		}
	}
	for _, a := range aliasDefs {
		for i := range defs {
			if defs[i].Name == a.target {
				defs[i].Aliases = append(defs[i].Aliases, a.name)
			}
		}
	}
	return defs
}

// aliasDefs are listed in precedence order per target.
var aliasDefs = []aliasDef{
	{name: "broker.id", target: "node.id", spec: specInt(0), factor: 1,
		doc: "Older name of node.id. If both are set they must be equal."},
	{name: "log.dir", target: "log.dirs", spec: specList(true, nil), factor: 1,
		doc: "Older name of log.dirs; log.dirs wins when both are set."},
	{name: "log.roll.hours", target: "log.roll.ms", spec: specInt(1), factor: msPerHour, def: "168",
		doc: "log.roll.ms in hours; log.roll.ms wins when both are set."},
	{name: "log.roll.jitter.hours", target: "log.roll.jitter.ms", spec: specInt(0), factor: msPerHour, def: "0",
		doc: "log.roll.jitter.ms in hours; log.roll.jitter.ms wins when both are set."},
	{name: "log.retention.minutes", target: "log.retention.ms", spec: specIntAny(), factor: msPerMinute,
		doc: "log.retention.ms in minutes; log.retention.ms wins, then minutes, then hours."},
	{name: "log.retention.hours", target: "log.retention.ms", spec: specIntAny(), factor: msPerHour, def: "168",
		doc: "log.retention.ms in hours; log.retention.ms wins, then minutes, then hours."},
}

// ignoredKeys are Kafka broker keys that Strait accepts, with a warning,
// and does not use, so that a Kafka server.properties loads. Mostly thread
// pools and socket buffers (Go sizes these itself), and the KRaft and
// ZooKeeper settings (Strait keeps its metadata in etcd).
var ignoredKeys = []string{
	"auto.leader.rebalance.enable",
	"background.threads",
	"broker.rack",
	"controlled.shutdown.enable",
	"controller.listener.names",
	"controller.quorum.bootstrap.servers",
	"controller.quorum.voters",
	"inter.broker.listener.name",
	"inter.broker.protocol.version",
	"log.cleaner.enable",
	"log.cleaner.threads",
	"log.message.format.version",
	"metadata.log.segment.bytes",
	"num.io.threads",
	"num.network.threads",
	"num.recovery.threads.per.data.dir",
	"num.replica.fetchers",
	"offsets.topic.replication.factor",
	"process.roles",
	"queued.max.requests",
	"replica.lag.time.max.ms",
	"share.coordinator.state.topic.min.isr",
	"share.coordinator.state.topic.replication.factor",
	"socket.receive.buffer.bytes",
	"socket.send.buffer.bytes",
	"transaction.state.log.min.isr",
	"transaction.state.log.replication.factor",
	"zookeeper.connect",
	"zookeeper.connection.timeout.ms",
	"zookeeper.session.timeout.ms",
}

// Indexes of the catalogue. They are package variables with initializers,
// not filled by init, so that topicDefs (which reads defByName) is built
// after them.
var (
	defByName = func() map[string]*keyDef {
		m := map[string]*keyDef{}
		for i := range brokerDefs {
			m[brokerDefs[i].Name] = &brokerDefs[i]
		}
		return m
	}()
	aliasByName = func() map[string]*aliasDef {
		m := map[string]*aliasDef{}
		for i := range aliasDefs {
			m[aliasDefs[i].name] = &aliasDefs[i]
		}
		return m
	}()
	ignoredSet = func() map[string]bool {
		m := map[string]bool{}
		for _, k := range ignoredKeys {
			m[k] = true
		}
		return m
	}()
	// envNames maps STRAIT_LOG_DIRS to log.dirs, for every key Load accepts.
	envNames = func() map[string]string {
		m := map[string]string{}
		for _, d := range brokerDefs {
			m[EnvName(d.Name)] = d.Name
		}
		for _, a := range aliasDefs {
			m[EnvName(a.name)] = a.name
		}
		for _, k := range ignoredKeys {
			m[EnvName(k)] = k
		}
		return m
	}()
)

// EnvPrefix starts every environment variable that sets a broker key.
const EnvPrefix = "STRAIT_"

// EnvName is the environment variable that sets key: STRAIT_, then the key
// upper-cased with dots and dashes turned into underscores
// (log.dirs -> STRAIT_LOG_DIRS).
func EnvName(key string) string {
	r := strings.NewReplacer(".", "_", "-", "_")
	return EnvPrefix + strings.ToUpper(r.Replace(key))
}

// Keys returns the catalogue of broker settings, one entry per setting;
// other names of a setting are in its Aliases.
func Keys() []Key {
	out := make([]Key, len(brokerDefs))
	for i, d := range brokerDefs {
		out[i] = d.Key
		out[i].Aliases = slices.Clone(d.Aliases)
	}
	return out
}

// LookupKey finds a setting by its name or one of its aliases.
func LookupKey(name string) (Key, bool) {
	if a, ok := aliasByName[name]; ok {
		name = a.target
	}
	d, ok := defByName[name]
	if !ok {
		return Key{}, false
	}
	k := d.Key
	k.Aliases = slices.Clone(d.Aliases)
	return k, true
}

// IgnoredKeys returns the Kafka keys that load with a warning and have no
// effect, sorted.
func IgnoredKeys() []string { return slices.Clone(ignoredKeys) }

// DefaultBroker returns the configuration of `strait serve` without any
// settings: every key at its default, derived keys filled in.
func DefaultBroker() *Broker {
	b := &Broker{Values: map[string]Value{}}
	for _, d := range brokerDefs {
		d.set(b, d.Default)
	}
	b.resolveDerived()
	return b
}

// MetadataDirName is the directory inside the first log directory that holds
// the embedded metadata store when metadata.log.dir is not set.
const MetadataDirName = "__metadata"

// resolveDerived fills the keys whose default is another key's value.
func (b *Broker) resolveDerived() {
	if len(b.AdvertisedListeners) == 0 {
		b.AdvertisedListeners = slices.Clone(b.Listeners)
	}
	if b.MetadataLogDir == "" && len(b.LogDirs) > 0 {
		b.MetadataLogDir = filepath.Join(b.LogDirs[0], MetadataDirName)
	}
}

// clone returns a deep copy of b.
func (b *Broker) clone() *Broker {
	c := *b
	c.Listeners = slices.Clone(b.Listeners)
	c.AdvertisedListeners = slices.Clone(b.AdvertisedListeners)
	c.HTTPListeners = slices.Clone(b.HTTPListeners)
	c.LogDirs = slices.Clone(b.LogDirs)
	c.MetadataEndpoints = slices.Clone(b.MetadataEndpoints)
	c.Values = maps.Clone(b.Values)
	c.ListenerSecurityProtocolMap = maps.Clone(b.ListenerSecurityProtocolMap)
	return &c
}

func parseProtocolMap(v string) map[string]string {
	m := map[string]string{}
	for _, e := range splitList(v) {
		name, proto, _ := strings.Cut(e, ":")
		m[strings.ToUpper(strings.TrimSpace(name))] = strings.ToUpper(strings.TrimSpace(proto))
	}
	return m
}

func formatProtocolMap(m map[string]string) string {
	if m == nil {
		return defaultProtocolMap
	}
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	for i, n := range names {
		names[i] = n + ":" + m[n]
	}
	return strings.Join(names, ",")
}

func checkProtocolMap(v string) *problem {
	seen := map[string]bool{}
	for _, e := range splitList(v) {
		name, proto, ok := strings.Cut(e, ":")
		name, proto = strings.ToUpper(strings.TrimSpace(name)), strings.ToUpper(strings.TrimSpace(proto))
		if !ok || !validListenerName(name) {
			return &problem{reason: "entry " + strconv.Quote(e) + " is not NAME:PROTOCOL",
				kafkaReason: "Entry " + e + " is not NAME:PROTOCOL", value: e}
		}
		if !slices.Contains(securityProtocols, proto) {
			return &problem{reason: "unknown security protocol " + strconv.Quote(proto) + " (want one of " + strings.Join(securityProtocols, ", ") + ")",
				kafkaReason: "Unknown security protocol " + proto, value: e}
		}
		if seen[name] {
			return &problem{reason: "listener name " + name + " appears twice", kafkaReason: "Duplicate listener name " + name, value: e}
		}
		seen[name] = true
	}
	return nil
}

func dedupe(s []string) []string {
	var out []string
	for _, x := range s {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}
