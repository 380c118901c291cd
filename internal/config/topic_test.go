package config

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/strait-kafka/strait/internal/storage"
)

func TestConfigTopicKeysCatalogue(t *testing.T) {
	want := []string{
		"cleanup.policy", "compression.type", "delete.retention.ms", "file.delete.delay.ms", "flush.messages",
		"flush.ms", "follower.replication.throttled.replicas", "index.interval.bytes",
		"leader.replication.throttled.replicas", "local.retention.bytes", "local.retention.ms",
		"max.compaction.lag.ms", "max.message.bytes", "message.downconversion.enable",
		"message.timestamp.after.max.ms", "message.timestamp.before.max.ms",
		"message.timestamp.difference.max.ms", "message.timestamp.type", "min.cleanable.dirty.ratio",
		"min.compaction.lag.ms", "min.insync.replicas", "preallocate", "remote.storage.enable",
		"retention.bytes", "retention.ms", "segment.bytes", "segment.index.bytes", "segment.jitter.ms",
		"segment.ms", "unclean.leader.election.enable",
	}
	keys := TopicKeys()
	var names []string
	for _, k := range keys {
		names = append(names, k.Name)
	}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("TopicKeys names = %q\nwant %q", names, want)
	}
	b := DefaultBroker()
	for _, k := range keys {
		if k.BrokerSynonym != "" {
			if _, ok := LookupKey(k.BrokerSynonym); !ok {
				t.Errorf("%s: broker synonym %s is not a broker key", k.Name, k.BrokerSynonym)
			}
		}
		if err := k.Validate(k.Default(b)); err != nil {
			t.Errorf("%s: default %q does not validate: %v", k.Name, k.Default(b), err)
		}
		if k.Type == TypeUnknown || k.Doc == "" {
			t.Errorf("%s: missing type or doc", k.Name)
		}
	}
	synonyms := map[string]string{
		"retention.ms": "log.retention.ms", "segment.ms": "log.roll.ms", "segment.index.bytes": "log.index.size.max.bytes",
		"max.message.bytes": "message.max.bytes", "file.delete.delay.ms": "log.segment.delete.delay.ms",
		"min.cleanable.dirty.ratio": "log.cleaner.min.cleanable.ratio", "flush.messages": "log.flush.interval.messages",
		"remote.storage.enable": "",
	}
	for _, k := range keys {
		if want, ok := synonyms[k.Name]; ok && k.BrokerSynonym != want {
			t.Errorf("%s: broker synonym %q, want %q", k.Name, k.BrokerSynonym, want)
		}
	}
}

func TestConfigTopicValidate(t *testing.T) {
	cases := []struct {
		name     string
		in       map[string]string
		sentinel error  // nil: valid
		want     string // the whole message
	}{
		{"empty", map[string]string{}, nil, ""},
		{"valid set", map[string]string{"retention.ms": " 1000 ", "cleanup.policy": "delete, compact", "preallocate": "TRUE",
			"min.cleanable.dirty.ratio": "0.1", "compression.type": "zstd", "message.timestamp.type": "LogAppendTime",
			"leader.replication.throttled.replicas": "0:1,1:2", "follower.replication.throttled.replicas": "*",
			"remote.storage.enable": "false", "retention.bytes": "-1", "local.retention.ms": "-2"}, nil, ""},
		{"not a long", map[string]string{"retention.ms": "abc"}, ErrInvalidConfig,
			"Invalid value abc for configuration retention.ms: Not a number of type LONG"},
		{"retention below -1", map[string]string{"retention.ms": "-2"}, ErrInvalidConfig,
			"Invalid value -2 for configuration retention.ms: Value must be at least -1"},
		{"segment too small", map[string]string{"segment.bytes": "13"}, ErrInvalidConfig,
			"Invalid value 13 for configuration segment.bytes: Value must be at least 14"},
		{"int overflow", map[string]string{"segment.bytes": "3000000000"}, ErrInvalidConfig,
			"Invalid value 3000000000 for configuration segment.bytes: Not a number of type INT"},
		{"ratio too big", map[string]string{"min.cleanable.dirty.ratio": "1.5"}, ErrInvalidConfig,
			"Invalid value 1.5 for configuration min.cleanable.dirty.ratio: Value must be no more than 1"},
		{"ratio not a number", map[string]string{"min.cleanable.dirty.ratio": "half"}, ErrInvalidConfig,
			"Invalid value half for configuration min.cleanable.dirty.ratio: Not a number of type DOUBLE"},
		{"cleanup policy element", map[string]string{"cleanup.policy": "compact,shred"}, ErrInvalidConfig,
			"Invalid value shred for configuration cleanup.policy: String must be one of: compact, delete"},
		{"compression", map[string]string{"compression.type": "brotli"}, ErrInvalidConfig,
			"Invalid value brotli for configuration compression.type: String must be one of: uncompressed, zstd, lz4, snappy, gzip, producer"},
		{"boolean", map[string]string{"preallocate": "yes"}, ErrInvalidConfig,
			"Invalid value yes for configuration preallocate: Expected value to be either true or false"},
		{"timestamp type", map[string]string{"message.timestamp.type": "Now"}, ErrInvalidConfig,
			"Invalid value Now for configuration message.timestamp.type: String must be one of: CreateTime, LogAppendTime"},
		{"min isr", map[string]string{"min.insync.replicas": "0"}, ErrInvalidConfig,
			"Invalid value 0 for configuration min.insync.replicas: Value must be at least 1"},
		{"max message bytes", map[string]string{"max.message.bytes": "-1"}, ErrInvalidConfig,
			"Invalid value -1 for configuration max.message.bytes: Value must be at least 0"},
		{"throttled replicas", map[string]string{"leader.replication.throttled.replicas": "0-1"}, ErrInvalidConfig,
			"Invalid value 0-1 for configuration leader.replication.throttled.replicas: leader.replication.throttled.replicas must be the literal '*' or a list of replicas in the following format: [partitionId]:[brokerId],[partitionId]:[brokerId],..."},
		{"tiered storage", map[string]string{"remote.storage.enable": "true"}, ErrInvalidConfig,
			"Invalid value true for configuration remote.storage.enable: Tiered Storage functionality is disabled in the broker. Topic cannot be configured with remote log storage."},
		{"unknown", map[string]string{"retention.msx": "1"}, ErrUnknownConfig, "Unknown topic config name: retention.msx"},
		{"broker name is not a topic config", map[string]string{"log.retention.ms": "1"}, ErrUnknownConfig,
			"Unknown topic config name: log.retention.ms"},
		{"first problem in key order", map[string]string{"segment.ms": "0", "retention.ms": "x"}, ErrInvalidConfig,
			"Invalid value x for configuration retention.ms: Not a number of type LONG"},
		{"compaction lag conflict", map[string]string{"min.compaction.lag.ms": "10", "max.compaction.lag.ms": "5"}, ErrInvalidConfig,
			"conflict topic config setting min.compaction.lag.ms (10) > max.compaction.lag.ms (5)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateTopicConfigs(tc.in)
			if tc.sentinel == nil {
				if err != nil {
					t.Fatalf("ValidateTopicConfigs(%v) = %v, want nil", tc.in, err)
				}
				return
			}
			if !errors.Is(err, tc.sentinel) {
				t.Fatalf("ValidateTopicConfigs(%v) = %v, want %v", tc.in, err, tc.sentinel)
			}
			if err.Error() != tc.want {
				t.Errorf("message %q\nwant    %q", err, tc.want)
			}
		})
	}
}

func TestConfigEffectiveTopicConfigs(t *testing.T) {
	path := writeProps(t, "log.retention.hours=1\n")
	b, _ := mustLoad(t, LoadOptions{File: path, Env: []string{"STRAIT_LOG_SEGMENT_BYTES=2048"}})
	dynamic := map[string]string{"log.segment.bytes": "4096", "log.cleanup.policy": "compact"}
	overrides := map[string]string{"cleanup.policy": "delete", "max.message.bytes": " 100"}
	eff := EffectiveTopicConfigs(b, dynamic, overrides)
	if len(eff) != len(TopicKeys()) {
		t.Errorf("%d configs, want %d", len(eff), len(TopicKeys()))
	}
	want := map[string]TopicValue{
		"retention.ms": {Value: "3600000", Source: StaticBrokerConfig, Synonyms: []Synonym{
			{"log.retention.hours", "1", StaticBrokerConfig},
			{"log.retention.ms", "604800000", DefaultConfig}}},
		"segment.bytes": {Value: "4096", Source: DynamicDefaultBrokerConfig, Synonyms: []Synonym{
			{"log.segment.bytes", "4096", DynamicDefaultBrokerConfig},
			{"log.segment.bytes", "2048", StaticBrokerConfig},
			{"log.segment.bytes", "1073741824", DefaultConfig}}},
		"cleanup.policy": {Value: "delete", Source: DynamicTopicConfig, Synonyms: []Synonym{
			{"cleanup.policy", "delete", DynamicTopicConfig},
			{"log.cleanup.policy", "compact", DynamicDefaultBrokerConfig},
			{"log.cleanup.policy", "delete", DefaultConfig}}},
		"max.message.bytes": {Value: "100", Source: DynamicTopicConfig, Synonyms: []Synonym{
			{"max.message.bytes", "100", DynamicTopicConfig},
			{"message.max.bytes", "1048588", DefaultConfig}}},
		"min.insync.replicas": {Value: "1", Source: DefaultConfig, Synonyms: []Synonym{
			{"min.insync.replicas", "1", DefaultConfig}}},
		"min.cleanable.dirty.ratio": {Value: "0.5", Source: DefaultConfig, Synonyms: []Synonym{
			{"log.cleaner.min.cleanable.ratio", "0.5", DefaultConfig}}},
		"remote.storage.enable":                 {Value: "false", Source: DefaultConfig},
		"leader.replication.throttled.replicas": {Value: "", Source: DefaultConfig},
	}
	for name, w := range want {
		got := eff[name]
		got.Type, got.Doc = 0, ""
		if !reflect.DeepEqual(got, w) {
			t.Errorf("%s = %+v\nwant %+v", name, got, w)
		}
	}
	if eff["retention.ms"].Type != TypeLong || eff["cleanup.policy"].Type != TypeList {
		t.Errorf("types: retention.ms %v, cleanup.policy %v", eff["retention.ms"].Type, eff["cleanup.policy"].Type)
	}

	// A layer above the file that sets another alias comes first among the
	// static synonyms, and it gives the value.
	b2, _ := mustLoad(t, LoadOptions{File: writeProps(t, "log.retention.ms=5\n"), Flags: map[string]string{"log.retention.minutes": "2"}})
	got := EffectiveTopicConfigs(b2, nil, nil)["retention.ms"]
	wantSyn := []Synonym{{"log.retention.minutes", "2", StaticBrokerConfig}, {"log.retention.ms", "5", StaticBrokerConfig},
		{"log.retention.ms", "604800000", DefaultConfig}}
	if got.Value != "120000" || got.Source != StaticBrokerConfig || !reflect.DeepEqual(got.Synonyms, wantSyn) {
		t.Errorf("retention.ms = %+v, want 120000 with %+v", got, wantSyn)
	}

	// Invalid or read-only dynamic values are skipped, not applied.
	got = EffectiveTopicConfigs(b, map[string]string{"log.retention.ms": "soon", "num.partitions": "9"}, nil)["retention.ms"]
	if got.Value != "3600000" || got.Source != StaticBrokerConfig {
		t.Errorf("invalid dynamic value applied: %+v", got)
	}
	if b.SegmentBytes != 2048 {
		t.Errorf("EffectiveTopicConfigs changed the broker: segment bytes %d", b.SegmentBytes)
	}
}

func TestConfigStorageConfig(t *testing.T) {
	b := DefaultBroker()
	got := StorageConfig(b, nil, nil)
	want := storage.Config{SegmentBytes: 1 << 30, SegmentMs: 7 * 24 * msPerHour, RetentionMs: 7 * 24 * msPerHour, RetentionBytes: -1,
		IndexIntervalBytes: 4096, SegmentIndexBytes: 10 << 20, FlushMessages: math.MaxInt64, FlushMs: math.MaxInt64,
		FileDeleteDelayMs: 60000}
	if got != want {
		t.Errorf("defaults: %+v\nwant %+v", got, want)
	}

	overrides := map[string]string{
		"segment.bytes": "100", "segment.ms": "200", "retention.ms": "300", "retention.bytes": "400",
		"index.interval.bytes": "500", "segment.index.bytes": "600", "flush.messages": "700", "flush.ms": "800",
		"file.delete.delay.ms": "900",
	}
	got = StorageConfig(b, nil, overrides)
	want = storage.Config{SegmentBytes: 100, SegmentMs: 200, RetentionMs: 300, RetentionBytes: 400, IndexIntervalBytes: 500,
		SegmentIndexBytes: 600, FlushMessages: 700, FlushMs: 800, FileDeleteDelayMs: 900}
	if got != want {
		t.Errorf("overrides: %+v\nwant %+v", got, want)
	}

	dynamic := map[string]string{
		"log.segment.bytes": "1000", "log.roll.ms": "2000", "log.retention.ms": "-1", "log.retention.bytes": "4000",
		"log.index.interval.bytes": "5000", "log.index.size.max.bytes": "6000", "log.flush.interval.messages": "7000",
		"log.flush.interval.ms": "8000", "log.segment.delete.delay.ms": "9000",
	}
	got = StorageConfig(b, dynamic, map[string]string{"segment.ms": "22", "retention.bytes": "junk"})
	want = storage.Config{SegmentBytes: 1000, SegmentMs: 22, RetentionMs: -1, RetentionBytes: 4000, IndexIntervalBytes: 5000,
		SegmentIndexBytes: 6000, FlushMessages: 7000, FlushMs: 8000, FileDeleteDelayMs: 9000}
	if got != want {
		t.Errorf("dynamic with an invalid override: %+v\nwant %+v", got, want)
	}

	fromFile, _ := mustLoad(t, LoadOptions{File: writeProps(t, "log.roll.hours=2\nlog.retention.minutes=3\nlog.segment.bytes=14\n")})
	got = StorageConfig(fromFile, nil, nil)
	if got.SegmentMs != 2*msPerHour || got.RetentionMs != 3*msPerMinute || got.SegmentBytes != 14 {
		t.Errorf("from aliases: %+v", got)
	}
}

func TestConfigTopicErrorsAreTyped(t *testing.T) {
	err := ValidateTopicConfigs(map[string]string{"retention.ms": "abc"})
	var ce *Error
	if !errors.As(err, &ce) || ce.Key != "retention.ms" || ce.Value != "abc" || !strings.Contains(ce.Reason, "LONG") {
		t.Errorf("error %#v: want Key, Value and Reason set", err)
	}
}
