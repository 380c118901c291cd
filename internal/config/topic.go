package config

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/strait-kafka/strait/internal/storage"
)

// ConfigSource says where a described config value comes from, numbered as
// in Kafka's DescribeConfigs response (kmsg.ConfigSource).
type ConfigSource int8

const (
	UnknownConfigSource        ConfigSource = 0
	DynamicTopicConfig         ConfigSource = 1 // a topic's override
	DynamicBrokerConfig        ConfigSource = 2 // a per-broker dynamic config (not used yet)
	DynamicDefaultBrokerConfig ConfigSource = 3 // a cluster-wide dynamic broker config
	StaticBrokerConfig         ConfigSource = 4 // properties file, environment or flag
	DefaultConfig              ConfigSource = 5 // the built-in default
)

func (s ConfigSource) String() string {
	switch s {
	case DynamicTopicConfig:
		return "DYNAMIC_TOPIC_CONFIG"
	case DynamicBrokerConfig:
		return "DYNAMIC_BROKER_CONFIG"
	case DynamicDefaultBrokerConfig:
		return "DYNAMIC_DEFAULT_BROKER_CONFIG"
	case StaticBrokerConfig:
		return "STATIC_BROKER_CONFIG"
	case DefaultConfig:
		return "DEFAULT_CONFIG"
	}
	return "UNKNOWN"
}

func (s Source) String() string {
	switch s {
	case SourceDefault:
		return "default"
	case SourceFile:
		return "file"
	case SourceEnv:
		return "env"
	case SourceFlag:
		return "flag"
	}
	return "Source(" + strconv.Itoa(int(s)) + ")"
}

// TopicKey describes one topic config.
type TopicKey struct {
	Name string
	Type ConfigType
	// BrokerSynonym is the broker key that gives the default, "" if none
	// (retention.ms <- log.retention.ms). Its aliases (log.retention.hours)
	// are synonyms too.
	BrokerSynonym string
	// Default is the value of a topic without an override on broker b:
	// the broker synonym's value, or the constant default.
	Default func(b *Broker) string
	// Validate checks a value; errors are *Error wrapping ErrInvalidConfig,
	// in Kafka's wording.
	Validate func(v string) error
	Doc      string
}

type topicDef struct {
	TopicKey
	spec valueSpec
}

// Synonym is one place a config value may come from, for DescribeConfigs
// with synonyms. Value is empty for sensitive configs.
type Synonym struct {
	Name   string
	Value  string
	Source ConfigSource
}

// TopicValue is a topic config's effective value and where it comes from.
// Synonyms run from the highest precedence to the lowest, starting with the
// one that gives Value.
type TopicValue struct {
	Value    string
	Source   ConfigSource
	Synonyms []Synonym
	Type     ConfigType
	Doc      string
}

var throttledReplicas = regexp.MustCompile(`^([0-9]+:[0-9]+)?$`)

func specThrottled(name string) valueSpec {
	s := valueSpec{typ: TypeList, rawList: true}
	s.custom = func(v string) *problem {
		if strings.TrimSpace(v) == "*" {
			return nil
		}
		for _, e := range splitList(v) {
			if !throttledReplicas.MatchString(e) {
				r := name + " must be the literal '*' or a list of replicas in the following format: [partitionId]:[brokerId],[partitionId]:[brokerId],..."
				return &problem{reason: r, kafkaReason: r}
			}
		}
		return nil
	}
	return s
}

func specRemoteStorage() valueSpec {
	s := specBool()
	s.custom = func(v string) *problem {
		if strings.EqualFold(v, "true") {
			return &problem{reason: "tiered storage is not supported",
				kafkaReason: "Tiered Storage functionality is disabled in the broker. Topic cannot be configured with remote log storage."}
		}
		return nil
	}
	return s
}

var topicDefs = buildTopicDefs()

func buildTopicDefs() []topicDef {
	cleanup := specList(true, nil)
	cleanup.oneOf = []string{"compact", "delete"}
	td := func(name string, spec valueSpec, synonym, constDefault, doc string) topicDef {
		d := topicDef{TopicKey: TopicKey{Name: name, Type: spec.typ, BrokerSynonym: synonym, Doc: doc}, spec: spec}
		if synonym != "" {
			get := defByName[synonym].get
			d.Default = func(b *Broker) string { return get(b) }
		} else {
			d.Default = func(*Broker) string { return constDefault }
		}
		d.Validate = func(v string) error {
			if p := spec.check(v); p != nil {
				return invalidKafka(name, v, p)
			}
			return nil
		}
		return d
	}
	return []topicDef{
		td("cleanup.policy", cleanup, "log.cleanup.policy", "", "delete, compact, or both (compact,delete)."),
		td("compression.type", specOneOf(compressionTypes...), "compression.type", "",
			"Codec the log stores batches in; producer keeps the producer's."),
		td("delete.retention.ms", specLong(0), "log.cleaner.delete.retention.ms", "", "How long tombstones are kept on compacted topics."),
		td("file.delete.delay.ms", specLong(0), "log.segment.delete.delay.ms", "", "How long a deleted segment stays readable."),
		td("flush.messages", specLong(1), "log.flush.interval.messages", "", "fsync after this many messages."),
		td("flush.ms", specLong(0), "log.flush.interval.ms", "", "fsync data older than this."),
		td("follower.replication.throttled.replicas", specThrottled("follower.replication.throttled.replicas"), "", "",
			"Replicas throttled on the follower side (partition:broker list or *)."),
		td("index.interval.bytes", specInt(0), "log.index.interval.bytes", "", "Bytes between offset index entries."),
		td("leader.replication.throttled.replicas", specThrottled("leader.replication.throttled.replicas"), "", "",
			"Replicas throttled on the leader side (partition:broker list or *)."),
		td("local.retention.bytes", specLong(-2), "log.local.retention.bytes", "", "Tiered storage local retention; unused."),
		td("local.retention.ms", specLong(-2), "log.local.retention.ms", "", "Tiered storage local retention; unused."),
		td("max.compaction.lag.ms", specLong(1), "log.cleaner.max.compaction.lag.ms", "", "Longest a record stays ineligible for compaction."),
		td("max.message.bytes", specInt(0), "message.max.bytes", "", "Largest record batch the topic accepts."),
		td("message.downconversion.enable", specBool(), "log.message.downconversion.enable", "", "Down-convert batches for old fetch versions."),
		td("message.timestamp.after.max.ms", specLong(0), "log.message.timestamp.after.max.ms", "",
			"How far a CreateTime timestamp may be ahead of the broker's clock."),
		td("message.timestamp.before.max.ms", specLong(0), "log.message.timestamp.before.max.ms", "",
			"How far a CreateTime timestamp may be behind the broker's clock."),
		td("message.timestamp.difference.max.ms", specLong(0), "log.message.timestamp.difference.max.ms", "",
			"Deprecated bound on both directions of the timestamp difference."),
		td("message.timestamp.type", specOneOf("CreateTime", "LogAppendTime"), "log.message.timestamp.type", "",
			"CreateTime keeps the producer's timestamp; LogAppendTime stamps the broker's."),
		td("min.cleanable.dirty.ratio", specRatio(), "log.cleaner.min.cleanable.ratio", "", "Dirty ratio at which compaction starts."),
		td("min.compaction.lag.ms", specLong(0), "log.cleaner.min.compaction.lag.ms", "", "Shortest a record stays uncompacted."),
		td("min.insync.replicas", specInt(1), "min.insync.replicas", "", "In-sync replicas an acks=all write needs."),
		td("preallocate", specBool(), "log.preallocate", "", "Create segment files at full size."),
		td("remote.storage.enable", specRemoteStorage(), "", "false", "Tiered storage; Strait does not support it."),
		td("retention.bytes", specLongAny(), "log.retention.bytes", "", "Partition size kept; -1 means no limit."),
		td("retention.ms", specLong(-1), "log.retention.ms", "", "How long data is kept; -1 means forever."),
		td("segment.bytes", specInt(14), "log.segment.bytes", "", "Segment size that forces a roll."),
		td("segment.index.bytes", specInt(4), "log.index.size.max.bytes", "", "Index size that forces a roll."),
		td("segment.jitter.ms", specLong(0), "log.roll.jitter.ms", "", "Random jitter subtracted from segment.ms."),
		td("segment.ms", specLong(1), "log.roll.ms", "", "Segment age that forces a roll."),
		td("unclean.leader.election.enable", specBool(), "unclean.leader.election.enable", "",
			"Allow an out-of-sync replica to become leader."),
	}
}

var topicByName = func() map[string]*topicDef {
	m := map[string]*topicDef{}
	for i := range topicDefs {
		m[topicDefs[i].Name] = &topicDefs[i]
	}
	return m
}()

// TopicKeys returns the catalogue of topic configs, sorted by name.
func TopicKeys() []TopicKey {
	out := make([]TopicKey, len(topicDefs))
	for i, d := range topicDefs {
		out[i] = d.TopicKey
	}
	return out
}

// ValidateTopicConfigs checks topic config overrides, as CreateTopics and
// AlterConfigs receive them. Keys are checked in sorted order and the first
// problem is returned: an *Error wrapping ErrUnknownConfig or
// ErrInvalidConfig, worded as Kafka words it.
func ValidateTopicConfigs(m map[string]string) error {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		d, ok := topicByName[k]
		if !ok {
			return unknownTopicConfig(k)
		}
		if err := d.Validate(m[k]); err != nil {
			return err
		}
	}
	minLag, okMin := m["min.compaction.lag.ms"]
	maxLag, okMax := m["max.compaction.lag.ms"]
	if okMin && okMax {
		lo, _ := strconv.ParseInt(strings.TrimSpace(minLag), 10, 64)
		hi, _ := strconv.ParseInt(strings.TrimSpace(maxLag), 10, 64)
		if lo > hi {
			return &Error{Key: "min.compaction.lag.ms", Value: minLag, Err: ErrInvalidConfig,
				Reason: "greater than max.compaction.lag.ms",
				msg:    fmt.Sprintf("conflict topic config setting min.compaction.lag.ms (%d) > max.compaction.lag.ms (%d)", lo, hi)}
		}
	}
	return nil
}

// EffectiveTopicConfigs returns every topic config of a topic with the
// given overrides, on broker b with the cluster-wide dynamic broker configs
// dynamic. A value comes from, highest first: the topic's override
// (DynamicTopicConfig), a dynamic broker config (DynamicDefaultBrokerConfig),
// the broker's file, environment or flags (StaticBrokerConfig), the default
// (DefaultConfig). Invalid dynamic values are skipped; an invalid override
// is reported as stored.
func EffectiveTopicConfigs(b *Broker, dynamic map[string]string, overrides map[string]string) map[string]TopicValue {
	eff := applyDynamicLenient(b, dynamic)
	out := make(map[string]TopicValue, len(topicDefs))
	for _, d := range topicDefs {
		tv := TopicValue{Type: d.Type, Doc: d.Doc, Source: DefaultConfig}
		if v, ok := overrides[d.Name]; ok {
			if d.spec.check(v) == nil {
				v = d.spec.normalize(v)
			}
			tv.Value, tv.Source = v, DynamicTopicConfig
			tv.Synonyms = append(tv.Synonyms, Synonym{Name: d.Name, Value: v, Source: DynamicTopicConfig})
		} else {
			tv.Value = d.Default(eff)
		}
		if d.BrokerSynonym != "" {
			syn := brokerSynonyms(b, defByName[d.BrokerSynonym], dynamic)
			if tv.Source != DynamicTopicConfig && len(syn) > 0 {
				tv.Source = syn[0].Source
			}
			tv.Synonyms = append(tv.Synonyms, syn...)
		}
		out[d.Name] = tv
	}
	return out
}

// brokerSynonyms lists where broker key d may get its value, highest
// precedence first: the dynamic value, the static settings of d and its
// aliases (the source that wins first), the default.
func brokerSynonyms(b *Broker, d *keyDef, dynamic map[string]string) []Synonym {
	shown := func(v string) string {
		if d.Sensitive {
			return ""
		}
		return v
	}
	var out []Synonym
	if v, ok := dynamic[d.Name]; ok && d.Dynamic && d.spec.check(v) == nil {
		out = append(out, Synonym{Name: d.Name, Value: shown(d.spec.normalize(v)), Source: DynamicDefaultBrokerConfig})
	}
	type static struct {
		name string
		val  Value
		idx  int
	}
	var set []static
	for i, n := range append([]string{d.Name}, d.Aliases...) {
		if v, ok := b.Values[n]; ok {
			set = append(set, static{n, v, i})
		}
	}
	sort.SliceStable(set, func(i, j int) bool {
		if set[i].val.Source != set[j].val.Source {
			return set[i].val.Source > set[j].val.Source
		}
		return set[i].idx < set[j].idx
	})
	for _, s := range set {
		out = append(out, Synonym{Name: s.name, Value: shown(s.val.Value), Source: StaticBrokerConfig})
	}
	if d.Default != "" {
		out = append(out, Synonym{Name: d.Name, Value: shown(d.Default), Source: DefaultConfig})
	}
	return out
}

// StorageConfig returns the storage settings of a topic's log: its
// overrides, else the dynamic broker configs, else the broker's.
func StorageConfig(b *Broker, dynamic, overrides map[string]string) storage.Config {
	eff := applyDynamicLenient(b, dynamic)
	num := func(name string) int64 {
		d := topicByName[name]
		v, ok := overrides[name]
		if !ok || d.spec.check(v) != nil {
			v = d.Default(eff)
		}
		n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		return n
	}
	c := storage.Config{
		SegmentBytes:       num("segment.bytes"),
		SegmentMs:          num("segment.ms"),
		RetentionMs:        num("retention.ms"),
		RetentionBytes:     num("retention.bytes"),
		IndexIntervalBytes: int32(num("index.interval.bytes")),
		SegmentIndexBytes:  int32(num("segment.index.bytes")),
		FlushMessages:      num("flush.messages"),
		FlushMs:            num("flush.ms"),
		FileDeleteDelayMs:  num("file.delete.delay.ms"),
	}
	if c.RetentionMs < 0 {
		c.RetentionMs = -1
	}
	return c
}
