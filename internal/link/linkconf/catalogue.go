package linkconf

import (
	"errors"
	"slices"
	"sort"
	"strconv"
)

// Type is a config's type. The numbers are those of Kafka's DescribeConfigs
// (kmsg.ConfigType), so a caller can put them on the wire as they are.
type Type int8

const (
	TypeBool     Type = 1
	TypeString   Type = 2
	TypeInt      Type = 3
	TypeLong     Type = 5
	TypeList     Type = 7
	TypeClass    Type = 8
	TypePassword Type = 9
)

func (t Type) String() string {
	switch t {
	case TypeBool:
		return "bool"
	case TypeString:
		return "string"
	case TypeInt:
		return "int"
	case TypeLong:
		return "long"
	case TypeList:
		return "list"
	case TypeClass:
		return "class"
	case TypePassword:
		return "password"
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

// Key describes one cluster link config.
type Key struct {
	Name    string
	Default string // the value used when the config is not set; "" when none
	Type    Type
	// Sensitive values are sealed at rest and never shown (Describe gives
	// no value, Mask and error messages print [hidden]).
	Sensitive bool
	// Immutable configs cannot be changed once the link exists
	// (ValidateUpdate refuses them).
	Immutable bool
	// ReadOnly is what Describe reports: the immutable configs and those
	// Confluent Cloud reports as read-only (the fetch tuning). Strait still
	// lets the non-immutable ones be changed, as Confluent Platform does.
	ReadOnly bool
	// Synonyms are other names of the config. No cluster link config has
	// one today (the reference gives none), so this is always empty.
	Synonyms []string
	Doc      string
}

// keyDef is a Key with its value check.
type keyDef struct {
	Key
	// check validates a value that is set (trimmed unless the type is
	// password); it returns the reason a value is bad. nil accepts any value.
	check func(v string) error
}

// Period configs (sync intervals, availability checks, metadata refresh)
// may not be shorter than this: Confluent limits the syncs to at most one
// per second.
const minPeriodMs = 1000

// catalogue is every cluster link config, by name.
var catalogue = buildCatalogue()

// catalogueNames is the catalogue's names, sorted.
var catalogueNames = func() []string {
	names := make([]string, 0, len(catalogue))
	for n := range catalogue {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}()

// Keys returns every cluster link config, sorted by name.
func Keys() []Key {
	out := make([]Key, 0, len(catalogueNames))
	for _, n := range catalogueNames {
		out = append(out, catalogue[n].Key.clone())
	}
	return out
}

// Lookup returns the config named name.
func Lookup(name string) (Key, bool) {
	d, ok := catalogue[name]
	if !ok {
		return Key{}, false
	}
	return d.Key.clone(), true
}

func (k Key) clone() Key {
	k.Synonyms = slices.Clone(k.Synonyms)
	if k.Synonyms == nil {
		k.Synonyms = []string{}
	}
	return k
}

func buildCatalogue() map[string]*keyDef {
	m := map[string]*keyDef{}
	add := func(d keyDef) *keyDef {
		if _, dup := m[d.Name]; dup {
			panic("linkconf: duplicate config " + d.Name)
		}
		if d.Type == TypePassword {
			d.Sensitive = true
		}
		if d.Immutable {
			d.ReadOnly = true
		}
		m[d.Name] = &d
		return &d
	}
	ro := true

	// Link topology.
	add(keyDef{Key: Key{Name: "link.mode", Type: TypeString, Default: LinkModeDestination, Immutable: true,
		Doc: "Role of this link object: DESTINATION (this cluster pulls from the remote one), SOURCE or BIDIRECTIONAL. " +
			"Strait supports DESTINATION links only so far; SOURCE and BIDIRECTIONAL are refused. Fixed at creation."},
		check: enumCheck([]string{LinkModeDestination, "SOURCE", "BIDIRECTIONAL"}, map[string]string{
			"SOURCE":        "SOURCE links are not supported yet; Strait supports DESTINATION links only",
			"BIDIRECTIONAL": "BIDIRECTIONAL links are not supported yet; Strait supports DESTINATION links only",
		})})
	add(keyDef{Key: Key{Name: "connection.mode", Type: TypeString, Default: ConnectionModeOutbound, Immutable: true,
		Doc: "OUTBOUND: this cluster opens the connections to the remote cluster. INBOUND (the remote cluster " +
			"connects in, for source-initiated links) is not supported yet. Fixed at creation."},
		check: enumCheck([]string{ConnectionModeOutbound, "INBOUND"}, map[string]string{
			"INBOUND": "INBOUND connections are not supported yet; Strait links connect OUTBOUND to the source",
		})})
	add(keyDef{Key: Key{Name: "remote.link.connection.mode", Type: TypeString, Immutable: true,
		Doc: "Connection mode of the peer link object of a bidirectional pair (INBOUND or OUTBOUND). " +
			"Accepted for compatibility; it has no effect until bidirectional links are supported. Fixed at creation."},
		check: enumCheck([]string{"", "INBOUND", "OUTBOUND"}, nil)})
	add(keyDef{Key: Key{Name: "bootstrap.servers", Type: TypeList,
		Doc: "Comma-separated HOST:PORT addresses of the remote (source) cluster. Required."},
		check: checkBootstrap})
	add(keyDef{Key: Key{Name: "cluster.link.prefix", Type: TypeString, Immutable: true,
		Doc: "Prefix of mirror topic names: a mirror of source topic t is named prefix+t. Empty means mirror " +
			"topics keep the source names. Fixed at creation."},
		check: checkPrefix})
	add(keyDef{Key: Key{Name: "link.prefix", Type: TypeString, ReadOnly: ro,
		Doc: "Read-only alias of cluster.link.prefix. Values written to it are ignored."}})

	// Mirror behaviour.
	add(keyDef{Key: Key{Name: "cluster.link.paused", Type: TypeBool, Default: "false",
		Doc: "Pauses the whole link: no fetching, no syncs; mirror topics report LINK_PAUSED."},
		check: checkBool})
	add(keyDef{Key: Key{Name: "mirror.start.offset.spec", Type: TypeString, Default: StartEarliest,
		Doc: "Where a new mirror topic starts reading the source: earliest, latest, or a timestamp, either " +
			"ISO-8601 with a zone (2024-01-02T03:04:05Z, 2024-01-02T03:04:05.000+01:00) or epoch milliseconds."},
		check: func(v string) error { _, err := ParseStartOffsetSpec(v); return err }})
	add(keyDef{Key: Key{Name: "cluster.link.retry.timeout.ms", Type: TypeInt, Default: "300000", ReadOnly: ro,
		Doc: "How long a retriable per-partition failure (such as a missing source topic) is retried before " +
			"the mirror topic is marked FAILED. If the source topic is deleted and re-created within this " +
			"time, the mirror may hold records of both topics."},
		check: intCheck(0, maxInt32)})
	add(keyDef{Key: Key{Name: "availability.check.ms", Type: TypeInt, Default: "60000",
		Doc: "Period of the source availability probe, in ms (at least 1000)."},
		check: intCheck(minPeriodMs, maxInt32)})
	add(keyDef{Key: Key{Name: "availability.check.consecutive.failure.threshold", Type: TypeInt, Default: "5",
		Doc: "Consecutive failed availability probes after which the link is unavailable and its mirror " +
			"topics report SOURCE_UNAVAILABLE."},
		check: intCheck(1, maxInt32)})
	add(keyDef{Key: Key{Name: "topic.config.sync.ms", Type: TypeInt, Default: "5000",
		Doc: "Period of the TopicConfigsSync task (source topic configs to mirror topics), in ms (at least 1000)."},
		check: intCheck(minPeriodMs, maxInt32)})
	add(keyDef{Key: Key{Name: "topic.config.sync.include", Type: TypeList,
		Doc: "Comma-separated topic configs to sync from source topics in addition to those always synced. " +
			"Configs that are independent per mirror topic (placement, throttled replicas, schema validation, " +
			"tiering, unclean.leader.election.enable, message.downconversion.enable) are refused."},
		check: checkSyncInclude})

	// Consumer offset sync.
	add(keyDef{Key: Key{Name: "consumer.offset.sync.enable", Type: TypeBool, Default: "false",
		Doc: "Runs the ConsumerOffsetSync task: committed offsets of the source groups selected by " +
			"consumer.offset.group.filters are copied for mirror topics. Without filters no group is synced " +
			"and the task reports the problem."},
		check: checkBool})
	add(keyDef{Key: Key{Name: "consumer.offset.sync.ms", Type: TypeInt, Default: "30000",
		Doc: "Period of the consumer offset sync, in ms (at least 1000)."},
		check: intCheck(minPeriodMs, maxInt32)})
	add(keyDef{Key: Key{Name: "consumer.offset.group.filters", Type: TypeString,
		Doc: `Groups whose offsets are synced, as JSON: {"groupFilters":[{"name":"*","patternType":"LITERAL",` +
			`"filterType":"INCLUDE"}]}. A group is synced when a filter matches it and no matching filter excludes it.`},
		check: func(v string) error { _, err := ParseGroupFilters(v); return err }})
	add(keyDef{Key: Key{Name: "consumer.group.prefix.enable", Type: TypeBool, Default: "false",
		Doc: "Gives synced consumer groups the link prefix on this cluster as well."},
		check: checkBool})

	// ACL sync.
	add(keyDef{Key: Key{Name: "acl.sync.enable", Type: TypeBool, Default: "false",
		Doc: "Runs the AclSync task: source ACLs selected by acl.filters are created here, and deleted here " +
			"when they disappear from the source."},
		check: checkBool})
	add(keyDef{Key: Key{Name: "acl.sync.ms", Type: TypeInt, Default: "5000",
		Doc: "Period of the ACL sync, in ms (at least 1000)."},
		check: intCheck(minPeriodMs, maxInt32)})
	add(keyDef{Key: Key{Name: "acl.filters", Type: TypeString,
		Doc: `ACLs to sync, as JSON: {"aclFilters":[{"resourceFilter":{"resourceType":"any","patternType":"any"},` +
			`"accessFilter":{"operation":"any","permissionType":"any"}}]}.`},
		check: func(v string) error { _, err := ParseACLFilters(v); return err }})

	// Auto-create.
	add(keyDef{Key: Key{Name: "auto.create.mirror.topics.enable", Type: TypeBool, Default: "false",
		Doc: "Runs the AutoCreateMirror task: a mirror topic is created for every source topic selected by " +
			"auto.create.mirror.topics.filters, found at each metadata refresh."},
		check: checkBool})
	add(keyDef{Key: Key{Name: "auto.create.mirror.topics.filters", Type: TypeString,
		Doc: `Source topics to mirror automatically, as JSON: {"topicFilters":[{"name":"orders.","patternType":` +
			`"PREFIXED","filterType":"INCLUDE"}]}.`},
		check: func(v string) error { _, err := ParseTopicFilters(v); return err }})

	// Source client tuning. Confluent Cloud reports these read-only.
	add(keyDef{Key: Key{Name: "num.cluster.link.fetchers", Type: TypeInt, Default: "1", ReadOnly: ro,
		Doc: "Fetchers per link per source broker."},
		check: intCheck(1, maxInt32)})
	add(keyDef{Key: Key{Name: "replica.fetch.max.bytes", Type: TypeInt, Default: "5242880", ReadOnly: ro,
		Doc: "Bytes asked for per partition in each fetch from the source."},
		check: intCheck(1, maxFetchBytes)})
	add(keyDef{Key: Key{Name: "replica.fetch.response.max.bytes", Type: TypeInt, Default: "10485760", ReadOnly: ro,
		Doc: "Bytes asked for per fetch response from the source."},
		check: intCheck(1, maxFetchBytes)})
	add(keyDef{Key: Key{Name: "replica.fetch.wait.max.ms", Type: TypeInt, Default: "500", ReadOnly: ro,
		Doc: "How long the source may hold a fetch waiting for data, in ms (Strait asks for at least 10)."},
		check: intCheck(0, maxInt32)})
	add(keyDef{Key: Key{Name: "replica.fetch.min.bytes", Type: TypeInt, Default: "1", ReadOnly: ro,
		Doc: "Bytes the source should gather before answering a fetch."},
		check: intCheck(0, maxInt32)})
	add(keyDef{Key: Key{Name: "replica.fetch.backoff.ms", Type: TypeInt, Default: "1000", ReadOnly: ro,
		Doc: "Pause after a failed fetch, in ms."},
		check: intCheck(0, maxInt32)})
	add(keyDef{Key: Key{Name: "replica.socket.timeout.ms", Type: TypeInt, Default: "30000", ReadOnly: ro,
		Doc: "Socket timeout of fetches, in ms."},
		check: intCheck(1, maxInt32)})
	add(keyDef{Key: Key{Name: "replica.socket.receive.buffer.bytes", Type: TypeInt, Default: "-1",
		Doc: "Socket receive buffer of fetch connections. Accepted for compatibility; Strait leaves the size " +
			"to the operating system (-1)."},
		check: intCheck(-1, maxInt32)})
	add(keyDef{Key: Key{Name: "request.timeout.ms", Type: TypeInt, Default: "30000", ReadOnly: ro,
		Doc: "How long the link waits for a response from the source, in ms (the client keeps it between 100 ms and 15 min)."},
		check: intCheck(1, maxInt32)})
	add(keyDef{Key: Key{Name: "default.api.timeout.ms", Type: TypeInt, Default: "60000",
		Doc: "Overall time budget of one operation against the source, retries included, in ms."},
		check: intCheck(1, maxInt32)})
	add(keyDef{Key: Key{Name: "connections.max.idle.ms", Type: TypeLong, Default: "600000", ReadOnly: ro,
		Doc: "Idle connections to the source are closed after this long, in ms (the client keeps it between 100 ms and 15 min)."},
		check: msCheck(1)})
	add(keyDef{Key: Key{Name: "metadata.max.age.ms", Type: TypeLong, Default: "300000", ReadOnly: ro,
		Doc: "Period of the link's source metadata refresh, which finds new partitions and topics to " +
			"auto-create, in ms (at least 1000; the client refreshes at least hourly)."},
		check: msCheck(minPeriodMs)})
	add(keyDef{Key: Key{Name: "retry.backoff.ms", Type: TypeLong, Default: "100", ReadOnly: ro,
		Doc: "First pause before retrying a failed request to the source, in ms; it doubles, with jitter, up to 1 s."},
		check: msCheck(0)})
	add(keyDef{Key: Key{Name: "reconnect.backoff.ms", Type: TypeLong, Default: "50",
		Doc: "Pause before connecting again to a source broker address after a failed attempt (refused, " +
			"timed out, or closed before the source answered a request), in ms. Each further failure in a row " +
			"doubles it up to reconnect.backoff.max.ms, with 20% random jitter kept within the two; a " +
			"connection that completes a request ends the run. 0 turns the backoff off."},
		check: msCheck(0)})
	add(keyDef{Key: Key{Name: "reconnect.backoff.max.ms", Type: TypeLong, Default: "1000",
		Doc: "Longest pause between connection attempts to one source broker address, in ms. When it is not " +
			"set and reconnect.backoff.ms is larger, reconnect.backoff.ms is used; when it is set below " +
			"reconnect.backoff.ms, it is the fixed pause (as in Kafka)."},
		check: msCheck(0)})
	add(keyDef{Key: Key{Name: "socket.connection.setup.timeout.ms", Type: TypeLong, Default: "10000", ReadOnly: ro,
		Doc: "How long connecting to a source broker may take, in ms."},
		check: msCheck(1)})
	add(keyDef{Key: Key{Name: "socket.connection.setup.timeout.max.ms", Type: TypeLong, Default: "30000", ReadOnly: ro,
		Doc: "Upper bound of the connection setup timeout, in ms."},
		check: msCheck(1)})
	add(keyDef{Key: Key{Name: "client.dns.lookup", Type: TypeString, Default: "use_all_dns_ips",
		Doc: "use_all_dns_ips: every address of a source host name is tried in turn. " +
			"resolve_canonical_bootstrap_servers_only is not supported."},
		check: enumCheck([]string{"use_all_dns_ips", "resolve_canonical_bootstrap_servers_only"}, map[string]string{
			"resolve_canonical_bootstrap_servers_only": "not supported; use use_all_dns_ips",
		})})

	// Security, towards the remote cluster and (for later) the local one.
	for _, d := range securityKeys("", "The remote cluster's") {
		add(d)
	}
	add(keyDef{Key: Key{Name: "local.listener.name", Type: TypeString,
		Doc: "Listener of this cluster that the link uses for source-initiated and bidirectional links. " +
			"Accepted and validated; used once those links are supported."}})
	for _, d := range securityKeys("local.", "For source-initiated and bidirectional links (not supported yet): this cluster's") {
		add(d)
	}
	return m
}

// securityKeys returns the client security configs, with prefix ("" for the
// remote cluster, "local." for this one).
func securityKeys(prefix, whose string) []keyDef {
	later := ""
	if prefix != "" {
		later = " Accepted and validated; used once source-initiated and bidirectional links are supported."
	}
	k := func(name string, t Type, def, doc string, check func(string) error) keyDef {
		return keyDef{Key: Key{Name: prefix + name, Type: t, Default: def, Doc: whose + " " + doc + later}, check: check}
	}
	unsupportedFile := func(use string) func(string) error {
		return func(v string) error {
			if v == "" {
				return nil
			}
			return errors.New("file-based key and trust stores are not supported; put the PEM text in " + prefix + use)
		}
	}
	return []keyDef{
		k("security.protocol", TypeString, "PLAINTEXT",
			"security protocol: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL.",
			enumCheck([]string{"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"}, nil)),
		k("sasl.mechanism", TypeString, MechanismPlain,
			"SASL mechanism: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512. The default is PLAIN, not Kafka's GSSAPI, "+
				"because Strait does not support GSSAPI (nor OAUTHBEARER).",
			enumCheck([]string{MechanismPlain, MechanismScramSHA256, MechanismScramSHA512, "GSSAPI", "OAUTHBEARER"}, map[string]string{
				"GSSAPI":      "GSSAPI (Kerberos) is not supported; use PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512",
				"OAUTHBEARER": "OAUTHBEARER is not supported yet; use PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512",
			})),
		k("sasl.jaas.config", TypePassword, "",
			"SASL login: org.apache.kafka.common.security.plain.PlainLoginModule required username=\"u\" password=\"p\"; "+
				"(ScramLoginModule for SCRAM). Required with SASL_PLAINTEXT and SASL_SSL.",
			func(v string) error { _, err := ParseJAAS(v); return err }),
		k("sasl.login.callback.handler.class", TypeClass, "",
			"SASL login callback handler class. Accepted for compatibility; Strait cannot load Java classes.",
			checkClass),
		k("sasl.oauthbearer.token.endpoint.url", TypeString, "",
			"OAuth token endpoint. Accepted for compatibility; OAUTHBEARER is not supported yet.", nil),
		k("sasl.kerberos.service.name", TypeString, "",
			"Kerberos service name. Accepted for compatibility; GSSAPI is not supported.", nil),
		k("ssl.truststore.certificates", TypePassword, "",
			"trusted CA certificates, PEM. Empty means the system roots.", checkCertificates),
		k("ssl.truststore.type", TypeString, "PEM",
			"trust store type; only PEM (Kafka's default is JKS).", enumCheck([]string{"PEM"}, nil)),
		k("ssl.truststore.location", TypeString, "",
			"trust store file; not supported.", unsupportedFile("ssl.truststore.certificates")),
		k("ssl.truststore.password", TypePassword, "",
			"trust store password; not supported (PEM trust stores have none).", unsupportedFile("ssl.truststore.certificates")),
		k("ssl.keystore.certificate.chain", TypePassword, "",
			"client certificate chain for mutual TLS, PEM, leaf first. Goes with ssl.keystore.key.", checkCertificates),
		k("ssl.keystore.key", TypePassword, "",
			"client private key for mutual TLS, PEM (PKCS#8, encrypted with ssl.key.password if that is set; "+
				"PKCS#1 and SEC 1 keys are accepted unencrypted).", checkKeyPEM),
		k("ssl.key.password", TypePassword, "",
			"password of an encrypted ssl.keystore.key.", nil),
		k("ssl.keystore.type", TypeString, "PEM",
			"key store type; only PEM (Kafka's default is JKS).", enumCheck([]string{"PEM"}, nil)),
		k("ssl.keystore.location", TypeString, "",
			"key store file; not supported.", unsupportedFile("ssl.keystore.key and ssl.keystore.certificate.chain")),
		k("ssl.keystore.password", TypePassword, "",
			"key store password; not supported (use ssl.key.password for an encrypted PEM key).",
			unsupportedFile("ssl.keystore.key and ssl.keystore.certificate.chain")),
		k("ssl.endpoint.identification.algorithm", TypeString, "https",
			"server host name verification: https verifies the name; empty skips only the name check "+
				"(the certificate chain is still verified).",
			enumCheck([]string{"https", ""}, nil)),
		k("ssl.enabled.protocols", TypeList, "TLSv1.2,TLSv1.3",
			"TLS versions that may be negotiated: TLSv1.2, TLSv1.3.", checkTLSVersions),
		k("ssl.protocol", TypeString, "TLSv1.3",
			"TLS protocol (TLSv1.2, TLSv1.3 or TLS). Accepted for compatibility; ssl.enabled.protocols decides.",
			enumCheck([]string{"TLSv1.3", "TLSv1.2", "TLS"}, nil)),
	}
}
