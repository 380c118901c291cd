// Package linkconf is the configuration of a cluster link: the catalogue of
// link configs with their types and defaults, validation, the typed
// Settings the link manager runs on, the filter and JAAS syntaxes, sealing
// of credentials at rest, Describe output, and the franz-go options of the
// link's source client. It holds no state and starts no goroutines; every
// function is safe for concurrent use, and so is a Sealer.
//
// # Catalogue
//
// Keys lists every config Confluent documents for a cluster link, with
// Confluent's names and defaults:
//
//   - topology: link.mode, connection.mode, remote.link.connection.mode,
//     bootstrap.servers, cluster.link.prefix (and its read-only alias
//     link.prefix);
//   - behaviour: cluster.link.paused, mirror.start.offset.spec,
//     cluster.link.retry.timeout.ms, the availability check, the sync tasks
//     (consumer.offset.sync.*, consumer.offset.group.filters,
//     consumer.group.prefix.enable, acl.sync.*, acl.filters,
//     topic.config.sync.*, auto.create.mirror.topics.*);
//   - source client tuning: num.cluster.link.fetchers, replica.fetch.*,
//     request.timeout.ms, metadata.max.age.ms and the other client timeouts;
//   - security towards the source: security.protocol, sasl.*, ssl.*; and the
//     same set under local.* (plus local.listener.name) for source-initiated
//     and bidirectional links, validated now and used once those exist.
//
// A config's value is the one the link sets, else its default; there is no
// other layer. Two defaults differ from Kafka's client defaults because
// Strait lacks what those select: sasl.mechanism defaults to PLAIN (not
// GSSAPI) and ssl.truststore.type / ssl.keystore.type to PEM (not JKS), the
// only store type accepted. Key stores and trust stores are given inline as
// PEM (ssl.truststore.certificates, ssl.keystore.certificate.chain,
// ssl.keystore.key with ssl.key.password for a PKCS#8 encrypted key); the
// file-based *.location configs are refused.
//
// link.mode, connection.mode, remote.link.connection.mode and
// cluster.link.prefix are Immutable: ValidateUpdate refuses to change them.
// Only DESTINATION links connecting OUTBOUND are supported; SOURCE,
// BIDIRECTIONAL and INBOUND are refused with a "not supported yet" reason.
// ReadOnly in Describe marks the immutable configs and those Confluent
// Cloud reports as read-only (the fetch tuning); Strait lets the latter be
// changed, as Confluent Platform does.
//
// # Validation
//
// Validate (at creation) and ValidateUpdate (after a change, given the whole
// new configuration) return a *ConfigError wrapping ErrInvalidConfig whose
// message names the config and the value, never the value of a sensitive
// config:
//
//	unknown cluster link config "x"
//	invalid value "abc" for cluster link config consumer.offset.sync.ms: not an integer
//	invalid value [hidden] for cluster link config sasl.jaas.config: no username option
//	cluster link config cluster.link.prefix cannot be changed after the link is created
//
// Periods (consumer.offset.sync.ms, acl.sync.ms, topic.config.sync.ms,
// availability.check.ms, metadata.max.age.ms) are at least 1000 ms.
// Enumerated values are case-insensitive, as are booleans; values other than
// passwords are trimmed. A sync task enabled without its filters is not a
// validation error: Confluent accepts the config and reports the task in
// error, and TaskProblems gives those messages.
//
// # Filters
//
// consumer.offset.group.filters and auto.create.mirror.topics.filters are
// JSON lists of {name, patternType, filterType}:
//
//	{"groupFilters":[{"name":"*","patternType":"LITERAL","filterType":"INCLUDE"},
//	                 {"name":"tmp-","patternType":"PREFIXED","filterType":"EXCLUDE"}]}
//
// A name is selected when at least one filter matches it and no matching
// filter is an EXCLUDE: exclusion wins, and a name no filter matches is not
// selected. LITERAL matches the name itself, or every name when the name is
// "*"; PREFIXED matches names starting with the filter's name, "*" taken
// literally. patternType is required, filterType defaults to INCLUDE
// (WHITELIST and BLACKLIST are the older spellings), both case-insensitive.
// Unknown JSON fields are errors that name the field. acl.filters is checked
// for shape and Kafka enum values (ParseACLFilters).
//
// # Credentials at rest
//
// Sensitive configs (sasl.jaas.config, the ssl key material and passwords,
// and their local.* twins) are stored sealed. SealConfigs seals them with a
// Sealer made from the broker's cluster.link.secret; OpenConfigs opens them.
// A sealed value is
//
//	enc:v1:<base64 (standard, padded) of>
//	+-----------+------------+-------------------------------------+
//	| salt (16) | nonce (12) | AES-256-GCM ciphertext + tag (16)   |
//	+-----------+------------+-------------------------------------+
//
// The key is PBKDF2-HMAC-SHA512(secret, salt, 100000 iterations, 32 bytes),
// with a fresh random salt and nonce per value; the additional data is the
// format name. A wrong secret and an altered value both fail
// authentication (ErrWrongSecret). Without a secret the broker can still
// keep links that carry no credentials. Mask and Describe never show a
// sensitive value.
//
// # Source client
//
// ClientOpts turns Settings into franz-go options, with Dial as the
// dialer: TCP, then TLS, both within socket.connection.setup.timeout.ms.
// franz-go has no reconnect backoff; the link package wraps Dial with one
// (reconnect.backoff.ms, reconnect.backoff.max.ms: Kafka's defaults, 50 ms
// and 1 s, which the Confluent reference does not override). SASL PLAIN and
// SCRAM-SHA-256/512 take the username and password of sasl.jaas.config,
// whose login module must fit the mechanism (PlainLoginModule for PLAIN,
// ScramLoginModule for SCRAM). TLS verifies the source's certificate chain
// against ssl.truststore.certificates (else the system roots), and its host
// name unless ssl.endpoint.identification.algorithm is empty; even then the
// chain is verified.
package linkconf
