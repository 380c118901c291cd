package linkconf

import (
	"crypto/x509"
	"errors"
	"strings"
	"testing"
)

const (
	plainJAAS = `org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="p";`
	scramJAAS = `org.apache.kafka.common.security.scram.ScramLoginModule required username="u" password="p";`
)

func TestLinkConfValidate(t *testing.T) {
	ca := newTestCA(t, "validate CA")
	client := ca.issue(t, x509.ExtKeyUsageClientAuth, []string{"client"}, nil)
	other := ca.issue(t, x509.ExtKeyUsageClientAuth, []string{"other"}, nil)
	groups := `{"groupFilters":[{"name":"*","patternType":"LITERAL"}]}`

	tests := []struct {
		name string
		cfg  map[string]string
		key  string   // "" = valid
		want []string // parts of the message
	}{
		{name: "minimal", cfg: base()},
		{name: "everything set", cfg: with(
			"link.mode", "destination", "connection.mode", "OUTBOUND", "cluster.link.prefix", "src_",
			"consumer.offset.sync.enable", "TRUE", "consumer.offset.sync.ms", "1000",
			"consumer.offset.group.filters", groups, "acl.sync.enable", "true",
			"acl.filters", `{"aclFilters":[{"resourceFilter":{"resourceType":"any","patternType":"any"},"accessFilter":{"operation":"any","permissionType":"any"}}]}`,
			"auto.create.mirror.topics.enable", "true",
			"auto.create.mirror.topics.filters", `{"topicFilters":[{"name":"*","patternType":"LITERAL","filterType":"INCLUDE"}]}`,
			"mirror.start.offset.spec", "2024-01-02T03:04:05Z", "topic.config.sync.include", "retention.ms, cleanup.policy",
			"security.protocol", "sasl_ssl", "sasl.mechanism", "SCRAM-SHA-512", "sasl.jaas.config", scramJAAS,
			"ssl.truststore.certificates", ca.pem, "ssl.keystore.certificate.chain", client.certPEM,
			"ssl.keystore.key", client.keyPEM, "ssl.endpoint.identification.algorithm", "",
			"link.prefix", "ignored", "bootstrap.servers", "a:9092, [::1]:9093,b.example:9094,")},
		{name: "sasl without mechanism uses PLAIN", cfg: with("security.protocol", "SASL_PLAINTEXT", "sasl.jaas.config", plainJAAS)},
		{name: "jaas ignored without SASL", cfg: with("sasl.mechanism", "SCRAM-SHA-256", "sasl.jaas.config", plainJAAS)},
		{name: "epoch start", cfg: with("mirror.start.offset.spec", "1704164645000")},

		{name: "unknown key", cfg: with("consumer.offset.sync.mss", "1"), key: "consumer.offset.sync.mss",
			want: []string{`unknown cluster link config "consumer.offset.sync.mss"`}},
		{name: "not an integer", cfg: with("consumer.offset.sync.ms", "abc"), key: "consumer.offset.sync.ms",
			want: []string{`invalid value "abc" for cluster link config consumer.offset.sync.ms: not an integer`}},
		{name: "empty integer", cfg: with("acl.sync.ms", ""), key: "acl.sync.ms", want: []string{`invalid value ""`, "not an integer"}},
		{name: "period below floor", cfg: with("topic.config.sync.ms", "999"), key: "topic.config.sync.ms",
			want: []string{`invalid value "999" for cluster link config topic.config.sync.ms: must be at least 1000`}},
		{name: "metadata floor", cfg: with("metadata.max.age.ms", "10"), key: "metadata.max.age.ms", want: []string{"at least 1000"}},
		{name: "availability floor", cfg: with("availability.check.ms", "500"), key: "availability.check.ms", want: []string{"at least 1000"}},
		{name: "offset sync floor", cfg: with("consumer.offset.sync.ms", "0"), key: "consumer.offset.sync.ms", want: []string{"at least 1000"}},
		{name: "acl sync floor", cfg: with("acl.sync.ms", "-5"), key: "acl.sync.ms", want: []string{"at least 1000"}},
		{name: "int overflow", cfg: with("consumer.offset.sync.ms", "4294967296"), key: "consumer.offset.sync.ms", want: []string{"at most 2147483647"}},
		{name: "long overflow", cfg: with("metadata.max.age.ms", "99999999999999999999"), key: "metadata.max.age.ms", want: []string{"at most"}},
		{name: "threshold zero", cfg: with("availability.check.consecutive.failure.threshold", "0"), key: "availability.check.consecutive.failure.threshold", want: []string{"at least 1"}},
		{name: "fetchers zero", cfg: with("num.cluster.link.fetchers", "0"), key: "num.cluster.link.fetchers", want: []string{"at least 1"}},
		{name: "bad boolean", cfg: with("cluster.link.paused", "yes"), key: "cluster.link.paused",
			want: []string{`invalid value "yes" for cluster link config cluster.link.paused: not a boolean`}},
		{name: "source mode", cfg: with("link.mode", "SOURCE"), key: "link.mode", want: []string{`invalid value "SOURCE"`, "not supported yet"}},
		{name: "bidirectional mode", cfg: with("link.mode", "bidirectional"), key: "link.mode", want: []string{"BIDIRECTIONAL links are not supported yet"}},
		{name: "bad mode", cfg: with("link.mode", "MIRROR"), key: "link.mode", want: []string{"must be one of DESTINATION, SOURCE, BIDIRECTIONAL"}},
		{name: "inbound", cfg: with("connection.mode", "INBOUND"), key: "connection.mode", want: []string{"INBOUND connections are not supported yet"}},
		{name: "bootstrap missing", cfg: without("bootstrap.servers"), key: "bootstrap.servers", want: []string{"bootstrap.servers is required"}},
		{name: "bootstrap empty", cfg: with("bootstrap.servers", " , "), key: "bootstrap.servers", want: []string{"no HOST:PORT address"}},
		{name: "bootstrap no port", cfg: with("bootstrap.servers", "a:9092,broker1"), key: "bootstrap.servers",
			want: []string{`invalid value "a:9092,broker1" for cluster link config bootstrap.servers: "broker1" is not HOST:PORT`}},
		{name: "bootstrap bad port", cfg: with("bootstrap.servers", "a:99999"), key: "bootstrap.servers", want: []string{`"a:99999" has no valid port`}},
		{name: "bootstrap no host", cfg: with("bootstrap.servers", ":9092"), key: "bootstrap.servers", want: []string{"is not HOST:PORT"}},
		{name: "prefix chars", cfg: with("cluster.link.prefix", "a/b"), key: "cluster.link.prefix", want: []string{"[a-zA-Z0-9._-]"}},
		{name: "prefix too long", cfg: with("cluster.link.prefix", strings.Repeat("p", 249)), key: "cluster.link.prefix", want: []string{"longer than 248"}},
		{name: "bad filter JSON", cfg: with("consumer.offset.group.filters", `{"groupFilters":[`), key: "consumer.offset.group.filters", want: []string{"does not parse"}},
		{name: "filter unknown field", cfg: with("auto.create.mirror.topics.filters", `{"topicFilters":[{"name":"a","patternType":"LITERAL","nmae":"x"}]}`),
			key: "auto.create.mirror.topics.filters", want: []string{`unknown field "nmae"`}},
		{name: "acl filters empty list", cfg: with("acl.filters", `{"aclFilters":[]}`), key: "acl.filters", want: []string{"aclFilters field cannot be empty"}},
		{name: "sasl needs jaas", cfg: with("security.protocol", "SASL_SSL"), key: "sasl.jaas.config",
			want: []string{"cluster link config sasl.jaas.config is required when security.protocol is SASL_SSL"}},
		{name: "scram needs scram module", cfg: with("security.protocol", "SASL_PLAINTEXT", "sasl.mechanism", "SCRAM-SHA-256", "sasl.jaas.config", plainJAAS),
			key: "sasl.jaas.config", want: []string{"invalid value [hidden] for cluster link config sasl.jaas.config", "sasl.mechanism SCRAM-SHA-256 needs the login module org.apache.kafka.common.security.scram.ScramLoginModule"}},
		{name: "plain needs plain module", cfg: with("security.protocol", "SASL_SSL", "sasl.jaas.config", scramJAAS),
			key: "sasl.jaas.config", want: []string{"PlainLoginModule"}},
		{name: "gssapi", cfg: with("sasl.mechanism", "GSSAPI"), key: "sasl.mechanism", want: []string{"GSSAPI (Kerberos) is not supported"}},
		{name: "oauth", cfg: with("sasl.mechanism", "OAUTHBEARER"), key: "sasl.mechanism", want: []string{"OAUTHBEARER is not supported yet"}},
		{name: "bad protocol", cfg: with("security.protocol", "TLS"), key: "security.protocol", want: []string{"must be one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL"}},
		{name: "jks", cfg: with("ssl.truststore.type", "JKS"), key: "ssl.truststore.type", want: []string{"must be one of PEM"}},
		{name: "truststore file", cfg: with("ssl.truststore.location", "/etc/ts.jks"), key: "ssl.truststore.location",
			want: []string{"file-based key and trust stores are not supported", "ssl.truststore.certificates"}},
		{name: "keystore password", cfg: with("ssl.keystore.password", "x"), key: "ssl.keystore.password", want: []string{"[hidden]", "not supported"}},
		{name: "truststore not PEM", cfg: with("ssl.truststore.certificates", "hello"), key: "ssl.truststore.certificates",
			want: []string{"invalid value [hidden]", "no PEM certificate"}},
		{name: "chain without key", cfg: with("ssl.keystore.certificate.chain", client.certPEM), key: "ssl.keystore.key",
			want: []string{"ssl.keystore.certificate.chain and ssl.keystore.key go together"}},
		{name: "key of another cert", cfg: with("ssl.keystore.certificate.chain", client.certPEM, "ssl.keystore.key", other.keyPEM),
			key: "ssl.keystore.key", want: []string{"does not belong to the first certificate"}},
		{name: "endpoint algorithm", cfg: with("ssl.endpoint.identification.algorithm", "http"), key: "ssl.endpoint.identification.algorithm", want: []string{`must be one of https, "" (empty)`}},
		{name: "tls 1.1", cfg: with("ssl.enabled.protocols", "TLSv1.1,TLSv1.2"), key: "ssl.enabled.protocols", want: []string{`"TLSv1.1" is not supported`}},
		{name: "class name", cfg: with("sasl.login.callback.handler.class", "not a class"), key: "sasl.login.callback.handler.class", want: []string{"not a Java class name"}},
		{name: "start spec", cfg: with("mirror.start.offset.spec", "yesterday"), key: "mirror.start.offset.spec", want: []string{`invalid value "yesterday"`, "earliest, latest"}},
		{name: "sync include independent", cfg: with("topic.config.sync.include", "retention.ms,confluent.placement.constraints"),
			key: "topic.config.sync.include", want: []string{"confluent.placement.constraints cannot be synced"}},
		{name: "sync include tier", cfg: with("topic.config.sync.include", "confluent.tier.enable"), key: "topic.config.sync.include", want: []string{"cannot be synced"}},
		{name: "dns lookup", cfg: with("client.dns.lookup", "resolve_canonical_bootstrap_servers_only"), key: "client.dns.lookup", want: []string{"not supported"}},
		{name: "local validated", cfg: with("local.security.protocol", "SASL_SSL"), key: "local.sasl.jaas.config",
			want: []string{"local.sasl.jaas.config is required when local.security.protocol is SASL_SSL"}},
		{name: "local mechanism", cfg: with("local.sasl.mechanism", "GSSAPI"), key: "local.sasl.mechanism", want: []string{"GSSAPI"}},
		{name: "long value shortened", cfg: with("cluster.link.prefix", strings.Repeat("/", 500)), key: "cluster.link.prefix", want: []string{"…"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Validate(tc.cfg)
			if tc.key == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			wantConfigError(t, err, tc.key, tc.want...)
		})
	}
}

// A sensitive value never appears in an error message.
func TestLinkConfValidateHidesSecrets(t *testing.T) {
	const secret = "hunter2-very-secret"
	cfgs := []map[string]string{
		with("security.protocol", "SASL_SSL", "sasl.jaas.config", secret),
		with("security.protocol", "SASL_SSL", "sasl.jaas.config",
			`org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="`+secret),
		with("security.protocol", "SASL_SSL", "sasl.mechanism", "SCRAM-SHA-256", "sasl.jaas.config",
			`org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="`+secret+`";`),
		with("sasl.jaas.config", `org.apache.kafka.common.security.plain.PlainLoginModule required username="u" `+secret),
		with("ssl.key.password", secret, "ssl.keystore.key", "-----BEGIN PRIVATE KEY-----\n"+secret+"\n-----END PRIVATE KEY-----"),
		with("ssl.truststore.password", secret),
		with("local.sasl.jaas.config", secret),
	}
	for i, cfg := range cfgs {
		err := Validate(cfg)
		if err == nil {
			t.Errorf("config %d: no error", i)
			continue
		}
		if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("config %d: error shows the secret: %v", i, err)
		}
		var ce *ConfigError
		if errors.As(err, &ce) && strings.Contains(ce.Value, "hunter2") {
			t.Errorf("config %d: ConfigError.Value shows the secret", i)
		}
	}
}

func TestLinkConfValidateUpdate(t *testing.T) {
	old := with("cluster.link.prefix", "src_", "link.mode", "DESTINATION")
	tests := []struct {
		name    string
		updated map[string]string
		key     string
		want    string
	}{
		{name: "period change", updated: with("cluster.link.prefix", "src_", "consumer.offset.sync.ms", "5000")},
		{name: "mode spelled differently", updated: with("cluster.link.prefix", "src_", "link.mode", "destination")},
		{name: "mode reset to its default", updated: with("cluster.link.prefix", "src_")},
		{name: "explicit default connection mode", updated: with("cluster.link.prefix", "src_", "connection.mode", "OUTBOUND")},
		{name: "prefix changed", updated: with("cluster.link.prefix", "dst_"), key: "cluster.link.prefix",
			want: "cluster link config cluster.link.prefix cannot be changed after the link is created"},
		{name: "prefix removed", updated: base(), key: "cluster.link.prefix", want: "cannot be changed"},
		{name: "prefix case", updated: with("cluster.link.prefix", "SRC_"), key: "cluster.link.prefix", want: "cannot be changed"},
		{name: "remote mode set", updated: with("cluster.link.prefix", "src_", "remote.link.connection.mode", "INBOUND"),
			key: "remote.link.connection.mode", want: "cannot be changed"},
		{name: "invalid update", updated: with("cluster.link.prefix", "src_", "acl.sync.ms", "x"), key: "acl.sync.ms", want: "not an integer"},
		{name: "unknown key", updated: with("cluster.link.prefix", "src_", "x", "1"), key: "x", want: `unknown cluster link config "x"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateUpdate(old, tc.updated)
			if tc.key == "" {
				if err != nil {
					t.Fatalf("ValidateUpdate: %v", err)
				}
				return
			}
			wantConfigError(t, err, tc.key, tc.want)
		})
	}
	// A stored (sealed) old config is fine: only immutable keys are read.
	sealedOld := with("cluster.link.prefix", "src_", "sasl.jaas.config", "enc:v1:AAAA")
	if err := ValidateUpdate(sealedOld, with("cluster.link.prefix", "src_")); err != nil {
		t.Errorf("ValidateUpdate with a sealed old config: %v", err)
	}
}

func TestLinkConfTaskProblems(t *testing.T) {
	tests := []struct {
		name string
		cfg  map[string]string
		want map[string]string // task -> part of the message
	}{
		{name: "nothing enabled", cfg: base(), want: map[string]string{}},
		{name: "offset sync without filters", cfg: with("consumer.offset.sync.enable", "true"),
			want: map[string]string{"ConsumerOffsetSync": "consumer.offset.sync.enable is true but no consumer group filters are specified. No consumer offsets will be migrated."}},
		{name: "offset sync with empty filter list", cfg: with("consumer.offset.sync.enable", "true", "consumer.offset.group.filters", `{"groupFilters":[]}`),
			want: map[string]string{"ConsumerOffsetSync": "No consumer offsets will be migrated."}},
		{name: "acl sync without filters", cfg: with("acl.sync.enable", "true"),
			want: map[string]string{"AclSync": "ACL migration is enabled but acl.filters is not set. Please set acl.filters to proceed with ACL migration."}},
		{name: "auto-create without filters", cfg: with("auto.create.mirror.topics.enable", "true"),
			want: map[string]string{"AutoCreateMirror": "auto.create.mirror.topics.enable is true but auto.create.mirror.topics.filters is not set."}},
		{name: "all three", cfg: with("auto.create.mirror.topics.enable", "true", "acl.sync.enable", "true", "consumer.offset.sync.enable", "true"),
			want: map[string]string{"AutoCreateMirror": "auto.create", "AclSync": "ACL migration", "ConsumerOffsetSync": "consumer.offset"}},
		{name: "filters set", cfg: with("consumer.offset.sync.enable", "true", "consumer.offset.group.filters", `{"groupFilters":[{"name":"g","patternType":"literal"}]}`,
			"auto.create.mirror.topics.enable", "true", "auto.create.mirror.topics.filters", `{"topicFilters":[{"name":"t","patternType":"prefixed"}]}`),
			want: map[string]string{}},
		{name: "filters without enable", cfg: with("acl.filters", `{"aclFilters":[{"resourceFilter":{"resourceType":"topic","patternType":"literal"},"accessFilter":{"operation":"read","permissionType":"allow"}}]}`),
			want: map[string]string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// The misconfiguration is not a validation error.
			got := TaskProblems(mustParse(t, tc.cfg))
			if len(got) != len(tc.want) {
				t.Fatalf("TaskProblems = %v, want tasks %v", got, tc.want)
			}
			for task, part := range tc.want {
				if !strings.Contains(got[task], part) {
					t.Errorf("%s: %q does not contain %q", task, got[task], part)
				}
			}
		})
	}
}
