// Package metadata is Strait's cluster metadata: the cluster ID, topics
// (IDs, partition assignments, config overrides), live brokers and dynamic
// broker configs, kept in etcd and read from a local, watched snapshot.
//
// # Stores
//
// Store is the interface the broker codes against. There are two
// implementations with the same semantics:
//
//   - Etcd, the production store. OpenEmbedded runs a single-member etcd
//     inside the broker process (data in <dir>/etcd, unix sockets only, no
//     ports, so several brokers can share a machine without settings);
//     OpenRemote uses an external etcd cluster (metadata.endpoints).
//   - Memory (NewMemory), for unit tests of other packages.
//
// # Key layout
//
// Every key lives under a prefix, "/strait/" unless configured otherwise
// (RemoteConfig.Prefix), so one etcd cluster can hold several Strait
// clusters side by side:
//
//	/strait/
//	├── cluster/id                    {"version":1,"id":"9SdkfVMmRuyBSVA-aoNZhw"}
//	├── topics/<name>                 {"version":1,"name":"orders","id":"<uuid>",
//	│                                  "partitions":[{"replicas":[1,2,3],"leader":1,"leader_epoch":0}],
//	│                                  "configs":{"retention.ms":"86400000"}}
//	├── brokers/<node id>             {"version":1,"node_id":1,"host":"10.0.0.1","port":9092,"rack":""}
//	│                                  (under the broker's lease, TTL 10 s)
//	└── configs/brokers/<node id>     {"version":1,"configs":{"log.retention.ms":"..."}}
//	    configs/brokers/default       (cluster-wide default; node "" in the API)
//
// cluster/id is created once, by a transaction that succeeds only if the key
// is absent, so stores starting together on an empty etcd agree on one ID.
// The ID has Kafka's format: a random (version 4) UUID in unpadded base64url,
// 22 characters, never starting with '-'. It is never rewritten.
//
// A topic's ID is a random version 4 UUID, never the zero UUID; deleting and
// re-creating a topic gives it a new ID, which is how replicas and mirrors
// tell incarnations apart. Topic names follow Kafka's rule (1 to 249
// characters of [a-zA-Z0-9._-], not "." or "..") and so are safe key segments.
// The index in "partitions" is the partition number; partitions are only
// ever appended.
//
// Keys under the prefix that this version does not know (new record types of
// a later version) are ignored, never deleted.
//
// # Record format
//
// Every value is a JSON object with a "version" number (1 for every record
// this version writes). The rule that makes upgrades and rolling restarts
// lose nothing:
//
//   - A reader decodes the fields it knows and keeps every other field, raw,
//     including unknown fields inside nested objects (each element of
//     "partitions").
//   - A writer rewrites a record by reading it from etcd, changing only the
//     fields its operation is about, and putting every unknown field back
//     unchanged (compare-and-swap on the key's revision, so nothing written
//     in between is lost).
//   - A writer keeps the larger of its own version and the stored one: a
//     record never claims an older format than it was read with. Later
//     versions therefore only add fields; a change an older writer could
//     corrupt needs a new key.
//
// Topic.Extra exposes the unknown top-level fields of a topic. A record that
// does not decode (invalid JSON, no version, a key/name mismatch) is logged
// and reads as absent.
//
// # Consistency
//
// Reads (Topics, Topic, TopicByID, Brokers, BrokerConfigs) never touch etcd:
// they answer from a local snapshot, loaded at open by one ranged Get of the
// prefix and kept current by a Watch from the revision of that Get. If the
// watch ends (history compacted past it, cancelled, leader lost), the store
// reloads the whole prefix and watches again from the new revision, with
// backoff while etcd is unreachable. Reads therefore see a consistent prefix
// of etcd's history, possibly a little behind other writers.
//
// Writes go to etcd as transactions: CreateTopic succeeds only if the key is
// absent (else ErrTopicExists); DeleteTopic fails with ErrTopicNotFound if
// it deleted nothing; AddPartitions, SetTopicConfigs and SetBrokerConfigs
// are compare-and-swap loops on the key's revision. A write returns only
// after the local snapshot has reached the write's revision, so a caller
// reads its own writes, and a Topic returned by CreateTopic carries the
// Revision of the write.
//
// Changes returns a new channel of capacity 1 per call. After every change to
// the snapshot each channel gets a signal if it does not already hold one;
// the store never blocks on a slow reader, which then sees one signal for
// several changes and must re-read the snapshot. Signals are sent before the
// snapshot's revision advances: when a write returns, every channel obtained
// before it holds a signal. Channels are never closed; take one per consumer,
// not one per read.
//
// RegisterBroker writes the broker under a lease of its own (TTL 10 s) kept
// alive until the given context ends or the store closes; then the lease is
// revoked and the broker disappears at once. A broker killed without Close
// disappears when its lease expires. If the lease is lost while the context
// lives (etcd unreachable for longer than the TTL), the registration is
// written again under a new lease. Registering a node ID again replaces the
// entry (the last registration wins).
//
// # Concurrency
//
// Both stores are safe for concurrent use. Returned values are copies the
// caller may keep and modify. The goroutines of an Etcd store, each owned by
// it and joined by Close, are: the watcher; one per registration, keeping its
// lease alive; and, when embedded, a monitor that logs a failing etcd server.
// Close ends them (revoking leases), closes the etcd client and stops the
// embedded server, in that order; it waits for all of it, and may be called
// more than once. After Close, writes fail with ErrClosed and reads answer
// from the last snapshot. A Memory store's goroutines (one per registration)
// follow the same rules.
//
// # Embedded etcd
//
// Files under <dir>/etcd:
//
//	lock          flock held while a store has the directory open (ErrDirLocked)
//	data/         etcd's data directory (WAL, snapshots, bbolt)
//	client.sock   client URL, unix:///<dir>/etcd/client.sock (ClientURLs)
//
// When the socket path is longer than a unix socket path may be, the socket
// goes to a private temporary directory instead, removed by Close. A socket
// left by a killed process is replaced at the next start, which the lock
// makes safe. The peer URL is unix:///<dir>/etcd/peer.sock, but etcd binds
// only the host part of a peer URL, which is empty: on Linux the kernel gives
// the peer listener an anonymous abstract socket, no file and no port. A
// single member never dials its peers, so nothing needs to reach it. etcd's WAL makes the store survive kill -9; start-up takes
// a few hundred milliseconds.
//
// etcd ends its process when a write to its WAL or database fails (no
// space, an I/O error, no descriptors). The embedded store therefore
// refuses writes before that can happen: while the file system of its
// directory has less than EmbeddedConfig.MinFreeBytes free
// (metadata.min.free.bytes, 128 MiB by default: etcd allocates its WAL in
// 64 MiB files), writes fail with ErrUnavailable saying so, removals only
// below a quarter of it, and OpenEmbedded refuses to start; writes resume by
// themselves once space returns. Should etcd hit such an error anyway, its
// Fatal and Panic log entries stop only the goroutine that logged them: the
// store then refuses every write (ErrUnavailable, "restart the broker"),
// cancels those in flight, and keeps answering reads from its snapshot. etcd's own logging reaches the store's logger
// only at warning level and above; benign warnings of this setup and the
// noise of shutting down go to debug level.
package metadata
