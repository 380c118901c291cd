// Package bench is the load generator behind `strait bench`: a producer and a
// consumer that drive any Kafka-compatible cluster through the franz-go
// client and report throughput and latency.
//
// # Produce
//
// Produce writes records to one topic, creating it with
// ProduceOptions.Partitions partitions if it is missing. The value bytes
// (and up to 1024 distinct keys) are random and generated once before the
// run, so the loop allocates little more than the record itself and the
// client, not the generator, sets the pace. The run ends at the first of:
// Records handed to the client, Duration elapsed, the context cancelled. It
// then waits for every outstanding acknowledgement (after a cancellation at
// most DrainTimeout) and closes the client, so that every record ends in
// exactly one of
//
//	Sent = Acked + Errors + Aborted
//
// where Aborted records were failed by the run's own stop, not by the
// cluster. A rejected record does not stop the run; Produce returns
// ErrRecordsFailed along with the full result.
//
// Each record's timestamp is set just before the Produce call, and the ack
// callback records now minus that timestamp, so latency covers waiting for
// buffer space, lingering, the request and the acknowledgement. Without a
// Rate the buffer is always full and latency measures queueing; measure
// latency at a Rate below saturation.
//
// # Consume
//
// Consume reads every partition of a topic from its log start offset with
// direct partition assignment (no consumer group). Before the consuming
// client is created, a separate client lists the partitions and their start
// and end offsets; the end offsets are the targets of UntilEnd. Elapsed and
// FirstRecord are measured from the creation of the consuming client, so
// FirstRecord includes connecting and the first fetch round trip.
//
// # Units
//
// MB is 10^6 bytes and MiB is 2^20 bytes; both are reported. Bytes count
// record keys and values only, not batch or protocol framing.
//
// # Histogram
//
// Histogram is a fixed log-linear bucket layout in the manner of
// HdrHistogram, over nanoseconds:
//
//	value v                 bucket index                          width
//	v < 128                 v                                     1
//	2^e <= v < 2^(e+1)      (e-6)*128 + (v >> (e-7)) - 128         2^(e-7)
//
// Each power of two is split into 128 equal buckets, so a bucket is never
// wider than 1/128 of its values: a quantile, reported as the top of its
// bucket clamped to the exact minimum and maximum, is never below the
// exact quantile and at most 0.78% above it (HistogramRelativeError).
// 7296 buckets cover every non-negative int64 in a fixed 57 KiB.
//
// # Concurrency
//
// Produce and Consume may run concurrently with each other; each owns its
// clients and returns only after they are closed and every client callback
// has run. A Histogram is not safe for concurrent use.
package bench
