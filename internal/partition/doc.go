// Package partition holds the replica state of the partitions this broker
// stores: the log, the leader epoch, the high watermark, the idempotent
// producer state, and the waiters that long-poll fetches park on.
//
// # Appends
//
// AppendAsLeader is the produce path. It validates a client's record set
// (exactly one v2 batch, CRC, size, no control batch), checks the producer's
// sequence when the batch is idempotent, assigns offsets by rewriting the
// batch's baseOffset, stamps the partition leader epoch (and, for topics with
// message.timestamp.type=LogAppendTime, the append time) and appends the
// bytes to storage. Everything else in the batch is stored exactly as sent,
// compression included.
//
// Idempotence follows Kafka's ProducerStateManager: per producer ID the
// current epoch and the metadata of the last five batches. A batch equal to
// one of those five (same first and last sequence) is a duplicate: it is
// acknowledged with the offset it was first written at and not appended
// again. A lower epoch is INVALID_PRODUCER_EPOCH; a new epoch must start at
// sequence 0; otherwise the first sequence must follow the last one, or the
// batch is OUT_OF_ORDER_SEQUENCE_NUMBER. A producer this partition has no
// state for is accepted at any sequence (its state may have expired).
//
// Producer state survives restarts: Close writes a snapshot next to the log
// (producer-state.json, with the log end offset it describes; written
// without fsync, since a lost or damaged one is only slower); Open loads it
// and replays batch headers after that offset, or replays the whole log when
// there is no usable snapshot (after a crash). The snapshot is removed once
// loaded so that it can never describe a log that was later truncated.
//
// # Directories, and deleting only on purpose
//
// The Manager keeps one directory per partition, "<topic>-<partition>" in
// one of the log directories, holding the log and partition.metadata (the
// topic ID, Kafka's format, written atomically). Each log directory holds
// meta.properties (cluster.id and node.id, Kafka's format): a log directory
// of another cluster or node, or whose file is unreadable, stops the broker
// with a message, because a foreign or freshly created metadata store would
// otherwise name none of its topics and have them all deleted. Each log
// directory also holds one .clean-shutdown marker, written by Close when
// every partition in it closed cleanly and removed at start.
//
// A directory is deleted only when the metadata says its incarnation is
// gone from this broker — the broker saw its topic deleted, or the metadata
// has the topic but does not assign that partition here — and then by
// renaming it to "<topic>-<partition>.<topic id>-delete" and removing it
// after the topic's file.delete.delay.ms (at start:
// log.segment.delete.delay.ms), Kafka's scheme. A directory found at start
// whose incarnation the metadata does not know at all (deleted while the
// broker was down, or a damaged or replaced metadata store: absence proves
// nothing) is renamed "...-stray" and kept, as Kafka keeps stray logs; the
// strait_log_stray_directories metric counts them. A directory whose partition.metadata cannot be read, or whose log
// cannot be opened (ErrDamaged, an I/O error), is never deleted: an
// assigned one is offline (logged at ERROR, reported by Offline and the
// strait_partition_offline metric, retried every RetryOffline, so a repair
// brings it back without a restart), an unassigned one is left in place and
// logged. A partition whose log failed at run time (an fsync error) is
// closed and reopened by Heal, which recovers it from its files.
//
// New partitions are prepared before the metadata names them (Prepare):
// their directory and log are created and kept open, unserved, so that a
// disk that cannot hold them fails the creation with nothing in the
// metadata; Discard removes them if the metadata write fails, and Reconcile
// adopts them once it succeeds. Opening, preparing and closing run on up to
// 32 goroutines at once (the work is mostly waiting for fsyncs).
//
// # Concurrency
//
// A Partition is safe for concurrent use. mu serialises appends and guards
// the producer state; reads go straight to storage, which allows concurrent
// readers. Waiters are signalled after every append without blocking.
package partition
