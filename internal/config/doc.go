// Package config is the configuration of a Strait broker and the catalogue
// of Kafka's broker and topic configs: their names, types, defaults,
// validation, and where each effective value comes from.
//
// # Broker settings
//
// A broker is configured by Kafka's property names (listeners, log.dirs,
// num.partitions, log.retention.ms, ...). Keys lists them with their
// defaults and whether they are dynamic. Load assembles a Broker from four
// layers, each overriding the one before:
//
//	defaults < properties file < STRAIT_* environment < flags
//
// The properties file uses Java .properties syntax (see ParseProperties),
// so a Kafka server.properties can be used as it is.
//
// The environment variable of a key is STRAIT_ followed by the key in upper
// case with dots and dashes turned into underscores:
//
//	log.dirs                  STRAIT_LOG_DIRS
//	log.retention.ms          STRAIT_LOG_RETENTION_MS
//	auto.create.topics.enable STRAIT_AUTO_CREATE_TOPICS_ENABLE
//
// Unknown keys in the file or the flags are errors that name the key and
// where it was set (unknown setting "log.dirz" in server.properties line
// 12). An unknown STRAIT_* variable is only a warning, because the same
// environment configures the strait CLI. Kafka keys that Strait accepts
// but does not use (IgnoredKeys: thread pools, socket buffers, KRaft and
// ZooKeeper settings) load with a warning. The listeners named by Kafka's
// controller.listener.names are dropped, with a warning, because Strait
// keeps its metadata in etcd and has no controller listener. An invalid
// value is an error naming key, value and reason (invalid value "abc" for
// log.segment.bytes: not an integer).
//
// # Aliases
//
// Some settings have other names, as in Kafka: broker.id for node.id,
// log.dir for log.dirs, log.roll.hours for log.roll.ms,
// log.roll.jitter.hours for log.roll.jitter.ms, and log.retention.minutes
// and log.retention.hours for log.retention.ms. Within one layer Kafka's
// precedence holds: log.retention.ms over log.retention.minutes over
// log.retention.hours, log.dirs over log.dir. Across layers the higher
// layer wins as a whole: STRAIT_LOG_RETENTION_HOURS=1 overrides a file's
// log.retention.ms. node.id and broker.id set to different values in one
// layer is an error. Any negative retention means forever and is stored
// as -1.
//
// Broker.Values records every key set explicitly (aliases and ignored
// Kafka keys included) with its layer; describe output derives the
// STATIC_BROKER_CONFIG source from it.
//
// # Dynamic broker configs
//
// Keys marked Dynamic are those Kafka updates cluster-wide at runtime:
// the log.* defaults that are topic-config synonyms, message.max.bytes,
// compression.type, min.insync.replicas, unclean.leader.election.enable,
// and Strait's cluster.link.max.links. Everything else is read-only,
// including num.partitions and the aliases (log.retention.hours), as in
// Kafka. ValidateDynamic checks an AlterConfigs request for the BROKER
// resource; ApplyDynamic returns a copy of a Broker with the cluster-wide
// values applied; DescribeBroker reports every key with its value, source
// and synonyms. Sensitive keys (cluster.link.secret) are never shown.
//
// # Topic configs
//
// TopicKeys lists Kafka's topic configs with their types, validators and
// broker synonyms (retention.ms <- log.retention.ms, log.retention.minutes,
// log.retention.hours). A topic config's value comes from, highest first:
//
//	topic override                 DYNAMIC_TOPIC_CONFIG
//	cluster-wide dynamic config    DYNAMIC_DEFAULT_BROKER_CONFIG
//	file, environment or flag      STATIC_BROKER_CONFIG
//	built-in default               DEFAULT_CONFIG
//
// EffectiveTopicConfigs computes every config's value, source and synonyms
// for DescribeConfigs; StorageConfig extracts the settings of the topic's
// log. ValidateTopicConfigs and the dynamic-config checks use Kafka's error
// wording (Invalid value abc for configuration retention.ms: Not a number
// of type LONG), since the messages go back to Kafka clients; the errors
// wrap ErrUnknownConfig, ErrInvalidConfig or ErrReadOnlyConfig.
//
// Differences from Kafka: log.segment.bytes and segment.bytes accept values
// down to 14 bytes (tests roll segments quickly), log.flush.scheduler.interval.ms
// defaults to 1000 and is not a fallback for flush.ms, remote.storage.enable
// cannot be turned on, and unknown dynamic broker configs are rejected
// rather than stored.
//
// Everything in this package is safe for concurrent use: the catalogues
// are immutable and functions never modify the Broker they are given.
package config
