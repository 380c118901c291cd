// Package link implements cluster links and mirror topics: a destination
// cluster (this one) pulls topics from a source Kafka cluster into read-only
// mirror topics whose records have the source's partitions, offsets and batch
// bytes.
//
// # Objects
//
// A link is stored in the cluster metadata (metadata.Link) with its configs,
// secrets sealed (linkconf.Sealer). A mirror topic is an ordinary topic whose
// metadata carries a metadata.Mirror: the link, the source topic and its
// topic ID, the persisted state and, per partition, where mirroring started.
//
// # States
//
// Persisted mirror states are ACTIVE, PAUSED, FAILED, LINK_FAILED,
// PENDING_STOPPED and STOPPED. Two more are derived when describing, never
// stored: LINK_PAUSED while the link has cluster.link.paused=true, and
// SOURCE_UNAVAILABLE while the link's availability check has failed
// availability.check.consecutive.failure.threshold times in a row (it goes
// back to ACTIVE by itself). A topic-level problem with the source (topic
// missing, topic ID changed, fewer partitions) stops fetching at once and is
// reported as the mirror's error; if it lasts cluster.link.retry.timeout.ms
// the mirror becomes FAILED. STOPPED is terminal.
//
//	         pause              resume
//	ACTIVE ---------> PAUSED ---------> ACTIVE
//	  |  \                                 (derived: LINK_PAUSED, SOURCE_UNAVAILABLE)
//	  |   `-- source problem > retry timeout --> FAILED
//	  `-- promote / failover --> PENDING_STOPPED --> STOPPED
//
// # Data path
//
// Each link has a runner; it owns a franz-go client to the source, refreshes
// source metadata every metadata.max.age.ms (and on errors), and runs one
// fetcher per source broker that leads mirrored partitions. A fetcher sends
// consumer-style Fetch requests (replica ID -1, READ_UNCOMMITTED, topic IDs
// from v13) for all its partitions at their local log end offsets and hands
// each partition's batches to partition.AppendVerbatim: base offsets, bytes
// and the partition leader epoch are kept as the source wrote them, so the
// mirror's leader-epoch cache is the source's. A fetch at offset N may return
// a batch that starts before N; only batches ending at or after the local
// end are appended. Gaps in offsets (compaction, transaction markers) are
// kept. The local log start offset follows the source's.
//
// Because the epoch cache is the source's, truncation at the source is
// detected as a Kafka follower detects it: before fetching a non-empty
// partition, and whenever the source reports a diverging epoch or an offset
// out of range, the fetcher asks the source OffsetForLeaderEpoch for its
// latest local epoch and truncates the mirror to the answer.
//
// # Source connections
//
// Every source client of a link dials through a sourceDialer, which spaces
// connection attempts per address as Kafka's clients do: after the n-th
// failed attempt in a row, the next starts no sooner than
// reconnect.backoff.ms x 2^(n-1) (at most reconnect.backoff.max.ms, ±20%
// jitter within the two) after the failed one began. An attempt fails when
// the dial fails or the connection ends before the source answers a request
// other than the handshake (ApiVersions, SaslHandshake, SaslAuthenticate);
// such an answer ends the run. While an address fails, one attempt at a
// time is made and other dials wait within their contexts. The link's
// error (describe) names the failing address, its last error and the next
// attempt, and strait_link_source_connection_{attempts,failures}_total
// count them.
//
// # Concurrency
//
// The Manager is safe for concurrent use. Each runner has one control
// goroutine (metadata, availability, config sync, state timeouts) and one
// goroutine per fetcher; all are owned by the runner's context and joined
// when it stops. Lock order: Manager.mu, runner.mu, fetcher.mu, mpart.mu;
// a sourceDialer's lock is innermost (runner.status takes it under
// runner.mu) and its hooks run without it.
package link
