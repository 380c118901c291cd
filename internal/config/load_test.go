package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// writeProps writes a properties file into a temporary directory.
func writeProps(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "server.properties")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func mustLoad(t *testing.T, opts LoadOptions) (*Broker, []string) {
	t.Helper()
	b, warnings, err := Load(opts)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return b, warnings
}

func TestConfigLoadDefaults(t *testing.T) {
	b, warnings := mustLoad(t, LoadOptions{})
	if len(warnings) != 0 {
		t.Errorf("warnings without settings: %q", warnings)
	}
	want := DefaultBroker()
	if !reflect.DeepEqual(b, want) {
		t.Errorf("Load() = %+v\nwant DefaultBroker() = %+v", b, want)
	}
	checks := []struct {
		name     string
		got, exp any
	}{
		{"node.id", b.NodeID, int32(1)},
		{"listeners", b.Listeners, []string{"PLAINTEXT://127.0.0.1:9092"}},
		{"advertised.listeners", b.AdvertisedListeners, []string{"PLAINTEXT://127.0.0.1:9092"}},
		{"http.listeners", b.HTTPListeners, []string{"http://127.0.0.1:8090"}},
		{"log.dirs", b.LogDirs, []string{"./strait-data"}},
		{"metadata.log.dir", b.MetadataLogDir, "strait-data/__metadata"},
		{"metadata.endpoints", len(b.MetadataEndpoints), 0},
		{"message.max.bytes", b.MessageMaxBytes, int32(1048588)},
		{"log.segment.bytes", b.SegmentBytes, int64(1 << 30)},
		{"log.retention.ms", b.RetentionMs, int64(7 * 24 * msPerHour)},
		{"log.roll.ms", b.RollMs, int64(7 * 24 * msPerHour)},
		{"log.flush.interval.ms", b.FlushMs, int64(1<<63 - 1)},
		{"log.flush.scheduler.interval.ms", b.FlushSchedulerMs, int64(1000)},
		{"offsets.retention.minutes", b.OffsetsRetentionMinutes, int32(10080)},
		{"group.max.size", b.GroupMaxSize, int32(1<<31 - 1)},
		{"cluster.link.max.links", b.ClusterLinkMaxLinks, int32(10)},
		{"cluster.link.secret", b.ClusterLinkSecret, ""},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.exp) {
			t.Errorf("default %s = %v, want %v", c.name, c.got, c.exp)
		}
	}
	if err := b.Validate(); err != nil {
		t.Errorf("default config does not validate: %v", err)
	}
}

func TestConfigLoadPrecedence(t *testing.T) {
	path := writeProps(t, "log.segment.bytes=1000\nnum.partitions=3\nmessage.max.bytes=500\n")
	b, _ := mustLoad(t, LoadOptions{
		File:  path,
		Env:   []string{"PATH=/bin", "STRAIT_NUM_PARTITIONS=4", "STRAIT_MESSAGE_MAX_BYTES=600"},
		Flags: map[string]string{"message.max.bytes": "700"},
	})
	if b.SegmentBytes != 1000 || b.NumPartitions != 4 || b.MessageMaxBytes != 700 {
		t.Errorf("segment.bytes=%d (want file 1000), num.partitions=%d (want env 4), message.max.bytes=%d (want flag 700)",
			b.SegmentBytes, b.NumPartitions, b.MessageMaxBytes)
	}
	wantValues := map[string]Value{
		"log.segment.bytes": {"1000", SourceFile},
		"num.partitions":    {"4", SourceEnv},
		"message.max.bytes": {"700", SourceFlag},
	}
	if !reflect.DeepEqual(b.Values, wantValues) {
		t.Errorf("Values = %v, want %v", b.Values, wantValues)
	}
}

func TestConfigEnvName(t *testing.T) {
	for key, want := range map[string]string{
		"log.dirs":                  "STRAIT_LOG_DIRS",
		"auto.create.topics.enable": "STRAIT_AUTO_CREATE_TOPICS_ENABLE",
		"some-key.x":                "STRAIT_SOME_KEY_X",
	} {
		if got := EnvName(key); got != want {
			t.Errorf("EnvName(%q) = %q, want %q", key, got, want)
		}
	}
	b, _ := mustLoad(t, LoadOptions{Env: []string{"STRAIT_LOG_DIRS=/a, /b", "STRAIT_AUTO_CREATE_TOPICS_ENABLE=FALSE"}})
	if !reflect.DeepEqual(b.LogDirs, []string{"/a", "/b"}) || b.AutoCreateTopics {
		t.Errorf("from env: log.dirs=%q auto.create.topics.enable=%v", b.LogDirs, b.AutoCreateTopics)
	}
}

func TestConfigLoadAliases(t *testing.T) {
	cases := []struct {
		name  string
		file  string
		env   []string
		flags map[string]string
		check func(b *Broker) (got, want any)
	}{
		{name: "retention hours", file: "log.retention.hours=2",
			check: func(b *Broker) (any, any) { return b.RetentionMs, int64(2 * msPerHour) }},
		{name: "retention minutes beat hours", file: "log.retention.hours=2\nlog.retention.minutes=3",
			check: func(b *Broker) (any, any) { return b.RetentionMs, int64(3 * msPerMinute) }},
		{name: "retention ms beats minutes and hours", file: "log.retention.ms=5\nlog.retention.minutes=3\nlog.retention.hours=2",
			check: func(b *Broker) (any, any) { return b.RetentionMs, int64(5) }},
		{name: "higher layer wins as a whole", file: "log.retention.ms=5", env: []string{"STRAIT_LOG_RETENTION_HOURS=1"},
			check: func(b *Broker) (any, any) { return b.RetentionMs, int64(msPerHour) }},
		{name: "flag minutes beat env ms", env: []string{"STRAIT_LOG_RETENTION_MS=5"}, flags: map[string]string{"log.retention.minutes": "1"},
			check: func(b *Broker) (any, any) { return b.RetentionMs, int64(msPerMinute) }},
		{name: "negative hours mean forever", file: "log.retention.hours=-1",
			check: func(b *Broker) (any, any) { return b.RetentionMs, int64(-1) }},
		{name: "negative ms mean forever", file: "log.retention.ms=-5",
			check: func(b *Broker) (any, any) { return b.RetentionMs, int64(-1) }},
		{name: "roll hours", file: "log.roll.hours=1",
			check: func(b *Broker) (any, any) { return b.RollMs, int64(msPerHour) }},
		{name: "roll ms beats hours", file: "log.roll.hours=1\nlog.roll.ms=10",
			check: func(b *Broker) (any, any) { return b.RollMs, int64(10) }},
		{name: "roll jitter hours", file: "log.roll.jitter.hours=1",
			check: func(b *Broker) (any, any) { return b.RollJitterMs, int64(msPerHour) }},
		{name: "broker.id", file: "broker.id=7",
			check: func(b *Broker) (any, any) { return b.NodeID, int32(7) }},
		{name: "broker.id equal to node.id", file: "broker.id=07\nnode.id=7",
			check: func(b *Broker) (any, any) { return b.NodeID, int32(7) }},
		{name: "flag broker.id beats file node.id", file: "node.id=8", flags: map[string]string{"broker.id": "9"},
			check: func(b *Broker) (any, any) { return b.NodeID, int32(9) }},
		{name: "log.dir", file: "log.dir=/a",
			check: func(b *Broker) (any, any) {
				return []any{b.LogDirs, b.MetadataLogDir}, []any{[]string{"/a"}, "/a/__metadata"}
			}},
		{name: "log.dirs beats log.dir", file: "log.dirs=/b,/c\nlog.dir=/a",
			check: func(b *Broker) (any, any) {
				return []any{b.LogDirs, b.MetadataLogDir}, []any{[]string{"/b", "/c"}, "/b/__metadata"}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts := LoadOptions{Env: tc.env, Flags: tc.flags}
			if tc.file != "" {
				opts.File = writeProps(t, tc.file)
			}
			b, _ := mustLoad(t, opts)
			if got, want := tc.check(b); !reflect.DeepEqual(got, want) {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
}

func TestConfigLoadErrors(t *testing.T) {
	cases := []struct {
		name     string
		file     string
		env      []string
		flags    map[string]string
		sentinel error
		want     []string // substrings of the message
	}{
		{name: "unknown key in file", file: strings.Repeat("# comment\n", 11) + "log.dirz=/x",
			sentinel: ErrUnknownConfig, want: []string{`unknown setting "log.dirz" in `, "server.properties line 12"}},
		{name: "unknown flag", flags: map[string]string{"log.dirz": "/x"},
			sentinel: ErrUnknownConfig, want: []string{`unknown setting "log.dirz" in flag log.dirz`}},
		{name: "not an integer", file: "\n\nlog.segment.bytes=abc",
			sentinel: ErrInvalidConfig, want: []string{`invalid value "abc" for log.segment.bytes: not an integer`, "line 3"}},
		{name: "segment too small", file: "log.segment.bytes=13",
			sentinel: ErrInvalidConfig, want: []string{`invalid value "13" for log.segment.bytes: must be at least 14`}},
		{name: "int overflow", file: "num.partitions=99999999999",
			sentinel: ErrInvalidConfig, want: []string{`invalid value "99999999999" for num.partitions: out of range for a 32-bit integer`}},
		{name: "negative message.max.bytes", file: "message.max.bytes=-1",
			sentinel: ErrInvalidConfig, want: []string{`invalid value "-1" for message.max.bytes: must be at least 0`}},
		{name: "zero partitions from env", env: []string{"STRAIT_NUM_PARTITIONS=0"},
			sentinel: ErrInvalidConfig, want: []string{`invalid value "0" for num.partitions: must be at least 1 (environment variable STRAIT_NUM_PARTITIONS)`}},
		{name: "negative node.id", flags: map[string]string{"node.id": "-1"},
			sentinel: ErrInvalidConfig, want: []string{`invalid value "-1" for node.id: must be at least 0 (flag node.id)`}},
		{name: "bad alias value", file: "log.retention.hours=soon",
			sentinel: ErrInvalidConfig, want: []string{`invalid value "soon" for log.retention.hours: not an integer`}},
		{name: "node.id and broker.id differ", file: "node.id=1\nbroker.id=2",
			sentinel: ErrInvalidConfig, want: []string{`invalid value "2" for broker.id: must equal node.id (1`}},
		{name: "boolean", file: "auto.create.topics.enable=yes",
			sentinel: ErrInvalidConfig, want: []string{`invalid value "yes" for auto.create.topics.enable: not a boolean`}},
		{name: "listener without scheme", file: "listeners=localhost:9092",
			sentinel: ErrInvalidConfig, want: []string{`invalid value "localhost:9092" for listeners: listener "localhost:9092" is not NAME://HOST:PORT`}},
		{name: "listener port", file: "listeners=PLAINTEXT://:99999",
			sentinel: ErrInvalidConfig, want: []string{`for listeners: listener "PLAINTEXT://:99999" has an invalid port "99999"`}},
		{name: "listener without protocol", file: "listeners=FOO://:9092",
			sentinel: ErrInvalidConfig, want: []string{`invalid value "FOO://:9092" for listeners: listener name FOO has no security protocol`}},
		{name: "listener port used twice", file: "listeners=PLAINTEXT://:9092,SSL://:9092",
			sentinel: ErrInvalidConfig, want: []string{`invalid value "SSL://:9092" for listeners: port 9092 is also used by PLAINTEXT://:9092`}},
		{name: "listener name used twice", file: "listeners=PLAINTEXT://:1,PLAINTEXT://:2",
			sentinel: ErrInvalidConfig, want: []string{`listener name PLAINTEXT is used twice`}},
		{name: "advertised unknown name", file: "advertised.listeners=SSL://host:9093",
			sentinel: ErrInvalidConfig, want: []string{`invalid value "SSL://host:9093" for advertised.listeners: no listener is named SSL`}},
		{name: "advertised wildcard", file: "advertised.listeners=PLAINTEXT://0.0.0.0:9092",
			sentinel: ErrInvalidConfig, want: []string{`for advertised.listeners: advertised listener "PLAINTEXT://0.0.0.0:9092" uses the non-routable address 0.0.0.0`}},
		{name: "http scheme", file: "http.listeners=https://127.0.0.1:8443",
			sentinel: ErrInvalidConfig, want: []string{`invalid value "https://127.0.0.1:8443" for http.listeners: listener "https://127.0.0.1:8443" is not http://HOST:PORT`}},
		{name: "http port clash", file: "listeners=PLAINTEXT://:9092\nhttp.listeners=http://:9092",
			sentinel: ErrInvalidConfig, want: []string{`for http.listeners: port 9092 is also used by PLAINTEXT://:9092`}},
		{name: "timestamp type", file: "log.message.timestamp.type=Create",
			sentinel: ErrInvalidConfig, want: []string{`invalid value "Create" for log.message.timestamp.type: must be one of CreateTime, LogAppendTime`}},
		{name: "cleanup policy", file: "log.cleanup.policy=delete,shred",
			sentinel: ErrInvalidConfig, want: []string{`invalid value "shred" for log.cleanup.policy: must be one of compact, delete`}},
		{name: "compression", file: "compression.type=brotli",
			sentinel: ErrInvalidConfig, want: []string{`invalid value "brotli" for compression.type: must be one of uncompressed, zstd, lz4, snappy, gzip, producer`}},
		{name: "protocol map", file: "listener.security.protocol.map=PLAINTEXT:TLS",
			sentinel: ErrInvalidConfig, want: []string{`for listener.security.protocol.map: unknown security protocol "TLS"`}},
		{name: "empty log.dirs", file: "log.dirs=",
			sentinel: ErrInvalidConfig, want: []string{`invalid value "" for log.dirs: must not be empty`}},
		{name: "duplicate log dir", file: "log.dirs=/a,/a",
			sentinel: ErrInvalidConfig, want: []string{`for log.dirs: directory "/a" is listed twice`}},
		{name: "session timeouts", file: "group.min.session.timeout.ms=10000\ngroup.max.session.timeout.ms=5000",
			sentinel: ErrInvalidConfig, want: []string{`invalid value "10000" for group.min.session.timeout.ms: must not exceed group.max.session.timeout.ms (5000)`}},
		{name: "every error reported", file: "num.partitions=x\nlog.dirz=1\nmessage.max.bytes=y",
			sentinel: ErrInvalidConfig, want: []string{`"x" for num.partitions`, `unknown setting "log.dirz"`, `"y" for message.max.bytes`}},
		{name: "ratio", file: "log.cleaner.min.cleanable.ratio=1.5",
			sentinel: ErrInvalidConfig, want: []string{`invalid value "1.5" for log.cleaner.min.cleanable.ratio: must be at most 1`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts := LoadOptions{Env: tc.env, Flags: tc.flags}
			if tc.file != "" {
				opts.File = writeProps(t, tc.file)
			}
			b, _, err := Load(opts)
			if err == nil {
				t.Fatalf("Load succeeded: %+v", b)
			}
			if b != nil {
				t.Errorf("Load returned a broker with the error %v", err)
			}
			if !errors.Is(err, tc.sentinel) {
				t.Errorf("error %q does not wrap %v", err, tc.sentinel)
			}
			var ce *Error
			if !errors.As(err, &ce) || ce.Key == "" {
				t.Errorf("error %q is not an *Error naming a key", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestConfigLoadFileErrors(t *testing.T) {
	_, _, err := Load(LoadOptions{File: filepath.Join(t.TempDir(), "missing.properties")})
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v, want an error wrapping os.ErrNotExist", err)
	}
	path := writeProps(t, "a=1\nlog.dirs=\\u00zz")
	_, _, err = Load(LoadOptions{File: path})
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("malformed escape: %v, want the file and line named", err)
	}
}

func TestConfigLoadWarnings(t *testing.T) {
	path := writeProps(t, "num.io.threads=8\nzookeeper.connect=localhost:2181\nnum.partitions=2\n")
	b, warnings := mustLoad(t, LoadOptions{
		File:  path,
		Env:   []string{"STRAIT_BROKERS=localhost:9092", "STRAIT_SOCKET_SEND_BUFFER_BYTES=1", "HOME=/root"},
		Flags: map[string]string{"num.network.threads": "3"},
	})
	want := []string{
		`"num.io.threads" (` + path + ` line 1)`,
		`"zookeeper.connect" (` + path + ` line 2)`,
		"STRAIT_BROKERS",
		`"socket.send.buffer.bytes" (environment variable STRAIT_SOCKET_SEND_BUFFER_BYTES)`,
		`"num.network.threads" (flag num.network.threads)`,
	}
	if len(warnings) != len(want) {
		t.Fatalf("warnings = %q, want %d", warnings, len(want))
	}
	for _, w := range want {
		found := false
		for _, got := range warnings {
			found = found || strings.Contains(got, w)
		}
		if !found {
			t.Errorf("no warning contains %q: %q", w, warnings)
		}
	}
	if b.NumPartitions != 2 {
		t.Errorf("num.partitions = %d, want 2", b.NumPartitions)
	}
	if v := b.Values["num.io.threads"]; v != (Value{"8", SourceFile}) {
		t.Errorf("ignored key not recorded in Values: %v", v)
	}
}

func TestConfigLoadKafkaServerProperties(t *testing.T) {
	b, warnings := mustLoad(t, LoadOptions{File: filepath.Join("testdata", "kafka-kraft-server.properties")})
	if !reflect.DeepEqual(b.Listeners, []string{"PLAINTEXT://:9092"}) ||
		!reflect.DeepEqual(b.AdvertisedListeners, []string{"PLAINTEXT://localhost:9092"}) {
		t.Errorf("controller listener not dropped: listeners %q advertised %q", b.Listeners, b.AdvertisedListeners)
	}
	if b.NodeID != 1 || b.RetentionMs != 168*msPerHour || b.SegmentBytes != 1<<30 ||
		!reflect.DeepEqual(b.LogDirs, []string{"/tmp/kraft-combined-logs"}) {
		t.Errorf("loaded %+v", b)
	}
	ls, err := b.KafkaListeners()
	if err != nil || len(ls) != 1 || ls[0] != (Listener{Name: "PLAINTEXT", Protocol: "PLAINTEXT", Host: "", Port: 9092}) {
		t.Errorf("KafkaListeners = %+v, %v", ls, err)
	}
	var dropped, ignored int
	for _, w := range warnings {
		switch {
		case strings.Contains(w, "controller listener"):
			dropped++
		case strings.Contains(w, "does not use"):
			ignored++
		}
	}
	if dropped != 2 || ignored < 10 {
		t.Errorf("warnings: %d dropped listeners (want 2), %d ignored keys: %q", dropped, ignored, warnings)
	}
}

func TestConfigListenerProtocolMap(t *testing.T) {
	path := writeProps(t, "listeners=INTERNAL://127.0.0.1:0,EXTERNAL://[::1]:9094\n"+
		"advertised.listeners=EXTERNAL://broker1.example:9094\n"+
		"listener.security.protocol.map=INTERNAL:PLAINTEXT,EXTERNAL:SASL_SSL\n")
	b, _ := mustLoad(t, LoadOptions{File: path})
	ls, err := b.KafkaListeners()
	want := []Listener{
		{Name: "INTERNAL", Protocol: "PLAINTEXT", Host: "127.0.0.1", Port: 0},
		{Name: "EXTERNAL", Protocol: "SASL_SSL", Host: "::1", Port: 9094},
	}
	if err != nil || !reflect.DeepEqual(ls, want) {
		t.Errorf("KafkaListeners = %+v, %v; want %+v", ls, err, want)
	}
	if ls[1].Addr() != "[::1]:9094" {
		t.Errorf("Addr = %q", ls[1].Addr())
	}
	adv, err := b.AdvertisedKafkaListeners()
	if err != nil || len(adv) != 1 || adv[0].Host != "broker1.example" || adv[0].Protocol != "SASL_SSL" {
		t.Errorf("AdvertisedKafkaListeners = %+v, %v", adv, err)
	}
	h, err := b.HTTPEndpoints()
	if err != nil || len(h) != 1 || h[0].Port != 8090 || h[0].Protocol != "HTTP" {
		t.Errorf("HTTPEndpoints = %+v, %v", h, err)
	}
}

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(b *Broker)
		want   string
	}{
		{"partitions", func(b *Broker) { b.NumPartitions = 0 }, `invalid value "0" for num.partitions: must be at least 1`},
		{"segment", func(b *Broker) { b.SegmentBytes = 5 }, `invalid value "5" for log.segment.bytes: must be at least 14`},
		{"listener", func(b *Broker) { b.Listeners = []string{"nope"} }, `invalid value "nope" for listeners: listener "nope" is not NAME://HOST:PORT`},
		{"no listeners", func(b *Broker) { b.Listeners = nil; b.AdvertisedListeners = nil }, `invalid value "" for listeners: must not be empty`},
		{"timestamp type", func(b *Broker) { b.TimestampType = "Now" }, `invalid value "Now" for log.message.timestamp.type`},
		{"cleanup", func(b *Broker) { b.CleanupPolicy = "" }, `invalid value "" for log.cleanup.policy: must not be empty`},
		{"compaction lag", func(b *Broker) { b.MinCompactionLagMs, b.MaxCompactionLagMs = 10, 5 },
			`invalid value "10" for log.cleaner.min.compaction.lag.ms: must not exceed log.cleaner.max.compaction.lag.ms (5)`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := DefaultBroker()
			tc.mutate(b)
			err := b.Validate()
			if err == nil || !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate() = %v, want an ErrInvalidConfig containing %q", err, tc.want)
			}
		})
	}
	ok := DefaultBroker()
	ok.Listeners = []string{"PLAINTEXT://127.0.0.1:0", "SSL://127.0.0.1:0"}
	ok.AdvertisedListeners = nil
	ok.HTTPListeners = nil
	if err := ok.Validate(); err != nil {
		t.Errorf("ephemeral ports and no HTTP: %v", err)
	}
}
