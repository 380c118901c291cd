package linkconf

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestLinkConfSettingsDefaults(t *testing.T) {
	s := mustParse(t, base())
	want := Settings{
		LinkMode:                          "DESTINATION",
		ConnectionMode:                    "OUTBOUND",
		BootstrapServers:                  []string{"source-1:9092"},
		MirrorStartOffset:                 StartOffsetSpec{Kind: StartEarliest},
		RetryTimeout:                      5 * time.Minute,
		AvailabilityCheckInterval:         time.Minute,
		AvailabilityCheckFailureThreshold: 5,
		TopicConfigSyncInterval:           5 * time.Second,
		ConsumerOffsetSyncInterval:        30 * time.Second,
		ACLSyncInterval:                   5 * time.Second,
		Fetch: FetchSettings{
			NumFetchers:              1,
			MaxPartitionBytes:        5242880,
			MaxResponseBytes:         10485760,
			MaxWait:                  500 * time.Millisecond,
			MinBytes:                 1,
			Backoff:                  time.Second,
			SocketTimeout:            30 * time.Second,
			SocketReceiveBufferBytes: -1,
		},
		RequestTimeout:                  30 * time.Second,
		DefaultAPITimeout:               time.Minute,
		ConnectionsMaxIdle:              10 * time.Minute,
		MetadataMaxAge:                  5 * time.Minute,
		RetryBackoff:                    100 * time.Millisecond,
		ReconnectBackoff:                50 * time.Millisecond,
		ReconnectBackoffMax:             time.Second,
		SocketConnectionSetupTimeout:    10 * time.Second,
		SocketConnectionSetupTimeoutMax: 30 * time.Second,
		ClientDNSLookup:                 "use_all_dns_ips",
		Remote: Security{Protocol: "PLAINTEXT", SASLMechanism: "PLAIN",
			TLS: TLSSettings{VerifyHostname: true, MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS13}},
		Local: Security{Protocol: "PLAINTEXT", SASLMechanism: "PLAIN",
			TLS: TLSSettings{VerifyHostname: true, MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS13}},
	}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("defaults:\n got %+v\nwant %+v", s, want)
	}
}

func TestLinkConfSettingsValues(t *testing.T) {
	ca := newTestCA(t, "settings CA")
	client := ca.issue(t, x509.ExtKeyUsageClientAuth, []string{"client"}, nil)
	s := mustParse(t, with(
		"bootstrap.servers", " a:1 ,b:2,,",
		"cluster.link.prefix", " src_ ",
		"cluster.link.paused", "True",
		"cluster.link.retry.timeout.ms", "0",
		"mirror.start.offset.spec", "LATEST",
		"availability.check.ms", "2000",
		"availability.check.consecutive.failure.threshold", "3",
		"topic.config.sync.ms", "7000",
		"topic.config.sync.include", "retention.ms,,segment.bytes",
		"consumer.offset.sync.enable", "true",
		"consumer.offset.sync.ms", "1000",
		"consumer.offset.group.filters", `{"groupFilters":[{"name":"app-","patternType":"prefixed","filterType":"blacklist"}]}`,
		"consumer.group.prefix.enable", "true",
		"acl.sync.enable", "true",
		"acl.sync.ms", "60000",
		"acl.filters", `{"aclFilters":[{"resourceFilter":{"resourceType":"Topic","name":"t","patternType":"literal"},"accessFilter":{"principal":"User:alice","host":"*","operation":"describe_configs","permissionType":"ALLOW"}}]}`,
		"auto.create.mirror.topics.enable", "true",
		"auto.create.mirror.topics.filters", `{"topicFilters":[{"name":"*","patternType":"LITERAL"}]}`,
		"num.cluster.link.fetchers", "4",
		"replica.fetch.max.bytes", "1048576",
		"replica.fetch.response.max.bytes", "2097152",
		"replica.fetch.wait.max.ms", "0",
		"replica.fetch.min.bytes", "10",
		"replica.fetch.backoff.ms", "250",
		"replica.socket.timeout.ms", "12000",
		"replica.socket.receive.buffer.bytes", "65536",
		"request.timeout.ms", "15000",
		"default.api.timeout.ms", "20000",
		"connections.max.idle.ms", "120000",
		"metadata.max.age.ms", "5000",
		"retry.backoff.ms", "0",
		"reconnect.backoff.ms", "20",
		"reconnect.backoff.max.ms", "5000",
		"socket.connection.setup.timeout.ms", "3000",
		"socket.connection.setup.timeout.max.ms", "6000",
		"security.protocol", "sasl_ssl",
		"sasl.mechanism", "scram-sha-256",
		"sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required\n  username='alice'\n  password='s3cr\\'et';",
		"ssl.truststore.certificates", ca.pem,
		"ssl.keystore.certificate.chain", client.certPEM,
		"ssl.keystore.key", client.keyPEM,
		"ssl.endpoint.identification.algorithm", "",
		"ssl.enabled.protocols", "TLSv1.3",
		"local.listener.name", "INTERNAL",
	))
	checks := []struct {
		name      string
		got, want any
	}{
		{"bootstrap", s.BootstrapServers, []string{"a:1", "b:2"}},
		{"prefix", s.Prefix, "src_"},
		{"paused", s.Paused, true},
		{"retry timeout", s.RetryTimeout, time.Duration(0)},
		{"start", s.MirrorStartOffset, StartOffsetSpec{Kind: StartLatest}},
		{"availability", s.AvailabilityCheckInterval, 2 * time.Second},
		{"threshold", s.AvailabilityCheckFailureThreshold, 3},
		{"config sync", s.TopicConfigSyncInterval, 7 * time.Second},
		{"config include", s.TopicConfigSyncInclude, []string{"retention.ms", "segment.bytes"}},
		{"offset sync", s.ConsumerOffsetSync, true},
		{"offset sync period", s.ConsumerOffsetSyncInterval, time.Second},
		{"group filters", s.GroupFilters, []Filter{{Name: "app-", PatternType: PatternPrefixed, FilterType: FilterExclude}}},
		{"group prefix", s.ConsumerGroupPrefix, true},
		{"acl sync", s.ACLSync, true},
		{"acl period", s.ACLSyncInterval, time.Minute},
		{"acl filters", s.ACLFilters, []ACLFilter{{ResourceType: kmsg.ACLResourceTypeTopic, ResourceName: "t",
			PatternType: kmsg.ACLResourcePatternTypeLiteral, Principal: "User:alice", Host: "*",
			Operation: kmsg.ACLOperationDescribeConfigs, PermissionType: kmsg.ACLPermissionTypeAllow}}},
		{"auto-create", s.AutoCreateMirrorTopics, true},
		{"auto-create filters", s.AutoCreateFilters, []Filter{{Name: "*", PatternType: PatternLiteral, FilterType: FilterInclude}}},
		{"fetch", s.Fetch, FetchSettings{NumFetchers: 4, MaxPartitionBytes: 1 << 20, MaxResponseBytes: 2 << 20, MaxWait: 0,
			MinBytes: 10, Backoff: 250 * time.Millisecond, SocketTimeout: 12 * time.Second, SocketReceiveBufferBytes: 65536}},
		{"request timeout", s.RequestTimeout, 15 * time.Second},
		{"api timeout", s.DefaultAPITimeout, 20 * time.Second},
		{"idle", s.ConnectionsMaxIdle, 2 * time.Minute},
		{"metadata", s.MetadataMaxAge, 5 * time.Second},
		{"retry backoff", s.RetryBackoff, time.Duration(0)},
		{"reconnect backoff", s.ReconnectBackoff, 20 * time.Millisecond},
		{"reconnect backoff max", s.ReconnectBackoffMax, 5 * time.Second},
		{"setup", s.SocketConnectionSetupTimeout, 3 * time.Second},
		{"setup max", s.SocketConnectionSetupTimeoutMax, 6 * time.Second},
		{"protocol", s.Remote.Protocol, ProtocolSASLSSL},
		{"mechanism", s.Remote.SASLMechanism, MechanismScramSHA256},
		{"jaas", *s.Remote.JAAS, JAAS{Module: ModuleSCRAM, Username: "alice", Password: "s3cr'et"}},
		{"sasl", s.Remote.UsesSASL(), true},
		{"tls", s.Remote.UsesTLS(), true},
		{"trusted", len(s.Remote.TLS.TrustedCertificates), 1},
		{"trusted subject", s.Remote.TLS.TrustedCertificates[0].Subject.CommonName, "settings CA"},
		{"client cert", s.Remote.TLS.ClientCertificate != nil, true},
		{"verify host", s.Remote.TLS.VerifyHostname, false},
		{"tls versions", [2]uint16{s.Remote.TLS.MinVersion, s.Remote.TLS.MaxVersion}, [2]uint16{tls.VersionTLS13, tls.VersionTLS13}},
		{"local listener", s.LocalListenerName, "INTERNAL"},
		{"local untouched", s.Local.JAAS == nil && !s.Local.UsesSASL(), true},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: got %#v, want %#v", c.name, c.got, c.want)
		}
	}
	// Printing Settings does not print the password.
	for _, verb := range []string{"%v", "%+v", "%#v"} {
		if out := fmt.Sprintf(verb, s.Remote.JAAS); strings.Contains(out, "s3cr") {
			t.Errorf("%s of JAAS shows the password: %s", verb, out)
		}
	}
	if out := fmt.Sprintf("%+v", s.Remote); strings.Contains(out, "s3cr") {
		t.Errorf("%%+v of Security shows the password: %s", out)
	}
}

// TestLinkConfSettingsReconnectBackoff follows Kafka's clients: an unset
// reconnect.backoff.max.ms below reconnect.backoff.ms is raised to it; one
// set explicitly is kept (and caps the pause).
func TestLinkConfSettingsReconnectBackoff(t *testing.T) {
	tests := []struct {
		name    string
		cfg     map[string]string
		min, mx time.Duration
	}{
		{"defaults", base(), 50 * time.Millisecond, time.Second},
		{"first pause above the default max", with("reconnect.backoff.ms", "3000"), 3 * time.Second, 3 * time.Second},
		{"first pause below the default max", with("reconnect.backoff.ms", "200"), 200 * time.Millisecond, time.Second},
		{"max set below the first pause", with("reconnect.backoff.ms", "3000", "reconnect.backoff.max.ms", "500"),
			3 * time.Second, 500 * time.Millisecond},
		{"off", with("reconnect.backoff.ms", "0"), 0, time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := mustParse(t, tc.cfg)
			if s.ReconnectBackoff != tc.min || s.ReconnectBackoffMax != tc.mx {
				t.Errorf("got %v..%v, want %v..%v", s.ReconnectBackoff, s.ReconnectBackoffMax, tc.min, tc.mx)
			}
		})
	}
	for _, bad := range []map[string]string{
		with("reconnect.backoff.ms", "-1"),
		with("reconnect.backoff.max.ms", "soon"),
	} {
		if _, err := Parse(bad); err == nil || !strings.Contains(err.Error(), "reconnect.backoff") {
			t.Errorf("Parse(%v) = %v, want an error naming the config", bad, err)
		}
	}
}

func TestLinkConfStartOffsetSpec(t *testing.T) {
	ts := func(s string) int64 {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UnixMilli()
	}
	tests := []struct {
		in      string
		want    StartOffsetSpec
		wantErr string
	}{
		{in: "earliest", want: StartOffsetSpec{Kind: StartEarliest}},
		{in: " Earliest ", want: StartOffsetSpec{Kind: StartEarliest}},
		{in: "LATEST", want: StartOffsetSpec{Kind: StartLatest}},
		{in: "2024-01-02T03:04:05Z", want: StartOffsetSpec{Kind: StartTimestamp, TimestampMs: 1704164645000}},
		{in: "2024-01-02T03:04:05.000+01:00", want: StartOffsetSpec{Kind: StartTimestamp, TimestampMs: 1704164645000 - 3600_000}},
		{in: "2024-01-02T03:04:05.123456789-05:30", want: StartOffsetSpec{Kind: StartTimestamp, TimestampMs: ts("2024-01-02T03:04:05.123-05:30")}},
		{in: "1704164645000", want: StartOffsetSpec{Kind: StartTimestamp, TimestampMs: 1704164645000}},
		{in: "0", want: StartOffsetSpec{Kind: StartTimestamp, TimestampMs: 0}},
		{in: "2024-01-02T03:04:05", wantErr: "no zone"},
		{in: "2024-01-02", wantErr: "not earliest, latest"},
		{in: "1969-12-31T23:59:59Z", wantErr: "before 1970"},
		{in: "-5", wantErr: "not earliest"},
		{in: "99999999999999999999", wantErr: "after the year 9999"},
		{in: "253402300800000", wantErr: "after the year 9999"},
		{in: "253402300799999", want: StartOffsetSpec{Kind: StartTimestamp, TimestampMs: 253402300799999}},
		{in: "", wantErr: "not earliest"},
		{in: "now", wantErr: "not earliest"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseStartOffsetSpec(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseStartOffsetSpec(%q) = %+v, %v; want error containing %q", tc.in, got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseStartOffsetSpec(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			}
		})
	}
	if s := (StartOffsetSpec{Kind: StartTimestamp, TimestampMs: 1704164645000}).String(); s != "2024-01-02T03:04:05.000Z" {
		t.Errorf("String = %q", s)
	}
}
