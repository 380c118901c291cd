package linkconf

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Settings is a link's configuration, typed, with defaults applied.
type Settings struct {
	LinkMode                 string // LinkModeDestination
	ConnectionMode           string // ConnectionModeOutbound
	RemoteLinkConnectionMode string // "", INBOUND or OUTBOUND
	BootstrapServers         []string
	Prefix                   string // cluster.link.prefix
	Paused                   bool
	MirrorStartOffset        StartOffsetSpec
	RetryTimeout             time.Duration // cluster.link.retry.timeout.ms

	AvailabilityCheckInterval         time.Duration
	AvailabilityCheckFailureThreshold int

	TopicConfigSyncInterval time.Duration
	TopicConfigSyncInclude  []string

	ConsumerOffsetSync         bool
	ConsumerOffsetSyncInterval time.Duration
	GroupFilters               []Filter
	ConsumerGroupPrefix        bool // consumer.group.prefix.enable

	ACLSync         bool
	ACLSyncInterval time.Duration
	ACLFilters      []ACLFilter

	AutoCreateMirrorTopics bool
	AutoCreateFilters      []Filter

	Fetch FetchSettings

	RequestTimeout                  time.Duration
	DefaultAPITimeout               time.Duration
	ConnectionsMaxIdle              time.Duration
	MetadataMaxAge                  time.Duration
	RetryBackoff                    time.Duration
	ReconnectBackoff                time.Duration // reconnect.backoff.ms
	ReconnectBackoffMax             time.Duration // reconnect.backoff.max.ms, at least ReconnectBackoff unless set lower
	SocketConnectionSetupTimeout    time.Duration
	SocketConnectionSetupTimeoutMax time.Duration
	ClientDNSLookup                 string

	// Remote is how the link reaches and authenticates to the source.
	Remote Security
	// Local is the local.* configs, for source-initiated and bidirectional
	// links (not supported yet); validated, unused.
	Local             Security
	LocalListenerName string
}

// FetchSettings tune the link's fetches from the source.
type FetchSettings struct {
	NumFetchers              int
	MaxPartitionBytes        int32 // replica.fetch.max.bytes
	MaxResponseBytes         int32 // replica.fetch.response.max.bytes
	MaxWait                  time.Duration
	MinBytes                 int32
	Backoff                  time.Duration
	SocketTimeout            time.Duration
	SocketReceiveBufferBytes int32 // -1: the operating system's default
}

// Security is one side's client security configs.
type Security struct {
	Protocol      string // ProtocolPlaintext, ProtocolSSL, ProtocolSASLPlaintext or ProtocolSASLSSL
	SASLMechanism string // MechanismPlain, MechanismScramSHA256 or MechanismScramSHA512
	// JAAS is the parsed sasl.jaas.config; nil unless Protocol uses SASL.
	JAAS *JAAS

	LoginCallbackHandlerClass   string
	OAuthBearerTokenEndpointURL string
	KerberosServiceName         string

	TLS TLSSettings
}

// TLSSettings are the ssl.* configs, parsed.
type TLSSettings struct {
	// TrustedCertificates are the CAs of ssl.truststore.certificates; none
	// means the system roots.
	TrustedCertificates []*x509.Certificate
	// ClientCertificate is ssl.keystore.certificate.chain with its
	// (decrypted) ssl.keystore.key; nil without them.
	ClientCertificate *tls.Certificate
	// VerifyHostname is ssl.endpoint.identification.algorithm=https.
	VerifyHostname bool
	// MinVersion and MaxVersion bound ssl.enabled.protocols (tls.VersionTLS12, tls.VersionTLS13).
	MinVersion, MaxVersion uint16
}

// UsesSASL reports whether the protocol authenticates with SASL.
func (s Security) UsesSASL() bool {
	return s.Protocol == ProtocolSASLPlaintext || s.Protocol == ProtocolSASLSSL
}

// UsesTLS reports whether the protocol is encrypted.
func (s Security) UsesTLS() bool { return s.Protocol == ProtocolSSL || s.Protocol == ProtocolSASLSSL }

// Validate checks a link's complete configuration, as given at creation:
// every key known, every value valid, bootstrap.servers present, SASL
// protocols with a sasl.jaas.config whose login module fits
// sasl.mechanism, the client certificate with its key. The error is a
// *ConfigError wrapping ErrInvalidConfig. Problems that Confluent reports
// as task errors (a sync enabled without filters) are not errors here; see
// TaskProblems.
func Validate(cfg map[string]string) error {
	_, err := Parse(cfg)
	return err
}

// ValidateUpdate checks updated, the complete configuration after a
// change, as Validate does, and refuses a change of an immutable config
// (an immutable config counts as unchanged when its effective value stays
// the same, whether set explicitly or by default). old may be stored
// (sealed) configs: only its immutable configs are read.
func ValidateUpdate(old, updated map[string]string) error {
	if err := Validate(updated); err != nil {
		return err
	}
	for _, n := range catalogueNames {
		d := catalogue[n]
		if !d.Immutable {
			continue
		}
		if !sameValue(n, effective(old, d), effective(updated, d)) {
			return configErrorf(n, "cluster link config %s cannot be changed after the link is created", n)
		}
	}
	return nil
}

func effective(cfg map[string]string, d *keyDef) string {
	if v, ok := cfg[d.Name]; ok {
		return strings.TrimSpace(v)
	}
	return d.Default
}

// sameValue compares two values of an immutable config: modes are
// case-insensitive, the prefix (part of topic names) is not.
func sameValue(name, a, b string) bool {
	if name == "cluster.link.prefix" {
		return a == b
	}
	return strings.EqualFold(a, b)
}

// Parse validates cfg as Validate does and returns it typed, with the
// defaults of the configs it does not set. link.prefix, a read-only alias,
// is accepted and ignored.
func Parse(cfg map[string]string) (Settings, error) {
	names := make([]string, 0, len(cfg))
	for n := range cfg {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if _, ok := catalogue[n]; !ok {
			return Settings{}, &ConfigError{Key: n, Msg: fmt.Sprintf("unknown cluster link config %q", n)}
		}
	}
	for _, n := range names {
		d := catalogue[n]
		if d.check == nil {
			continue
		}
		if err := d.check(d.normalize(cfg[n])); err != nil {
			return Settings{}, invalid(n, cfg[n], err)
		}
	}

	g := getter{cfg}
	s := Settings{
		LinkMode:                 strings.ToUpper(g.str("link.mode")),
		ConnectionMode:           strings.ToUpper(g.str("connection.mode")),
		RemoteLinkConnectionMode: strings.ToUpper(g.str("remote.link.connection.mode")),
		BootstrapServers:         splitList(g.str("bootstrap.servers")),
		Prefix:                   g.str("cluster.link.prefix"),
		Paused:                   g.bool("cluster.link.paused"),
		RetryTimeout:             g.ms("cluster.link.retry.timeout.ms"),

		AvailabilityCheckInterval:         g.ms("availability.check.ms"),
		AvailabilityCheckFailureThreshold: int(g.int("availability.check.consecutive.failure.threshold")),

		TopicConfigSyncInterval: g.ms("topic.config.sync.ms"),
		TopicConfigSyncInclude:  splitList(g.str("topic.config.sync.include")),

		ConsumerOffsetSync:         g.bool("consumer.offset.sync.enable"),
		ConsumerOffsetSyncInterval: g.ms("consumer.offset.sync.ms"),
		ConsumerGroupPrefix:        g.bool("consumer.group.prefix.enable"),

		ACLSync:         g.bool("acl.sync.enable"),
		ACLSyncInterval: g.ms("acl.sync.ms"),

		AutoCreateMirrorTopics: g.bool("auto.create.mirror.topics.enable"),

		Fetch: FetchSettings{
			NumFetchers:              int(g.int("num.cluster.link.fetchers")),
			MaxPartitionBytes:        int32(g.int("replica.fetch.max.bytes")),
			MaxResponseBytes:         int32(g.int("replica.fetch.response.max.bytes")),
			MaxWait:                  g.ms("replica.fetch.wait.max.ms"),
			MinBytes:                 int32(g.int("replica.fetch.min.bytes")),
			Backoff:                  g.ms("replica.fetch.backoff.ms"),
			SocketTimeout:            g.ms("replica.socket.timeout.ms"),
			SocketReceiveBufferBytes: int32(g.int("replica.socket.receive.buffer.bytes")),
		},

		RequestTimeout:                  g.ms("request.timeout.ms"),
		DefaultAPITimeout:               g.ms("default.api.timeout.ms"),
		ConnectionsMaxIdle:              g.ms("connections.max.idle.ms"),
		MetadataMaxAge:                  g.ms("metadata.max.age.ms"),
		RetryBackoff:                    g.ms("retry.backoff.ms"),
		ReconnectBackoff:                g.ms("reconnect.backoff.ms"),
		ReconnectBackoffMax:             g.ms("reconnect.backoff.max.ms"),
		SocketConnectionSetupTimeout:    g.ms("socket.connection.setup.timeout.ms"),
		SocketConnectionSetupTimeoutMax: g.ms("socket.connection.setup.timeout.max.ms"),
		ClientDNSLookup:                 strings.ToLower(g.str("client.dns.lookup")),
		LocalListenerName:               g.str("local.listener.name"),
	}
	// As Kafka's clients do: an unset maximum below the first pause is
	// raised to it; a maximum set explicitly is kept.
	if !g.set("reconnect.backoff.max.ms") && s.ReconnectBackoffMax < s.ReconnectBackoff {
		s.ReconnectBackoffMax = s.ReconnectBackoff
	}
	// The checks above have parsed these already; they cannot fail here.
	s.MirrorStartOffset, _ = ParseStartOffsetSpec(g.str("mirror.start.offset.spec"))
	s.GroupFilters, _ = ParseGroupFilters(g.str("consumer.offset.group.filters"))
	s.ACLFilters, _ = ParseACLFilters(g.str("acl.filters"))
	s.AutoCreateFilters, _ = ParseTopicFilters(g.str("auto.create.mirror.topics.filters"))

	if len(s.BootstrapServers) == 0 {
		return Settings{}, configErrorf("bootstrap.servers",
			"cluster link config bootstrap.servers is required: the source cluster's HOST:PORT addresses")
	}
	var err error
	if s.Remote, err = parseSecurity(g, ""); err != nil {
		return Settings{}, err
	}
	if s.Local, err = parseSecurity(g, "local."); err != nil {
		return Settings{}, err
	}
	return s, nil
}

// normalize is what a value's check sees: trimmed, except passwords.
func (d *keyDef) normalize(v string) string {
	if d.Type == TypePassword {
		return v
	}
	return strings.TrimSpace(v)
}

// getter reads effective values (set, else default) of configs that have
// passed their checks.
type getter struct{ cfg map[string]string }

func (g getter) str(name string) string {
	d := catalogue[name]
	if v, ok := g.cfg[name]; ok {
		return d.normalize(v)
	}
	return d.Default
}

func (g getter) set(name string) bool {
	v, ok := g.cfg[name]
	return ok && strings.TrimSpace(v) != ""
}

func (g getter) bool(name string) bool { return parseBool(g.str(name)) }

func (g getter) int(name string) int64 {
	n, _ := strconv.ParseInt(g.str(name), 10, 64)
	return n
}

func (g getter) ms(name string) time.Duration { return time.Duration(g.int(name)) * time.Millisecond }

// parseSecurity reads the security configs with prefix ("" or "local.")
// and checks that they fit together.
func parseSecurity(g getter, prefix string) (Security, error) {
	p := func(n string) string { return prefix + n }
	sec := Security{
		Protocol:                    strings.ToUpper(g.str(p("security.protocol"))),
		SASLMechanism:               strings.ToUpper(g.str(p("sasl.mechanism"))),
		LoginCallbackHandlerClass:   g.str(p("sasl.login.callback.handler.class")),
		OAuthBearerTokenEndpointURL: g.str(p("sasl.oauthbearer.token.endpoint.url")),
		KerberosServiceName:         g.str(p("sasl.kerberos.service.name")),
	}
	if sec.UsesSASL() {
		if !g.set(p("sasl.jaas.config")) {
			return Security{}, configErrorf(p("sasl.jaas.config"),
				"cluster link config %s is required when %s is %s", p("sasl.jaas.config"), p("security.protocol"), sec.Protocol)
		}
		raw := g.str(p("sasl.jaas.config"))
		j, err := ParseJAAS(raw)
		if err != nil { // checked already; kept for safety
			return Security{}, invalid(p("sasl.jaas.config"), raw, err)
		}
		if want := mechanismModule(sec.SASLMechanism); j.Module != want {
			return Security{}, invalid(p("sasl.jaas.config"), raw,
				fmt.Errorf("%s %s needs the login module %s", p("sasl.mechanism"), sec.SASLMechanism, moduleClass(want)))
		}
		sec.JAAS = &j
	}

	t := &sec.TLS
	t.VerifyHostname = strings.EqualFold(g.str(p("ssl.endpoint.identification.algorithm")), "https")
	for _, v := range splitList(g.str(p("ssl.enabled.protocols"))) {
		ver := uint16(tls.VersionTLS12)
		if strings.EqualFold(v, "TLSv1.3") {
			ver = tls.VersionTLS13
		}
		if t.MinVersion == 0 || ver < t.MinVersion {
			t.MinVersion = ver
		}
		if ver > t.MaxVersion {
			t.MaxVersion = ver
		}
	}
	if g.set(p("ssl.truststore.certificates")) {
		certs, err := parseCertificates(g.str(p("ssl.truststore.certificates")))
		if err != nil {
			return Security{}, invalid(p("ssl.truststore.certificates"), "", err)
		}
		t.TrustedCertificates = certs
	}
	chainSet, keySet := g.set(p("ssl.keystore.certificate.chain")), g.set(p("ssl.keystore.key"))
	if chainSet != keySet {
		return Security{}, configErrorf(p("ssl.keystore.key"),
			"cluster link configs %s and %s go together: set both or neither",
			p("ssl.keystore.certificate.chain"), p("ssl.keystore.key"))
	}
	if keySet {
		c, err := keyPair(g.str(p("ssl.keystore.certificate.chain")), g.str(p("ssl.keystore.key")), g.str(p("ssl.key.password")))
		if err != nil {
			return Security{}, invalid(p("ssl.keystore.key"), "", err)
		}
		t.ClientCertificate = c
	}
	return sec, nil
}

// Task names, as the link's REST status reports them.
const (
	taskConsumerOffsetSync = "ConsumerOffsetSync"
	taskAutoCreateMirror   = "AutoCreateMirror"
	taskACLSync            = "AclSync"
)

// TaskProblems returns the misconfigurations that Confluent reports as a
// task error (MISCONFIGURATION_ERROR) rather than refusing the config: a
// sync enabled without filters. The map is keyed by task name
// (ConsumerOffsetSync, AutoCreateMirror, AclSync) and empty when all is
// well.
func TaskProblems(s Settings) map[string]string {
	out := map[string]string{}
	if s.ConsumerOffsetSync && len(s.GroupFilters) == 0 {
		out[taskConsumerOffsetSync] = "consumer.offset.sync.enable is true but no consumer group filters are specified. " +
			"No consumer offsets will be migrated."
	}
	if s.AutoCreateMirrorTopics && len(s.AutoCreateFilters) == 0 {
		out[taskAutoCreateMirror] = "auto.create.mirror.topics.enable is true but auto.create.mirror.topics.filters is not set. " +
			"Please set auto.create.mirror.topics.filters to proceed with auto-creating mirror topics."
	}
	if s.ACLSync && len(s.ACLFilters) == 0 {
		out[taskACLSync] = "ACL migration is enabled but acl.filters is not set. Please set acl.filters to proceed with ACL migration."
	}
	return out
}
