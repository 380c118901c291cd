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
// (producer-state.json, with the log end offset it describes); Open loads it
// and replays batch headers after that offset, or replays the whole log when
// there is no usable snapshot (after a crash). The snapshot is removed once
// loaded so that it can never describe a log that was later truncated.
//
// # Concurrency
//
// A Partition is safe for concurrent use. mu serialises appends and guards
// the producer state; reads go straight to storage, which allows concurrent
// readers. Waiters are signalled after every append without blocking.
package partition
