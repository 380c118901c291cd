package config

import (
	"errors"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
)

func TestConfigValidateDynamic(t *testing.T) {
	cases := []struct {
		name     string
		in       map[string]string
		sentinel error
		want     string
	}{
		{"valid", map[string]string{"log.retention.ms": "1000", "message.max.bytes": "2000000", "log.cleanup.policy": "compact,delete",
			"compression.type": "lz4", "min.insync.replicas": "2", "cluster.link.max.links": "3"}, nil, ""},
		{"read-only key", map[string]string{"num.partitions": "3"}, ErrReadOnlyConfig,
			"Cannot update these configs dynamically: num.partitions"},
		{"read-only path", map[string]string{"log.dirs": "/x"}, ErrReadOnlyConfig,
			"Cannot update these configs dynamically: log.dirs"},
		{"alias is read-only", map[string]string{"log.retention.hours": "1"}, ErrReadOnlyConfig,
			"Cannot update these configs dynamically: log.retention.hours"},
		{"unknown", map[string]string{"log.retention.msx": "1"}, ErrUnknownConfig, "Unknown broker config name: log.retention.msx"},
		{"ignored Kafka key", map[string]string{"num.io.threads": "8"}, ErrUnknownConfig, "Unknown broker config name: num.io.threads"},
		{"invalid", map[string]string{"log.segment.bytes": "abc"}, ErrInvalidConfig,
			"Invalid value abc for configuration log.segment.bytes: Not a number of type INT"},
		{"out of range", map[string]string{"log.segment.bytes": "10"}, ErrInvalidConfig,
			"Invalid value 10 for configuration log.segment.bytes: Value must be at least 14"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateDynamic(tc.in)
			if tc.sentinel == nil {
				if err != nil {
					t.Fatalf("ValidateDynamic(%v) = %v", tc.in, err)
				}
				return
			}
			if !errors.Is(err, tc.sentinel) || err.Error() != tc.want {
				t.Errorf("ValidateDynamic(%v) = %q, want %q wrapping %v", tc.in, err, tc.want, tc.sentinel)
			}
		})
	}
}

func TestConfigApplyDynamic(t *testing.T) {
	b := DefaultBroker()
	before := b.clone()
	c, err := ApplyDynamic(b, map[string]string{"log.retention.ms": "1000", "log.cleanup.policy": "compact, delete", "log.preallocate": "TRUE"})
	if err != nil {
		t.Fatal(err)
	}
	if c.RetentionMs != 1000 || c.CleanupPolicy != "compact,delete" || !c.Preallocate {
		t.Errorf("applied: retention %d, cleanup %q, preallocate %v", c.RetentionMs, c.CleanupPolicy, c.Preallocate)
	}
	if !reflect.DeepEqual(b, before) {
		t.Errorf("ApplyDynamic changed its input")
	}
	c.Listeners[0] = "changed"
	if b.Listeners[0] == "changed" {
		t.Errorf("the copy shares slices with the input")
	}
	if c, err := ApplyDynamic(b, map[string]string{"log.retention.ms": "1", "node.id": "2"}); !errors.Is(err, ErrReadOnlyConfig) || c != nil {
		t.Errorf("read-only key: %v, %v", c, err)
	}
}

func TestConfigDescribeBroker(t *testing.T) {
	path := writeProps(t, "log.retention.hours=1\ncluster.link.secret=hunter2\nnum.io.threads=8\n")
	b, _ := mustLoad(t, LoadOptions{File: path})
	rows := DescribeBroker(b, map[string]string{"log.segment.bytes": "2048"})
	byName := map[string]BrokerValue{}
	for i, r := range rows {
		if i > 0 && rows[i-1].Name >= r.Name {
			t.Errorf("rows not sorted or duplicated at %s", r.Name)
		}
		byName[r.Name] = r
		if r.Value != nil && strings.Contains(*r.Value, "hunter2") {
			t.Errorf("%s shows the secret", r.Name)
		}
		for _, s := range r.Synonyms {
			if strings.Contains(s.Value, "hunter2") {
				t.Errorf("%s synonym %s shows the secret", r.Name, s.Name)
			}
		}
	}
	if len(rows) != len(Keys())+len(aliasDefs)+1 {
		t.Errorf("%d rows, want %d keys + %d aliases + 1 ignored key", len(rows), len(Keys()), len(aliasDefs))
	}
	val := func(name string) string {
		r, ok := byName[name]
		if !ok {
			t.Fatalf("no row %s", name)
		}
		if r.Value == nil {
			return "<nil>"
		}
		return *r.Value
	}
	checks := []struct {
		name     string
		value    string
		source   ConfigSource
		readOnly bool
	}{
		{"log.segment.bytes", "2048", DynamicDefaultBrokerConfig, false},
		{"log.retention.ms", "3600000", StaticBrokerConfig, false},
		{"log.retention.hours", "1", StaticBrokerConfig, true},
		{"log.retention.minutes", "<nil>", DefaultConfig, true},
		{"log.roll.hours", "168", DefaultConfig, true},
		{"cluster.link.secret", "<nil>", StaticBrokerConfig, true},
		{"num.io.threads", "8", StaticBrokerConfig, true},
		{"node.id", "1", DefaultConfig, true},
		{"broker.id", "<nil>", DefaultConfig, true},
		{"num.partitions", "1", DefaultConfig, true},
		{"advertised.listeners", "PLAINTEXT://127.0.0.1:9092", DefaultConfig, true},
	}
	for _, c := range checks {
		r := byName[c.name]
		if got := val(c.name); got != c.value || r.Source != c.source || r.ReadOnly != c.readOnly {
			t.Errorf("%s = %s %v read-only=%v, want %s %v read-only=%v", c.name, got, r.Source, r.ReadOnly, c.value, c.source, c.readOnly)
		}
	}
	if s := byName["cluster.link.secret"]; !s.Sensitive || s.Type != TypePassword {
		t.Errorf("cluster.link.secret: %+v", s)
	}
	wantSyn := []Synonym{{"log.retention.hours", "1", StaticBrokerConfig}, {"log.retention.ms", "604800000", DefaultConfig}}
	if got := byName["log.retention.ms"].Synonyms; !reflect.DeepEqual(got, wantSyn) {
		t.Errorf("log.retention.ms synonyms %+v, want %+v", got, wantSyn)
	}
}

// kafkaClusterWide lists the keys Kafka documents as dynamically updatable
// cluster-wide (that Strait knows), plus Strait's own cluster.link.max.links.
var kafkaClusterWide = []string{
	"cluster.link.max.links", "compression.type", "log.cleaner.delete.retention.ms", "log.cleaner.max.compaction.lag.ms",
	"log.cleaner.min.cleanable.ratio", "log.cleaner.min.compaction.lag.ms", "log.cleanup.policy",
	"log.flush.interval.messages", "log.flush.interval.ms", "log.index.interval.bytes", "log.index.size.max.bytes",
	"log.local.retention.bytes", "log.local.retention.ms", "log.message.downconversion.enable",
	"log.message.timestamp.after.max.ms", "log.message.timestamp.before.max.ms",
	"log.message.timestamp.difference.max.ms", "log.message.timestamp.type", "log.preallocate",
	"log.retention.bytes", "log.retention.ms", "log.roll.jitter.ms", "log.roll.ms", "log.segment.bytes",
	"log.segment.delete.delay.ms", "max.connections", "max.connections.per.ip", "max.connections.per.ip.overrides",
	"message.max.bytes", "min.insync.replicas", "unclean.leader.election.enable",
}

func TestConfigKeysCatalogue(t *testing.T) {
	keys := Keys()
	var dynamic []string
	seen := map[string]bool{}
	b := DefaultBroker()
	for _, k := range keys {
		for _, n := range append([]string{k.Name}, k.Aliases...) {
			if seen[n] {
				t.Errorf("%s listed twice", n)
			}
			seen[n] = true
		}
		if k.Dynamic {
			dynamic = append(dynamic, k.Name)
		}
		if k.ReadOnly == k.Dynamic {
			t.Errorf("%s: ReadOnly %v and Dynamic %v", k.Name, k.ReadOnly, k.Dynamic)
		}
		if k.Doc == "" || k.Type == TypeUnknown {
			t.Errorf("%s: no doc or type", k.Name)
		}
		d := defByName[k.Name]
		if d.spec.check(k.Default) != nil && !d.derived {
			t.Errorf("%s: default %q does not pass its own check", k.Name, k.Default)
		}
		if got := d.get(b); got != k.Default && !d.derived {
			t.Errorf("%s: DefaultBroker has %q, catalogue says %q", k.Name, got, k.Default)
		}
	}
	if !sort.StringsAreSorted(IgnoredKeys()) {
		t.Errorf("IgnoredKeys not sorted: %q", IgnoredKeys())
	}
	for _, k := range IgnoredKeys() {
		if seen[k] {
			t.Errorf("%s is both known and ignored", k)
		}
	}
	sort.Strings(dynamic)
	if !reflect.DeepEqual(dynamic, kafkaClusterWide) {
		t.Errorf("dynamic keys %q\nwant %q", dynamic, kafkaClusterWide)
	}
	wantAliases := map[string][]string{
		"node.id": {"broker.id"}, "log.dirs": {"log.dir"}, "log.roll.ms": {"log.roll.hours"},
		"log.retention.ms": {"log.retention.minutes", "log.retention.hours"},
	}
	for name, want := range wantAliases {
		if k, ok := LookupKey(name); !ok || !reflect.DeepEqual(k.Aliases, want) {
			t.Errorf("%s aliases %q, want %q", name, k.Aliases, want)
		}
	}
	if k, ok := LookupKey("log.retention.hours"); !ok || k.Name != "log.retention.ms" {
		t.Errorf("LookupKey(alias) = %+v, %v", k, ok)
	}
	keys[0].Aliases = append(keys[0].Aliases, "mutated")
	if k, _ := LookupKey(keys[0].Name); slices.Contains(k.Aliases, "mutated") {
		t.Errorf("Keys returns the catalogue's own slices")
	}
}

// TestConfigConcurrentUse runs the read-only functions from several
// goroutines on one Broker; the race detector checks they do not write it.
func TestConfigConcurrentUse(t *testing.T) {
	b, _ := mustLoad(t, LoadOptions{File: writeProps(t, "log.retention.hours=2\n")})
	dynamic := map[string]string{"log.segment.bytes": "4096"}
	var wg sync.WaitGroup
	results := make([]int64, 4)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = DescribeBroker(b, dynamic)
			_ = EffectiveTopicConfigs(b, dynamic, map[string]string{"retention.ms": "5"})
			results[i] = StorageConfig(b, dynamic, nil).SegmentBytes
		}()
	}
	wg.Wait()
	for i, r := range results {
		if r != 4096 {
			t.Errorf("goroutine %d: segment bytes %d, want 4096", i, r)
		}
	}
}
